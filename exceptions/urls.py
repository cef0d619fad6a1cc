from django.urls import path

from exceptions import views

app_name = "exceptions"

urlpatterns = [
    path("", views.inbox, name="inbox"),
]

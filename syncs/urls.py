from django.urls import path

from syncs import views

urlpatterns = [
    path("hooks/brightpearl/<str:secret>/", views.brightpearl_webhook, name="brightpearl-webhook"),
]

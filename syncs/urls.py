from django.urls import path

from syncs import views

urlpatterns = [
    # Every vendor, one shape: the vendor's name, then the connection's secret.
    path("hooks/<str:vendor>/<str:secret>/", views.vendor_webhook, name="webhook"),
]

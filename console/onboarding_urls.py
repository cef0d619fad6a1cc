from django.urls import path

from console import brand_settings_views as more
from console import onboarding_views as views

app_name = "onboarding"

urlpatterns = [
    path("", views.onboarding_list, name="list"),
    path("new/", views.brand_step, name="new"),
    path("<int:pk>/", views.resume, name="resume"),
    path("<int:pk>/brand/", views.brand_step, name="brand"),
    path("<int:pk>/connections/", views.connections_step, name="connections"),
    path("<int:pk>/test/", views.test_step, name="test"),
    path("<int:pk>/mappings/", views.mappings_step, name="mappings"),
    path("<int:pk>/flows/", views.flows_step, name="flows"),
    path("<int:pk>/review/", views.review_step, name="review"),
    path("<int:pk>/live/", views.live_step, name="live"),
    path("<int:pk>/people/", more.people_step, name="people"),
    path("<int:pk>/cancel/", more.cancel, name="cancel"),
    path("<int:pk>/settings/", more.brand_settings, name="settings"),
]

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from console import health_views, operating_model, records, views

urlpatterns = [
    path("", views.home, name="home"),
    path("start/", views.landing, name="landing"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", views.logout, name="logout"),
    path("favicon.ico", views.favicon),
    path("healthz", health_views.healthz, name="healthz"),
    path("readyz", health_views.readyz, name="readyz"),
    path("metrics", health_views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("exceptions/", include("exceptions.urls")),
    path("brands/", include("console.history_urls")),
    path("mappings/", include("syncs.mapping_urls")),
    path("onboarding/", include("console.onboarding_urls")),
    path("records/", records.records_search, name="records"),
    path("operating-model/", operating_model.operating_model_index, name="operating_model_index"),
    path(
        "brands/<slug:slug>/operating-model/",
        operating_model.operating_model_page,
        name="operating_model",
    ),
    # The entity key ("order:brightpearl:1001") is one path segment or more: ids may hold "/".
    path("records/<slug:brand>/<path:entity>/", records.record_detail, name="record"),
    path("", include("syncs.urls")),
]

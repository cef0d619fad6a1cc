from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy

from console import health_views, operating_model, records, views

urlpatterns = [
    path("", views.home, name="home"),
    path("overview/live/", views.home_live, name="home_live"),
    path("start/", views.landing, name="landing"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", views.logout, name="logout"),
    # An invited person chooses a password (Django's password-reset confirm view, one-time
    # token); see console/onboarding_people.py.
    path(
        "welcome/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="registration/set_password.html",
            success_url=reverse_lazy("set_password_done"),
        ),
        name="set_password",
    ),
    path(
        "welcome/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="registration/set_password_done.html"
        ),
        name="set_password_done",
    ),
    path("favicon.ico", views.favicon),
    path("healthz", health_views.healthz, name="healthz"),
    path("readyz", health_views.readyz, name="readyz"),
    path("metrics", health_views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("exceptions/", include("exceptions.urls")),
    path("brands/", include("console.history_urls")),
    path("mappings/", include("syncs.mapping_urls")),
    path("catalogue/", include("console.catalogue_urls")),
    path("onboarding/", include("console.onboarding_urls")),
    path("records/", records.records_search, name="records"),
    path("records/import-order/", records.order_import, name="order_import"),
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

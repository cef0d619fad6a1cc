from django.urls import path

from syncs import mapping_views as views

app_name = "mappings"

urlpatterns = [
    path("", views.picker, name="picker"),
    path("<slug:slug>/", views.statuses, name="statuses"),
    path("<slug:slug>/refresh/", views.refresh, name="refresh"),
    path("<slug:slug>/preview/", views.status_preview, name="status_preview"),
    path("<slug:slug>/save/", views.status_save, name="status_save"),
    path("<slug:slug>/attributes/", views.attributes, name="attributes"),
    path("<slug:slug>/attributes/preview/", views.attribute_preview, name="attribute_preview"),
    path("<slug:slug>/attributes/save/", views.attribute_save, name="attribute_save"),
    path("<slug:slug>/values/<slug:kind>/", views.values, name="values"),
    path("<slug:slug>/values/<slug:kind>/preview/", views.value_preview, name="value_preview"),
    path("<slug:slug>/values/<slug:kind>/save/", views.value_save, name="value_save"),
    path("<slug:slug>/history/<int:pk>/revert/", views.revert_preview, name="revert_preview"),
    path("<slug:slug>/history/<int:pk>/revert/save/", views.revert, name="revert"),
]

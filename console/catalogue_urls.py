from django.urls import path

from console import catalogue_views as views

app_name = "catalogue"

urlpatterns = [
    path("", views.catalogue_picker, name="picker"),
    path("<slug:slug>/", views.catalogue_page, name="brand"),
    path("<slug:slug>/gaps.csv", views.catalogue_download, name="csv"),
    path("<slug:slug>/run/", views.catalogue_run, name="run"),
]

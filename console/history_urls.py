from django.urls import path

from console import history_views as views

app_name = "history"

urlpatterns = [
    path("", views.picker, name="picker"),
    path("<slug:slug>/", views.brand_page, name="brand"),
    path("<slug:slug>/runs/", views.runs_page, name="runs"),
    path("<slug:slug>/flows/<str:flow>/", views.flow_page, name="flow"),
    path("<slug:slug>/history.json", views.chart_json, name="data"),
]

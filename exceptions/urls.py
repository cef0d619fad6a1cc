from django.urls import path

from exceptions import salesforce_views, views

app_name = "exceptions"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("bulk/", views.bulk, name="bulk"),
    path("<int:pk>/", views.ticket_detail, name="ticket"),
    path("<int:pk>/retry/", views.ticket_retry_view, name="retry"),
    path("<int:pk>/reassign/", views.ticket_reassign_view, name="reassign"),
    path(
        "<int:pk>/salesforce-keep/",
        salesforce_views.ticket_salesforce_keep_view,
        name="salesforce_keep",
    ),
    path("<int:pk>/resolve/", views.ticket_resolve_view, name="resolve"),
    path("<int:pk>/ignore/", views.ticket_ignore_view, name="ignore"),
    path("<int:pk>/reopen/", views.ticket_reopen_view, name="reopen"),
    path("<int:pk>/comment/", views.ticket_comment_view, name="comment"),
]

from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse

from brands.admin import ReadOnlyAdmin
from brands.audit import audit
from connectors.forms import connection_form_class
from connectors.models import BudgetLease, Connection, RateBudget
from connectors.services import connection_test


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ["brand", "system", "base_url", "status", "last_checked", "last_error"]
    list_filter = [("brand", admin.RelatedOnlyFieldListFilter), "system", "status"]
    search_fields = ["brand__name", "base_url"]
    readonly_fields = ["status", "last_checked", "last_error", "created", "updated"]
    actions = ["test_connections"]
    change_form_template = "admin/connectors/connection/change_form.html"

    def get_form(self, request, obj=None, change=False, **kwargs):
        # An existing connection shows only its own vendor's secret fields; a new one shows
        # every vendor's, and only the chosen vendor's are checked and kept.
        kwargs["form"] = connection_form_class((obj.system,) if obj else None)
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # Who pointed a connection where, and when its secrets were replaced: the trail an
        # agency needs after a leak. Field names and addresses only, never a secret's value.
        audit(
            "connection.changed" if change else "connection.created",
            brand=obj.brand_id,
            actor=request.user,
            target=obj,
            summary=f"In the admin: {form.change_summary()}.",
            **form.audit_detail(),
        )

    def delete_model(self, request, obj):
        self.delete_queryset(request, Connection.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        for conn in queryset.select_related("brand"):
            audit(
                "connection.removed",
                brand=conn.brand_id,
                actor=request.user,
                target=conn,
                summary=f"Deleted in the admin ({conn.base_url}).",
            )
        queryset.delete()

    @admin.action(description="Test the selected connections")
    def test_connections(self, request, queryset):
        for conn in queryset:
            ok, message = connection_test(connection=conn, actor=request.user)
            self.message_user(
                request, f"{conn}: {message}", messages.SUCCESS if ok else messages.ERROR
            )

    def get_urls(self):
        return [
            path(
                "<int:pk>/test/",
                self.admin_site.admin_view(self.test_view),
                name="connectors_connection_test",
            ),
            *super().get_urls(),
        ]

    def test_view(self, request, pk: int):
        conn = get_object_or_404(Connection, pk=pk)
        if request.method != "POST" or not self.has_change_permission(request, conn):
            return redirect(reverse("admin:connectors_connection_change", args=[pk]))
        ok, message = connection_test(connection=conn, actor=request.user)
        self.message_user(request, message, messages.SUCCESS if ok else messages.ERROR)
        return redirect(reverse("admin:connectors_connection_change", args=[pk]))


@admin.register(RateBudget)
class RateBudgetAdmin(admin.ModelAdmin):
    list_display = [
        "brand",
        "system",
        "remaining",
        "limit",
        "window_seconds",
        "requests",
        "throttle_waits",
    ]
    list_filter = [("brand", admin.RelatedOnlyFieldListFilter), "system"]
    readonly_fields = ["requests", "throttle_waits", "updated"]


@admin.register(BudgetLease)
class BudgetLeaseAdmin(ReadOnlyAdmin):
    """Requests in flight against a vendor that caps connections (Mailchimp)."""

    list_display = ["budget", "expires_at"]

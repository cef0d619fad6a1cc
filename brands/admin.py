from django.contrib import admin

from brands.models import AuditEvent, Brand, Membership

admin.site.site_header = "Integration Console — agency admin"
admin.site.site_title = "Integration Console admin"
admin.site.index_title = "Everything the console keeps"


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone", "lag_alert_minutes", "active"]
    list_filter = ["active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "brand", "team"]
    list_filter = [("brand", admin.RelatedOnlyFieldListFilter), "team"]
    search_fields = ["user__username", "user__email", "brand__name"]
    autocomplete_fields = ["user"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created", "brand", "actor", "action", "target", "summary"]
    list_filter = [("brand", admin.RelatedOnlyFieldListFilter), "action"]
    search_fields = ["target", "summary"]
    date_hierarchy = "created"

    # The trail is written by the console only.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the console writes itself: shown for reference, changed only through its pages."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

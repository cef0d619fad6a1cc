from django.contrib import admin

from connectors.forms import connection_form_class
from connectors.models import Connection


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ["brand", "system", "base_url", "status", "last_checked"]
    list_filter = [("brand", admin.RelatedOnlyFieldListFilter), "system", "status"]
    search_fields = ["brand__name", "base_url"]
    readonly_fields = ["status", "last_checked", "last_error", "created", "updated"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        # An existing connection shows only its own vendor's secret fields; a new one shows
        # every vendor's, and only the chosen vendor's are checked and kept.
        kwargs["form"] = connection_form_class((obj.system,) if obj else None)
        return super().get_form(request, obj, change=change, **kwargs)

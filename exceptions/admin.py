"""The agency's side: tune each type's wording and owner; look at tickets (read-only).

Tickets change only through exceptions.services (the owners' pages call them), so every
change leaves its line in the ticket's history. The admin shows tickets and their history
and links to the ticket's page in the console, where the buttons are.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from exceptions.models import ExceptionType, TeamOverride, Ticket, TicketEvent


class ExceptionTypeForm(forms.ModelForm):
    class Meta:
        model = ExceptionType
        fields = [
            "code",
            "title",
            "what_happened",
            "why_it_matters",
            "how_to_fix",
            "owner_team",
            "severity",
            "retryable",
        ]
        help_texts = {
            "code": "The name the flows raise this type by. It cannot change once created: "
            "the flows would stop finding it.",
            "title": "One line the owners read in their inbox, e.g. “Order status has no mapping”.",
            "what_happened": "In plain words, for someone who does not read code or logs.",
            "why_it_matters": "What goes wrong for the business or the customer until it is fixed.",
            "how_to_fix": "The steps the owning team takes. Shown on the ticket page, and when a "
            "retry cannot help.",
            "owner_team": "The team whose inbox new tickets of this type land in. A brand can "
            "name another team below.",
            "severity": "Sorts the inbox (most severe first) and colours the ticket.",
        }


class TeamOverrideInline(admin.TabularInline):
    model = TeamOverride
    extra = 0
    verbose_name = "brand that gives this type to another team"
    verbose_name_plural = "brands that give this type to another team"
    autocomplete_fields = ["brand"]


@admin.register(ExceptionType)
class ExceptionTypeAdmin(admin.ModelAdmin):
    form = ExceptionTypeForm
    list_display = ["title", "code", "owner_team", "severity", "retryable"]
    list_filter = ["owner_team", "severity", "retryable"]
    search_fields = ["title", "code", "what_happened", "how_to_fix"]
    fieldsets = [
        (None, {"fields": ["code", "title", "owner_team", "severity", "retryable"]}),
        (
            "The explanation on every ticket of this type",
            {"fields": ["what_happened", "why_it_matters", "how_to_fix"]},
        ),
    ]
    inlines = [TeamOverrideInline]

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj is not None else []

    # The flows raise types by code; removing one would make them fail. Retune it instead.
    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TeamOverride)
class TeamOverrideAdmin(admin.ModelAdmin):
    list_display = ["brand", "exception_type", "team"]
    list_filter = [("brand", admin.RelatedOnlyFieldListFilter), "team", "exception_type"]
    autocomplete_fields = ["brand", "exception_type"]


class TicketEventInline(admin.TabularInline):
    model = TicketEvent
    fields = ["created", "kind", "actor", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "history line"
    verbose_name_plural = "history"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "title",
        "brand",
        "type",
        "team",
        "assignee",
        "status",
        "occurrences",
        "last_seen",
    ]
    list_display_links = ["id", "title"]
    list_filter = [
        "status",
        ("brand", admin.RelatedOnlyFieldListFilter),
        "type",
        "team",
        "flow",
    ]
    search_fields = ["title", "source_id", "error_code", "error_message", "fingerprint"]
    list_select_related = ["brand", "type", "assignee"]
    date_hierarchy = "last_seen"
    # Counting every ticket of a large install on each page costs more than it tells.
    show_full_result_count = False
    inlines = [TicketEventInline]
    fieldsets = [
        (None, {"fields": ["open_in_console", "title", "brand", "type", "flow", "status"]}),
        ("Ownership", {"fields": ["team", "assignee"]}),
        (
            "The record and the error",
            {
                "fields": [
                    "source_system",
                    "source_id",
                    "source_url",
                    "error_code",
                    "error_message",
                    "snapshot",
                ]
            },
        ),
        (
            "Counts and times",
            {"fields": ["fingerprint", "occurrences", "first_seen", "last_seen", "resolved_at"]},
        ),
    ]

    @admin.display(description="act on it")
    def open_in_console(self, obj: Ticket) -> str:
        url = reverse("exceptions:ticket", args=[obj.pk])
        return format_html(
            '<a href="{}">Open ticket #{} in the console</a> to retry, reassign, resolve, '
            "ignore or comment (you need to be in one of {}'s teams). Tickets change only "
            "there, so each change is kept in the ticket's history.",
            url,
            obj.pk,
            obj.brand,
        )

    def get_readonly_fields(self, request, obj=None):
        return [f for fieldset in self.fieldsets for f in fieldset[1]["fields"]]

    # Read-only: a change here would skip the services and the ticket's history.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TicketEvent)
class TicketEventAdmin(admin.ModelAdmin):
    """Every ticket's history in one list, for the agency: who did what, when."""

    list_display = ["created", "ticket", "kind", "actor", "note"]
    list_filter = ["kind", ("ticket__brand", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["note", "ticket__title"]
    date_hierarchy = "created"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

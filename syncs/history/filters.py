"""The run history's filters, as a django-filter FilterSet (as the inbox's are): each
filter is declared once and gives the form, its validation and the query."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta

import django_filters
from django import forms

from syncs.flows import flow_choices
from syncs.models import RunState, SyncRun, Trigger

KIND_CHOICES = [
    ("check", "Daily checks (every record, on the schedule)"),
    ("full", "Every record (daily checks, backfills)"),
    ("changes", "Changes since the last run"),
    ("records", "Named records (webhooks, retries, sync now)"),
]


class DateInput(forms.DateInput):
    input_type = "date"


class RunFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error(
                "until", "“To” is before “From”: choose a later day, or swap the two dates."
            )
        return cleaned


class RunFilter(django_filters.FilterSet):
    flow = django_filters.ChoiceFilter(
        label="Flow", empty_label="All flows", choices=flow_choices, field_name="flow"
    )
    state = django_filters.ChoiceFilter(
        label="State", empty_label="Any state", choices=RunState.choices, field_name="state"
    )
    trigger = django_filters.ChoiceFilter(
        label="Started by", empty_label="Anything", choices=Trigger.choices, field_name="trigger"
    )
    kind = django_filters.ChoiceFilter(
        label="What it read", empty_label="Anything", choices=KIND_CHOICES, method="filter_kind"
    )
    since = django_filters.DateFilter(label="From (day)", method="filter_since", widget=DateInput)
    until = django_filters.DateFilter(
        label="To (day, included)", method="filter_until", widget=DateInput
    )

    class Meta:
        model = SyncRun
        fields: list[str] = []
        form = RunFilterForm

    def __init__(self, data=None, queryset=None, *, timezone_name: str, flow: str = "", **kwargs):
        """`flow` fixes the flow (the flow's own page): its filter is not offered."""
        super().__init__(data, queryset, **kwargs)
        self.tz = zoneinfo.ZoneInfo(timezone_name)
        if flow:
            del self.filters["flow"]
            self.queryset = self.queryset.filter(flow=flow)

    def filter_kind(self, queryset, name, value):
        if value == "check":
            return queryset.filter(full=True, trigger=Trigger.SCHEDULE)
        if value == "full":
            return queryset.filter(full=True)
        if value == "changes":
            return queryset.filter(full=False, scope=[])
        return queryset.exclude(scope=[])

    # Days are the brand's days: "From 3 March" starts at midnight where the brand is.
    def filter_since(self, queryset, name, value):
        return queryset.filter(queued_at__gte=self._midnight(value))

    def filter_until(self, queryset, name, value):
        return queryset.filter(queued_at__lt=self._midnight(value + timedelta(days=1)))

    def _midnight(self, day) -> datetime:
        return datetime.combine(day, time.min, tzinfo=self.tz)

"""The inbox's filters and sort orders, as a django-filter FilterSet.

The choices come from the person looking (their brands, their brands' people), read once
by the view and handed in, so building the form costs no query of its own.
"""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django import forms
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from brands.models import Team
from exceptions.hooks import flow_choices
from exceptions.models import OPEN_STATUSES, ExceptionType, Severity, Ticket, TicketStatus
from exceptions.selectors import InboxScope

# The team filter's own value for "the teams I am in" (the default); an explicit empty
# value means every team, which is what the overview page's links ask for.
MY_TEAMS = "mine"
# What the inbox shows when the query string says nothing about a filter.
DEFAULTS = {"team": MY_TEAMS, "status": "open"}

STATUS_CHOICES = [
    ("open", "Still to do (open, in progress)"),
    (TicketStatus.IN_PROGRESS, "In progress"),
    (TicketStatus.RESOLVED, "Resolved"),
    (TicketStatus.IGNORED, "Ignored"),
]
AGE_CHOICES = [
    ("24h", "In the last 24 hours"),
    ("7d", "In the last 7 days"),
    ("30d", "In the last 30 days"),
    ("older", "More than 30 days ago"),
]
AGE_LIMITS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
SORT_CHOICES = [
    ("last_seen", "Last seen, newest first"),
    ("first_seen", "First seen, oldest first"),
    ("occurrences", "Most occurrences first"),
    ("severity", "Most severe first"),
]
SORT_ORDERS = {
    "last_seen": ["-last_seen", "-pk"],
    "first_seen": ["first_seen", "pk"],
    "occurrences": ["-occurrences", "-last_seen", "-pk"],
}
SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
}


class InboxFilterForm(forms.Form):
    """The inbox's filter form. A value it does not understand falls back to what the inbox
    shows by default (the tickets still to do, of my teams), never to "any": a mistyped
    link must not quietly list resolved tickets. The form still reports the error."""

    def clean(self):
        cleaned = super().clean()
        fallen_back = {name: value for name, value in DEFAULTS.items() if name in self._errors}
        if fallen_back:
            # The select shows the choice applied, not a blank.
            self.data = self.data.copy()
            for name, value in fallen_back.items():
                cleaned[name] = value
                self.data[self.add_prefix(name)] = value
        return cleaned


def person_label(person) -> str:
    name = person.get_full_name() or person.get_username()
    roles = getattr(person, "roles", None)
    return f"{name} ({', '.join(roles)})" if roles else name


class TicketFilter(django_filters.FilterSet):
    brand = django_filters.ChoiceFilter(
        label="Brand", empty_label="All my brands", method="filter_brand"
    )
    type = django_filters.ChoiceFilter(label="Type", empty_label="All types", method="filter_type")
    team = django_filters.ChoiceFilter(
        label="Owning team", empty_label="All teams", method="filter_team"
    )
    assignee = django_filters.ChoiceFilter(
        label="Assigned to", empty_label="Anyone, or nobody", method="filter_assignee"
    )
    status = django_filters.ChoiceFilter(
        label="Status", empty_label="Any status", choices=STATUS_CHOICES, method="filter_status"
    )
    flow = django_filters.ChoiceFilter(
        label="Flow", empty_label="All flows", choices=flow_choices, field_name="flow"
    )
    age = django_filters.ChoiceFilter(
        label="First seen", empty_label="Any time", choices=AGE_CHOICES, method="filter_age"
    )
    sort = django_filters.ChoiceFilter(
        label="Sort", empty_label=None, choices=SORT_CHOICES, method="filter_sort"
    )

    class Meta:
        model = Ticket
        fields: list[str] = []
        form = InboxFilterForm

    def __init__(
        self,
        data=None,
        queryset=None,
        *,
        scope: InboxScope,
        types: list[ExceptionType],
        people: list,
        now=None,
        **kwargs,
    ):
        super().__init__(data, queryset, **kwargs)
        self.scope = scope
        self.types = types
        self.now = now or timezone.now()
        self._brand_ids = {b.slug: b.pk for b in scope.brands}
        self._type_ids = {t.code: t.pk for t in types}
        self.filters["brand"].extra["choices"] = [(b.slug, b.name) for b in scope.brands]
        self.filters["type"].extra["choices"] = [(t.code, t.title) for t in types]
        self.filters["team"].extra["choices"] = [(MY_TEAMS, "My teams"), *Team.choices]
        self.filters["assignee"].extra["choices"] = [
            ("me", "Me"),
            ("none", "Nobody yet"),
            *[(str(p.pk), person_label(p)) for p in people],
        ]

    # --- the filters ------------------------------------------------------------------
    def filter_brand(self, queryset, name, value):
        return queryset.filter(brand_id=self._brand_ids[value])

    def filter_type(self, queryset, name, value):
        return queryset.filter(type_id=self._type_ids[value])

    def filter_team(self, queryset, name, value):
        if value != MY_TEAMS:
            return queryset.filter(team=value)
        # Each brand with the teams the person is in at that brand, not every pairing.
        mine = Q(pk__in=[])
        for brand_id, teams in self.scope.teams_by_brand.items():
            mine |= Q(brand_id=brand_id, team__in=sorted(teams))
        return queryset.filter(mine)

    def filter_assignee(self, queryset, name, value):
        if value == "me":
            return queryset.filter(assignee=self.scope.user)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        return queryset.filter(assignee_id=int(value))

    def filter_status(self, queryset, name, value):
        if value == "open":
            return queryset.filter(status__in=OPEN_STATUSES)
        return queryset.filter(status=value)

    def filter_age(self, queryset, name, value):
        if value == "older":
            return queryset.filter(first_seen__lt=self.now - AGE_LIMITS["30d"])
        return queryset.filter(first_seen__gte=self.now - AGE_LIMITS[value])

    def filter_sort(self, queryset, name, value):
        if value == "severity":
            ranks = [
                When(type_id=t.pk, then=Value(SEVERITY_RANK.get(t.severity, 0))) for t in self.types
            ]
            # Ranked from the types already in hand: no join to the types table per row.
            rank = Case(*ranks, default=Value(0), output_field=IntegerField())
            return queryset.alias(rank=rank).order_by("-rank", "-last_seen", "-pk")
        return queryset.order_by(*SORT_ORDERS[value])

    # --- for the view -------------------------------------------------------------------
    def queryset_without(self, *names: str) -> QuerySet[Ticket]:
        """The filtered tickets ignoring some filters (and the sort), for the type counts:
        with a type chosen, the other types still show how many tickets they hold."""
        self.errors  # noqa: B018 — validates the form, as `qs` does
        queryset = self.queryset.all()
        for name, value in self.form.cleaned_data.items():
            if name in names or name == "sort":
                continue
            queryset = self.filters[name].filter(queryset, value)
        return queryset

    @property
    def selected_type(self) -> ExceptionType | None:
        self.errors  # noqa: B018 — cleaned_data holds the valid filters only
        code = self.form.cleaned_data.get("type")
        return next((t for t in self.types if t.code == code), None)

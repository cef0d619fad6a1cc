"""Read-only queries behind the owners' pages. Nothing here changes a ticket."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, QuerySet

from brands.models import Brand, Membership, Team
from exceptions.models import ExceptionType, Ticket


@dataclass
class InboxScope:
    """Who is looking: their brands and their teams in each, read once per request."""

    user: object
    brands: list[Brand] = field(default_factory=list)
    teams_by_brand: dict[int, set[str]] = field(default_factory=dict)

    @property
    def brand_ids(self) -> list[int]:
        return [b.pk for b in self.brands]

    @property
    def teams(self) -> set[str]:
        return set().union(*self.teams_by_brand.values()) if self.teams_by_brand else set()

    def brand(self, brand_id: int) -> Brand | None:
        return next((b for b in self.brands if b.pk == brand_id), None)


def inbox_scope(user) -> InboxScope:
    """One query: the user's memberships with their brands."""
    scope = InboxScope(user=user)
    if not user.is_authenticated:
        return scope
    seen: dict[int, Brand] = {}
    for membership in (
        Membership.objects.filter(user=user).select_related("brand").order_by("brand__name")
    ):
        seen.setdefault(membership.brand_id, membership.brand)
        scope.teams_by_brand.setdefault(membership.brand_id, set()).add(membership.team)
    scope.brands = list(seen.values())
    return scope


def people_of_brands(brands: list[Brand]) -> list:
    """Everyone active in any of these brands, each with `.roles` ("Finance at Acme"):
    the choices of the assignee filter and of the bulk reassign. One query."""
    if not brands:
        return []
    names = {b.pk: b.name for b in brands}
    people: dict[int, Any] = {}
    for membership in (
        Membership.objects.filter(brand_id__in=list(names), user__is_active=True)
        .select_related("user")
        .order_by("user__username", "brand__name", "team")
    ):
        person = people.setdefault(membership.user_id, membership.user)
        roles = person.__dict__.setdefault("roles", [])
        label = Team(membership.team).label
        roles.append(f"{label} at {names[membership.brand_id]}" if len(names) > 1 else label)
    return list(people.values())


def assignable_people(brand: Brand) -> list[tuple[object, list[str]]]:
    """A brand's active people with the teams they are in, for the reassign form."""
    people: dict[int, tuple[object, list[str]]] = {}
    for membership in (
        Membership.objects.filter(brand=brand, user__is_active=True)
        .select_related("user")
        .order_by("user__username", "team")
    ):
        entry = people.setdefault(membership.user_id, (membership.user, []))
        entry[1].append(Team(membership.team).label)
    return list(people.values())


def type_counts(queryset: QuerySet[Ticket]) -> dict[int, int]:
    """Tickets per type for a filtered queryset: one GROUP BY, never one COUNT per type."""
    return dict(
        queryset.order_by()
        .values_list("type_id")
        .annotate(n=Count("pk"))
        .values_list("type_id", "n")
    )


def exception_types() -> list[ExceptionType]:
    return list(
        ExceptionType.objects.only("pk", "code", "title", "severity", "owner_team", "retryable")
    )

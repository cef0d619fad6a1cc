"""Brands (the agency's clients, and the tenant of every other row), their people and the
audit trail. The bottom layer: every app imports it, and it imports no other app."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            f"“{value}” is not a time zone name. Use a name such as Europe/London "
            "or America/New_York."
        )


class Team(models.TextChoices):
    MARKETING = "marketing", "Marketing"
    OPERATIONS = "operations", "Operations"
    FINANCE = "finance", "Finance"
    ECOMMERCE = "ecommerce", "Ecommerce"
    CUSTOMER_SERVICE = "customer_service", "Customer service"
    ADMIN = "admin", "Admin"


class BrandQuerySet(models.QuerySet):
    def for_user(self, user) -> BrandQuerySet:
        """The brands this user belongs to: the tenant wall every view starts from."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user).distinct()


class Brand(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(
        max_length=60, unique=True, help_text="Short name used in URLs and commands."
    )
    timezone = models.CharField(
        max_length=64,
        default="Europe/London",
        validators=[validate_timezone],
        help_text="The brand's local time, used for schedules and digests.",
    )
    active = models.BooleanField(
        default=True, help_text="An inactive brand runs no flows and sends no digests."
    )
    lag_alert_minutes = models.PositiveIntegerField(
        "lag alert (minutes)",
        default=30,
        help_text="A flow whose oldest unsynced change has waited longer than this (or than "
        "two of its schedule's intervals, if longer) makes the brand Degraded on the overview.",
    )
    created = models.DateTimeField(auto_now_add=True)

    objects = BrandQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "client brand"

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """One user in one team of one brand. A person in two teams has two rows."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="memberships")
    team = models.CharField(max_length=32, choices=Team.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "brand", "team"], name="one_membership_per_team"
            )
        ]
        ordering = ["brand__name", "team"]
        verbose_name = "team membership"

    def __str__(self) -> str:
        return f"{self.user} — {self.get_team_display()} at {self.brand}"


def user_teams(user, brand: Brand | None = None) -> set[str]:
    """The teams a user is in, for one brand or across all of theirs."""
    if not user.is_authenticated:
        return set()
    qs = Membership.objects.filter(user=user)
    if brand is not None:
        qs = qs.filter(brand=brand)
    return set(qs.values_list("team", flat=True))


def is_brand_admin(user, brand: Brand) -> bool:
    """Is this person an admin of this brand: in its Admin team (going live puts whoever
    took it live there), or a superuser, who is an admin of every brand?"""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser) or Team.ADMIN in user_teams(user, brand)


def brand_admins(brand: Brand) -> list:
    """The people in the brand's Admin team, to name when someone else is refused."""
    from django.contrib.auth import get_user_model

    return list(
        get_user_model()
        .objects.filter(memberships__brand=brand, memberships__team=Team.ADMIN, is_active=True)
        .distinct()
        .order_by("username")
    )


class AuditEvent(models.Model):
    """A trace of every state change that matters: who did what, to what, and when."""

    created = models.DateTimeField(auto_now_add=True, db_index=True)
    brand = models.ForeignKey(
        Brand, null=True, blank=True, on_delete=models.CASCADE, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text="Empty when the console itself acted (a schedule, a webhook).",
    )
    action = models.CharField(max_length=60, db_index=True)
    target = models.CharField(max_length=200, blank=True)
    summary = models.CharField(max_length=500, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = "audit event"

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M} {self.action} {self.target}"

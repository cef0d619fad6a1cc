"""Exception tickets: what went wrong, in words the owning team can act on."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from brands.models import Brand, Membership, Team


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class ExceptionType(models.Model):
    """One kind of problem, with its plain-English explanation and its owner."""

    code = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=120)
    what_happened = models.TextField("what happened")
    why_it_matters = models.TextField("why it matters")
    how_to_fix = models.TextField("how to fix it")
    owner_team = models.CharField("owning team", max_length=32, choices=Team.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    retryable = models.BooleanField(
        "a retry can help",
        default=True,
        help_text="Off when only a change of data or settings can fix it "
        "(a retry would fail the same way).",
    )

    class Meta:
        ordering = ["title"]
        verbose_name = "exception type"

    def __str__(self) -> str:
        return self.title

    def team_for(self, brand: Brand, default: str = "") -> str:
        """The brand's own choice of team for this type, else the team the raiser names
        (a value map's kind names its owner), else the type's."""
        override = self.team_overrides.filter(brand=brand).values_list("team", flat=True).first()
        return override or default or self.owner_team


class TeamOverride(models.Model):
    """A brand that wants another team to own one type of exception."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="team_overrides")
    exception_type = models.ForeignKey(
        ExceptionType, on_delete=models.CASCADE, related_name="team_overrides"
    )
    team = models.CharField(max_length=32, choices=Team.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "exception_type"], name="one_override_per_type"
            )
        ]
        verbose_name = "owning team override"

    def __str__(self) -> str:
        return f"{self.brand}: {self.exception_type} → {self.get_team_display()}"


class TicketStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    RESOLVED = "resolved", "Resolved"
    IGNORED = "ignored", "Ignored"


OPEN_STATUSES = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS)


class TicketQuerySet(models.QuerySet):
    def for_user(self, user) -> TicketQuerySet:
        """The tickets of the brands this user belongs to: the tenant wall of every view.

        A subquery on the user's memberships, not a join, so the ticket indexes stay usable.
        """
        if not user.is_authenticated:
            return self.none()
        return self.filter(brand_id__in=Membership.objects.filter(user=user).values("brand_id"))

    def open(self) -> TicketQuerySet:
        return self.filter(status__in=OPEN_STATUSES)


class Ticket(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="tickets")
    type = models.ForeignKey(ExceptionType, on_delete=models.PROTECT, related_name="tickets")
    flow = models.CharField(max_length=40, blank=True)
    title = models.CharField(max_length=300, help_text="This ticket's problem in one line.")
    # The record the problem is about (an order, a contact, a status, an email address).
    source_system = models.CharField(max_length=20, blank=True)
    source_id = models.CharField(max_length=120, blank=True)
    source_url = models.URLField(max_length=500, blank=True)
    snapshot = models.JSONField(
        default=dict, blank=True, help_text="The data involved; never secrets."
    )
    error_code = models.CharField(max_length=120, blank=True)
    error_message = models.TextField(blank=True)
    # brand:type:system:record — a repeat raises the count on this ticket, never a second one.
    fingerprint = models.CharField(max_length=255, unique=True)
    occurrences = models.PositiveIntegerField(default=1)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(db_index=True)
    status = models.CharField(
        max_length=12, choices=TicketStatus.choices, default=TicketStatus.OPEN
    )
    team = models.CharField("owning team", max_length=32, choices=Team.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-last_seen"]
        indexes = [
            models.Index(fields=["brand", "status", "team", "-last_seen"], name="ticket_inbox"),
            models.Index(fields=["brand", "source_system", "source_id"], name="ticket_record"),
            models.Index(fields=["status", "-last_seen"], name="ticket_status_seen"),
            # The inbox's counts per type: read from this index alone, never the rows.
            models.Index(fields=["brand", "status", "team", "type"], name="ticket_facets"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def safe_source_url(self) -> str:
        """The record's link, only if it is a web address (never a javascript: URL)."""
        url = self.source_url or ""
        return url if url.startswith(("https://", "http://")) else ""


class EventKind(models.TextChoices):
    RAISED = "raised", "Raised"
    SEEN_AGAIN = "seen_again", "Seen again"
    REASSIGNED = "reassigned", "Reassigned"
    RETRIED = "retried", "Retry requested"
    RETRY_FAILED = "retry_failed", "Retry failed"
    RESOLVED = "resolved", "Resolved"
    AUTO_RESOLVED = "auto_resolved", "Resolved itself"
    REOPENED = "reopened", "Reopened"
    IGNORED = "ignored", "Ignored"
    COMMENTED = "commented", "Comment"


class TicketEvent(models.Model):
    """The ticket's history: every change, with who and when."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    created = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text="Empty when the console itself acted.",
    )
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    note = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on #{self.ticket_id}"

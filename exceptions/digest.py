"""The daily digest: each team of each active brand gets its open tickets, grouped by type,
at 07:00 in the brand's own time zone (an hourly schedule sends to the brands it is 07:00 for).

Sent through Django's e-mail backend (the console backend in development, SMTP in
production). A team with nothing open, or with nobody to write to, gets nothing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import Count, Q
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from brands.audit import audit
from brands.models import AuditEvent, Brand, Membership, Team
from exceptions.models import OPEN_STATUSES, ExceptionType, Severity, Ticket

logger = logging.getLogger("exceptions.digest")

# How many of each type's newest tickets the e-mail names; the link shows the rest.
NEWEST_LISTED = 3
SEVERITY_ORDER = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW]
# The local hour, in each brand's time zone, at which the schedule sends the digest.
DIGEST_HOUR = 7


@dataclass
class DigestGroup:
    type: ExceptionType
    count: int
    new: int
    link: str
    newest: list[dict] = field(default_factory=list)


@dataclass
class Digest:
    brand: Brand
    team: str
    recipients: list[str]
    groups: list[DigestGroup]
    inbox_link: str

    @property
    def total(self) -> int:
        return sum(g.count for g in self.groups)

    @property
    def new(self) -> int:
        return sum(g.new for g in self.groups)

    @property
    def team_label(self) -> str:
        return Team(self.team).label

    @property
    def subject(self) -> str:
        s = "" if self.total == 1 else "s"
        return f"{self.brand.name} · {self.team_label}: {self.total} open exception ticket{s}"


def _url(path: str, **params: str) -> str:
    base = settings.CONSOLE_PUBLIC_URL.rstrip("/")
    return f"{base}{path}" + (f"?{urlencode(params)}" if params else "")


def digests_for(brand: Brand, *, now: datetime) -> list[Digest]:
    """The digests one brand's teams would get now (what `digest_send` sends)."""
    rows = (
        Ticket.objects.filter(brand=brand, status__in=OPEN_STATUSES)
        .order_by()
        .values("team", "type_id")
        .annotate(n=Count("pk"), new=Count("pk", filter=Q(first_seen__gte=now - timedelta(days=1))))
    )
    by_team: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_team[row["team"]].append(row)
    if not by_team:
        return []
    recipients: dict[str, set[str]] = defaultdict(set)
    for team, email in (
        Membership.objects.filter(brand=brand, user__is_active=True, team__in=list(by_team))
        .exclude(user__email="")
        .values_list("team", "user__email")
    ):
        recipients[team].add(email)
    types = ExceptionType.objects.in_bulk({r["type_id"] for rs in by_team.values() for r in rs})
    inbox = reverse("exceptions:inbox")
    digests = []
    for team in sorted(by_team):
        if not recipients.get(team):
            logger.warning(
                "digest: %s's %s team has open tickets but nobody with an e-mail address",
                brand,
                team,
            )
            continue
        groups = []
        for row in by_team[team]:
            ex_type = types[row["type_id"]]
            newest = list(
                Ticket.objects.filter(
                    brand=brand, team=team, type_id=ex_type.pk, status__in=OPEN_STATUSES
                )
                .order_by("-last_seen", "-pk")
                .values("pk", "title", "last_seen", "occurrences")[:NEWEST_LISTED]
            )
            for ticket in newest:
                ticket["link"] = _url(reverse("exceptions:ticket", args=[ticket["pk"]]))
            groups.append(
                DigestGroup(
                    type=ex_type,
                    count=row["n"],
                    new=row["new"],
                    newest=newest,
                    link=_url(inbox, brand=brand.slug, team=team, status="open", type=ex_type.code),
                )
            )
        groups.sort(key=lambda g: (SEVERITY_ORDER.index(g.type.severity), -g.count))
        digests.append(
            Digest(
                brand=brand,
                team=team,
                recipients=sorted(recipients[team]),
                groups=groups,
                inbox_link=_url(inbox, brand=brand.slug, team=team, status="open"),
            )
        )
    return digests


def _today_from(brand: Brand, now: datetime) -> datetime | None:
    """Today's 07:00 in the brand's time zone, once it has come."""
    local = now.astimezone(ZoneInfo(brand.timezone))
    if local.hour < DIGEST_HOUR:
        return None
    return local.replace(hour=DIGEST_HOUR, minute=0, second=0, microsecond=0)


def digest_due(brand: Brand, now: datetime) -> bool:
    """It is 07:00 or later in the brand's time zone and today's digest has not gone yet.

    "Or later": a cluster that was down at 07:00 sends at its next hourly run, not never.
    """
    since = _today_from(brand, now)
    return since is not None and not (
        AuditEvent.objects.filter(action="digest.run", brand=brand, created__gte=since).exists()
    )


def digest_send(*, now: datetime | None = None, due_only: bool = False) -> int:
    """Send the digests: every active brand's now, or with `due_only` (the hourly schedule)
    those of the brands whose 07:00 has come and not been served. Returns how many e-mails
    went out."""
    now = now or timezone.now()
    sent = 0
    with get_connection() as connection:
        for brand in Brand.objects.filter(active=True).order_by("name"):
            served: set[str] = set()
            if due_only:
                if not digest_due(brand, now):
                    continue
                # Teams that got today's digest already, before a send to another failed.
                served = set(
                    AuditEvent.objects.filter(
                        action="digest.sent", brand=brand, created__gte=_today_from(brand, now)
                    ).values_list("target", flat=True)
                )
            teams = failed = 0
            for digest in digests_for(brand, now=now):
                if digest.team_label in served:
                    continue
                context = {"digest": digest, "now": now}
                message = EmailMultiAlternatives(
                    subject=digest.subject,
                    body=render_to_string("exceptions/email/digest.txt", context),
                    to=digest.recipients,
                    connection=connection,
                )
                message.attach_alternative(
                    render_to_string("exceptions/email/digest.html", context), "text/html"
                )
                try:
                    message.send()
                except Exception:
                    # One unreachable team must not cost every other team its digest.
                    logger.exception("digest: could not send to %s's %s team", brand, digest.team)
                    failed += 1
                    continue
                sent += 1
                teams += 1
                audit(
                    "digest.sent",
                    brand=brand,
                    target=digest.team_label,
                    summary=(
                        f"{digest.total} open ticket{pluralize(digest.total)} to "
                        f"{len(digest.recipients)} "
                        f"{'person' if len(digest.recipients) == 1 else 'people'}"
                    ),
                    recipients=len(digest.recipients),
                    tickets=digest.total,
                )
            # Today's digest is done for this brand, even with nothing to send; not while a
            # team's could not be sent (the hourly schedule tries that team again).
            if not failed:
                audit(
                    "digest.run",
                    brand=brand,
                    summary=f"Digest sent to {teams} team{pluralize(teams)}.",
                )
    return sent

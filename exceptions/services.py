"""The only way anything changes a ticket. Every change leaves a TicketEvent with who and when."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from console.models import Brand, Membership, Team
from exceptions.models import (
    OPEN_STATUSES,
    EventKind,
    ExceptionType,
    Ticket,
    TicketEvent,
    TicketStatus,
)

# A ticket seen again and again gets one history line per hour, not one per run.
SEEN_AGAIN_EVERY = timedelta(hours=1)


class TicketActionError(Exception):
    """An action that cannot apply; the message says why, for the person who asked."""


def fingerprint(brand_id: int, type_code: str, source_system: str, source_id: str) -> str:
    return f"{brand_id}:{type_code}:{source_system}:{source_id}"


def _event(ticket: Ticket, kind: str, actor=None, note: str = "", **detail: Any) -> TicketEvent:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return TicketEvent.objects.create(
        ticket=ticket, kind=kind, actor=user, note=note, detail=detail
    )


@transaction.atomic
def ticket_raise(
    *,
    brand: Brand | int,
    type_code: str,
    title: str,
    flow: str = "",
    source_system: str = "",
    source_id: str = "",
    source_url: str = "",
    snapshot: dict | None = None,
    error_code: str = "",
    error_message: str = "",
    retry_of: Ticket | None = None,
) -> Ticket:
    """Open a ticket, or count a repeat on the one that exists (reopening it if resolved)."""
    brand_id = brand.pk if isinstance(brand, Brand) else brand
    ex_type = ExceptionType.objects.get(code=type_code)
    now = timezone.now()
    key = fingerprint(brand_id, type_code, source_system, str(source_id))
    ticket = Ticket.objects.select_for_update().filter(fingerprint=key).first()
    values = {
        "title": title[:300],
        "flow": flow,
        "source_url": source_url,
        "snapshot": snapshot or {},
        "error_code": error_code[:120],
        "error_message": error_message,
        "last_seen": now,
    }
    if ticket is None:
        ticket = Ticket.objects.create(
            brand_id=brand_id,
            type=ex_type,
            source_system=source_system,
            source_id=str(source_id),
            fingerprint=key,
            team=ex_type.team_for(Brand(pk=brand_id)),
            **values,
        )
        _event(ticket, EventKind.RAISED, note=error_message or title)
        return ticket

    changed_error = ticket.error_message != error_message
    for field, value in values.items():
        setattr(ticket, field, value)
    ticket.occurrences += 1
    if ticket.status == TicketStatus.RESOLVED:
        ticket.status = TicketStatus.OPEN
        ticket.resolved_at = None
        ticket.save()
        _event(
            ticket, EventKind.REOPENED, note=f"The same problem came back: {error_message or title}"
        )
        return ticket
    ticket.save()
    if retry_of is not None and retry_of.pk == ticket.pk:
        _event(ticket, EventKind.RETRY_FAILED, note=error_message or title)
        return ticket
    last = ticket.events.filter(kind=EventKind.SEEN_AGAIN).order_by("-created").first()
    if changed_error or last is None or now - last.created >= SEEN_AGAIN_EVERY:
        _event(
            ticket,
            EventKind.SEEN_AGAIN,
            note=error_message or title,
            occurrences=ticket.occurrences,
        )
    return ticket


def tickets_autoresolve(
    *,
    brand: Brand | int,
    source_system: str,
    source_ids: Iterable[str],
    flow: str = "",
    type_codes: Iterable[str] | None = None,
    note: str = "The record synced cleanly.",
) -> int:
    """Resolve the open tickets of records that have since synced cleanly. Returns how many."""
    brand_id = brand.pk if isinstance(brand, Brand) else brand
    ids = [str(i) for i in source_ids]
    if not ids:
        return 0
    qs = Ticket.objects.filter(
        brand_id=brand_id, source_system=source_system, source_id__in=ids, status__in=OPEN_STATUSES
    )
    if flow:
        qs = qs.filter(flow=flow)
    if type_codes is not None:
        qs = qs.filter(type__code__in=list(type_codes))
    resolved = 0
    with transaction.atomic():
        for ticket in qs.select_for_update():
            ticket.status = TicketStatus.RESOLVED
            ticket.resolved_at = timezone.now()
            ticket.save(update_fields=["status", "resolved_at"])
            _event(ticket, EventKind.AUTO_RESOLVED, note=note)
            resolved += 1
    return resolved


def _check_open(ticket: Ticket, action: str) -> None:
    if not ticket.is_open:
        raise TicketActionError(
            f"Ticket #{ticket.pk} is {ticket.get_status_display().lower()}; only an open ticket "
            f"can be {action}."
        )


@transaction.atomic
def ticket_reassign(
    *, ticket: Ticket, actor, team: str = "", assignee=None, note: str = ""
) -> Ticket:
    """Give a ticket to a team, or to a person of the ticket's brand (and their team)."""
    if not team and assignee is None:
        raise TicketActionError("Choose a team or a person to reassign the ticket to.")
    if team and team not in Team.values:
        raise TicketActionError(f"“{team}” is not a team.")
    if assignee is not None:
        teams = set(
            Membership.objects.filter(user=assignee, brand_id=ticket.brand_id).values_list(
                "team", flat=True
            )
        )
        if not teams:
            raise TicketActionError(
                f"{assignee} does not belong to {ticket.brand}; choose one of its people."
            )
        if team and team not in teams:
            raise TicketActionError(
                f"{assignee} is not in the {Team(team).label} team of {ticket.brand}."
            )
        team = team or (ticket.team if ticket.team in teams else sorted(teams)[0])
    before = {
        "team": ticket.team,
        "assignee": ticket.assignee.get_username() if ticket.assignee else "",
    }
    ticket.team = team
    ticket.assignee = assignee
    if ticket.status == TicketStatus.OPEN and assignee is not None:
        ticket.status = TicketStatus.IN_PROGRESS
    ticket.save(update_fields=["team", "assignee", "status"])
    after = {"team": team, "assignee": assignee.get_username() if assignee else ""}
    who = f"{assignee.get_username()} ({Team(team).label})" if assignee else Team(team).label
    _event(
        ticket,
        EventKind.REASSIGNED,
        actor=actor,
        note=note or f"Reassigned to {who}.",
        before=before,
        after=after,
    )
    return ticket


def ticket_retry(*, ticket: Ticket, actor) -> Any:
    """Sync exactly this ticket's record again. The ticket resolves itself if it passes."""
    from syncs.services import flow_enqueue

    if not ticket.type.retryable:
        raise TicketActionError(
            f"A retry cannot fix “{ticket.type.title}”: {ticket.type.how_to_fix}"
        )
    _check_open(ticket, "retried")
    scope = ticket.snapshot.get("waiting_ids") or ([ticket.source_id] if ticket.source_id else [])
    if not ticket.flow or not scope:
        raise TicketActionError(
            "This ticket names no record to sync again; resolve it by hand instead."
        )
    with transaction.atomic():
        run = flow_enqueue(
            brand_id=ticket.brand_id,
            flow=ticket.flow,
            trigger="retry",
            scope=scope,
            ticket_id=ticket.pk,
        )
        _event(
            ticket,
            EventKind.RETRIED,
            actor=actor,
            note=f"Sync queued for {len(scope)} record(s).",
            run=run.pk,
        )
    return run


@transaction.atomic
def ticket_resolve(*, ticket: Ticket, actor, note: str) -> Ticket:
    if not (note or "").strip():
        raise TicketActionError(
            "Write a note saying how the problem was fixed; a resolve needs one."
        )
    _check_open(ticket, "resolved")
    ticket.status = TicketStatus.RESOLVED
    ticket.resolved_at = timezone.now()
    ticket.save(update_fields=["status", "resolved_at"])
    _event(ticket, EventKind.RESOLVED, actor=actor, note=note.strip())
    return ticket


@transaction.atomic
def ticket_ignore(*, ticket: Ticket, actor, note: str = "") -> Ticket:
    _check_open(ticket, "ignored")
    ticket.status = TicketStatus.IGNORED
    ticket.save(update_fields=["status"])
    _event(ticket, EventKind.IGNORED, actor=actor, note=note.strip() or "Ignored.")
    return ticket


def ticket_comment(*, ticket: Ticket, actor, note: str) -> TicketEvent:
    if not (note or "").strip():
        raise TicketActionError("The comment is empty.")
    return _event(ticket, EventKind.COMMENTED, actor=actor, note=note.strip())


def people_of_brand(brand: Brand):
    """Who a ticket of this brand can be assigned to."""
    return (
        get_user_model()
        .objects.filter(memberships__brand=brand, is_active=True)
        .distinct()
        .order_by("username")
    )

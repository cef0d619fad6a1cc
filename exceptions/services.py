"""The only way anything changes a ticket. Every change leaves a TicketEvent with who and when."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.template.defaultfilters import pluralize
from django.utils import timezone

from brands.models import Brand, Membership, Team
from exceptions.hooks import flows
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


def fingerprint(
    brand_id: int, type_code: str, source_system: str, source_id: str, flow: str = ""
) -> str:
    """One open problem, one ticket. A record id means different records in different flows
    (contact 1001, order 1001), so the flow is part of it; a key such as "status:25" or
    "connection:3" is one thing for every flow, so it is not."""
    scope = f"{flow}/" if flow and source_id.isdigit() else ""
    return f"{brand_id}:{type_code}:{source_system}:{scope}{source_id}"


# Keys whose values are never kept in a ticket, whatever a flow hands over: a snapshot is
# shown to every member of the brand and copied into e-mails.
SECRET_KEY_PATTERN = re.compile(
    r"pass(word|wd)?$|secret|token|api[_-]?key|apikey|authori[sz]ation|credential|cookie"
    r"|private[_-]?key|signature",
    re.IGNORECASE,
)
HIDDEN = "(hidden)"


def snapshot_clean(value: Any) -> Any:
    """A copy of a snapshot with the values of secret-looking keys replaced."""
    if isinstance(value, dict):
        return {
            key: HIDDEN if SECRET_KEY_PATTERN.search(str(key)) else snapshot_clean(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [snapshot_clean(item) for item in value]
    return value


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
    team: str = "",
) -> Ticket:
    """Open a ticket, or count a repeat on the one that exists (reopening it if resolved).

    `team` owns a new ticket instead of the type's team (a brand's override still wins)."""
    brand_id = brand.pk if isinstance(brand, Brand) else brand
    ex_type = ExceptionType.objects.get(code=type_code)
    now = timezone.now()
    key = fingerprint(brand_id, type_code, source_system, str(source_id), flow)
    ticket = Ticket.objects.select_for_update().filter(fingerprint=key).first()
    values = {
        "title": title[:300],
        "flow": flow,
        "source_url": source_url,
        "snapshot": snapshot_clean(snapshot or {}),
        "error_code": error_code[:120],
        "error_message": error_message,
        "last_seen": now,
    }
    if ticket is None:
        try:
            # A savepoint: two workers raising the same new problem at once (PostgreSQL)
            # collide on the fingerprint; the loser counts a repeat on the winner's ticket.
            with transaction.atomic():
                ticket = Ticket.objects.create(
                    brand_id=brand_id,
                    type=ex_type,
                    source_system=source_system,
                    source_id=str(source_id),
                    fingerprint=key,
                    team=ex_type.team_for(Brand(pk=brand_id), default=team),
                    **values,
                )
        except IntegrityError:
            ticket = Ticket.objects.select_for_update().get(fingerprint=key)
        else:
            _event(ticket, EventKind.RAISED, note=error_message or title)
            return ticket

    changed_error = ticket.error_message != error_message
    for field, value in values.items():
        setattr(ticket, field, value)
    ticket.occurrences += 1
    if ticket.status == TicketStatus.RESOLVED:
        _reopen(ticket, note=f"The same problem came back: {error_message or title}")
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


def ticket_retry_failed(*, ticket_id: int, note: str) -> None:
    """A retry's run failed as a whole (the vendor was down, the credentials refused): say so
    on the ticket that asked for it, which stays open."""
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is not None:
        _event(ticket, EventKind.RETRY_FAILED, note=note)


def tickets_autoresolve(
    *,
    brand: Brand | int,
    source_system: str,
    source_ids: Iterable[str],
    flow: str = "",
    type_codes: Iterable[str] | None = None,
    except_type_codes: Iterable[str] = (),
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
    if except_type_codes:
        qs = qs.exclude(type__code__in=list(except_type_codes))
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
    _check_open(ticket, "reassigned")
    if assignee is not None:
        teams = set(
            Membership.objects.filter(
                user=assignee, user__is_active=True, brand_id=ticket.brand_id
            ).values_list("team", flat=True)
        )
        if not teams:
            raise TicketActionError(
                f"{assignee} does not belong to {ticket.brand}; choose one of its people."
            )
        if team and team not in teams:
            raise TicketActionError(
                f"{assignee} is not in the {Team(team).label} team of {ticket.brand}; "
                "choose their team, or leave the team empty."
            )
        team = team or (ticket.team if ticket.team in teams else sorted(teams)[0])
    if team == ticket.team and assignee == ticket.assignee:
        who = owner_label(team, assignee)
        raise TicketActionError(f"Ticket #{ticket.pk} is already with {who}; nothing changed.")
    before = {
        "team": ticket.team,
        "assignee": ticket.assignee.get_username() if ticket.assignee else "",
    }
    ticket.team = team
    ticket.assignee = assignee
    if ticket.status == TicketStatus.OPEN and assignee is not None:
        ticket.status = TicketStatus.IN_PROGRESS
    elif ticket.status == TicketStatus.IN_PROGRESS and assignee is None:
        # Handed to a team, not a person: nobody is working on it until someone picks it up.
        ticket.status = TicketStatus.OPEN
    ticket.save(update_fields=["team", "assignee", "status"])
    after = {"team": team, "assignee": assignee.get_username() if assignee else ""}
    _event(
        ticket,
        EventKind.REASSIGNED,
        actor=actor,
        note=note.strip() or f"Reassigned to {owner_label(team, assignee)}.",
        before=before,
        after=after,
    )
    return ticket


def owner_label(team: str, assignee) -> str:
    if assignee is not None:
        return f"{assignee.get_username()} ({Team(team).label})"
    return f"the {Team(team).label} team"


def retry_outcome(ticket: Ticket) -> str:
    """When a retried ticket resolves itself, in words (the button and the message say it)."""
    if ticket.type.code == "async_rejection":
        # Ometria answers OK at once and checks the record later (ometria_rejections_collect).
        return (
            "If Ometria has not rejected the record again ten minutes after it is sent, the "
            "ticket resolves itself; if it does, the new error shows in the history."
        )
    return (
        "If it passes, the ticket resolves itself; if it fails, the new error shows in the history."
    )


def retry_scope(ticket: Ticket) -> list[str]:
    """The source records a retry syncs again; empty means a whole run of the flow.

    A ticket about one record names it in `source_id`; a ticket about many (an unmapped
    status) lists them in the snapshot's `waiting_ids`. A ticket about the flow or a
    connection ("flow:orders", "connection:3", "status:12") names no record: a colon
    never appears in the vendors' record ids, so it marks those.
    """
    waiting = ticket.snapshot.get("waiting_ids") if isinstance(ticket.snapshot, dict) else None
    if waiting:
        return [str(i) for i in waiting]
    if ticket.source_id and ":" not in ticket.source_id:
        return [ticket.source_id]
    return []


def retry_blocker(ticket: Ticket) -> str:
    """Why a retry cannot apply to this ticket, in the owner's words; empty when it can."""
    if not ticket.type.retryable:
        return f"A retry cannot fix “{ticket.type.title}”: {ticket.type.how_to_fix}"
    if not ticket.is_open:
        return (
            f"Ticket #{ticket.pk} is {ticket.get_status_display().lower()}; "
            "only an open ticket can be retried."
        )
    if not ticket.flow:
        return "This ticket names no flow to run again; resolve it by hand when it is fixed."
    return flows().retry_blocker(ticket)


def ticket_retry(*, ticket: Ticket, actor) -> Any:
    """Sync exactly this ticket's record again. The ticket resolves itself if it passes,
    and records the new error if it fails. A ticket about the whole flow runs the flow."""
    reason = retry_blocker(ticket)
    if reason:
        raise TicketActionError(reason)
    scope = retry_scope(ticket)
    with transaction.atomic():
        run = flows().retry(ticket=ticket, scope=scope)
        what = f"{len(scope)} record{pluralize(len(scope))}" if scope else "the whole flow"
        _event(
            ticket,
            EventKind.RETRIED,
            actor=actor,
            note=f"Sync queued for {what} (run {run.pk}).",
            run=run.pk,
            scope=scope[:50],
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


@transaction.atomic
def ticket_reopen(*, ticket: Ticket, actor, note: str = "") -> Ticket:
    """Put a resolved or ignored ticket back among the tickets still to do: an ignore made
    by mistake, or a fix that did not hold."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)  # two clicks, one reopen
    if ticket.is_open:
        raise TicketActionError(f"Ticket #{ticket.pk} is already open; there is nothing to reopen.")
    was = ticket.get_status_display().lower()
    _reopen(ticket, actor=actor, note=note.strip() or f"Reopened (it was {was}).")
    return ticket


def _reopen(ticket: Ticket, *, note: str, actor=None) -> None:
    """Back to whoever had it: the person it was assigned to (in progress), else the team."""
    ticket.status = TicketStatus.IN_PROGRESS if ticket.assignee_id else TicketStatus.OPEN
    ticket.resolved_at = None
    ticket.save()
    _event(ticket, EventKind.REOPENED, actor=actor, note=note)


def ticket_comment(*, ticket: Ticket, actor, note: str) -> TicketEvent:
    if not (note or "").strip():
        raise TicketActionError("The comment is empty; write something to add to the history.")
    return _event(ticket, EventKind.COMMENTED, actor=actor, note=note.strip())


# --- many tickets at once (the inbox's bulk actions) --------------------------------
BULK_ACTIONS = {"retry": "retried", "reassign": "reassigned", "resolve": "resolved"}


@dataclasses.dataclass
class BulkOutcome:
    """What a bulk action did, ticket by ticket, for the message the person reads."""

    action: str
    done: list[Ticket] = dataclasses.field(default_factory=list)
    refused: list[tuple[Ticket, str]] = dataclasses.field(default_factory=list)

    def summary(self, listed: int = 8) -> str:
        """E.g. “3 tickets retried. 2 could not be retried: #12: A retry cannot fix …”."""
        verb = BULK_ACTIONS[self.action]
        parts = []
        if self.done:
            ids = ", ".join(f"#{t.pk}" for t in self.done[:listed])
            more = f" and {len(self.done) - listed} more" if len(self.done) > listed else ""
            parts.append(f"{_tickets(len(self.done))} {verb} ({ids}{more}).")
        if self.refused:
            # Each reason is a sentence of its own: no separator after its full stop.
            reasons = " ".join(f"#{t.pk}: {why.rstrip('.')}." for t, why in self.refused[:listed])
            more = f" And {len(self.refused) - listed} more." if len(self.refused) > listed else ""
            parts.append(f"{len(self.refused)} could not be {verb}. {reasons}{more}")
        return " ".join(parts) or "No ticket was selected."


def _tickets(n: int) -> str:
    return f"{n} ticket" if n == 1 else f"{n} tickets"


def tickets_bulk(
    *,
    action: str,
    tickets: Iterable[Ticket],
    actor,
    team: str = "",
    assignee=None,
    note: str = "",
) -> BulkOutcome:
    """Apply one action to many tickets, each on its own: one refusal stops no other.

    The caller has already scoped `tickets` to the actor's brands (the tenant wall).
    """
    if action not in BULK_ACTIONS:
        raise TicketActionError(f"“{action}” is not an action for several tickets at once.")
    if action == "resolve" and not (note or "").strip():
        # Refuse before touching any ticket, rather than refusing each one the same way.
        raise TicketActionError(
            "Write a note saying how the problems were fixed; resolving needs one."
        )
    if action == "reassign" and not team and assignee is None:
        raise TicketActionError("Choose a team or a person to reassign the tickets to.")
    outcome = BulkOutcome(action=action)
    for ticket in tickets:
        try:
            if action == "retry":
                ticket_retry(ticket=ticket, actor=actor)
            elif action == "reassign":
                ticket_reassign(ticket=ticket, actor=actor, team=team, assignee=assignee, note=note)
            else:
                ticket_resolve(ticket=ticket, actor=actor, note=note)
        except TicketActionError as exc:
            outcome.refused.append((ticket, str(exc)))
        else:
            outcome.done.append(ticket)
    return outcome


def people_of_brand(brand: Brand | int):
    """Who a ticket of this brand can be assigned to."""
    return (
        get_user_model()
        .objects.filter(memberships__brand=brand, is_active=True)
        .distinct()
        .order_by("username")
    )

"""Ometria's late rejections, on the Brightpearl records that caused them.

Ometria checks a pushed record after answering OK, and lists its latest 100 errors at
/v2/push/_errors, each only a message and the path of a field ("root > email"): no record, no
push, no time (docs.ometria.com/docs/list-errors; connectors/ometria/readback.py). Each read,
the errors not listed at the last read are new; each is matched against the pushes the console
remembers from that time (syncs/flows/ometria/ledger.py):

- one record it can be about (or as many as the alike errors): that record fails, with an
  `async_rejection` ticket on it, resolved once it was sent again and Ometria has not rejected
  it within the grace period;
- several: nothing is guessed. One `async_rejection` ticket per flow and field names the
  records it can be about, for a person to check; it resolves once all of them were sent again
  and the grace period passed with no new error at that field.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import timedelta

from django.db.models import Value
from django.db.models.functions import Coalesce
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from brands.models import Brand
from connectors.models import Connection
from connectors.ometria.readback import PushError, new_errors, push_errors_read
from connectors.registry import connector_for
from exceptions.models import OPEN_STATUSES, Ticket
from exceptions.services import ticket_raise, tickets_autoresolve
from syncs.flows.ometria.ledger import (
    Candidate,
    Match,
    forget_old_pushes,
    match,
    recent_pushes,
)
from syncs.models import Checkpoint, RecordState, RecordStatus

# How long Ometria may take to check a record after answering OK; a record sent again after
# its rejection and not rejected within this time was taken. Errors are matched to the pushes
# made from this long before the previous read.
OMETRIA_CHECK_GRACE = timedelta(minutes=10)
# How many records an unmatched error's ticket names in words, and keeps in its snapshot.
NAMED = 50
MAX_KEPT = 1_000
# Ometria ids and flows, for an item that names its record (the docs show no such field).
_NAMED_KINDS = {"contact": "customers", "order": "order_lifecycle"}


def ometria_rejections_collect(*, brand: Brand | int) -> int:
    """Read Ometria's asynchronous push errors and attach each new one to the record that
    caused it, or to the records it can be about. Returns the tickets raised or counted."""
    brand_id = brand.pk if isinstance(brand, Brand) else brand
    connection = Connection.objects.filter(brand_id=brand_id, system="ometria").first()
    if connection is None:
        return 0
    checkpoint, _ = Checkpoint.objects.get_or_create(brand_id=brand_id, name="ometria_push_errors")
    now = timezone.now()
    with connector_for(connection) as om:
        listed = push_errors_read(om)
    fresh = new_errors(_previous(checkpoint.value, listed), listed)
    read_at = parse_datetime(str(checkpoint.value.get("read_at") or "")) or now
    pushes = recent_pushes(brand_id, read_at - OMETRIA_CHECK_GRACE) if fresh else []
    raised = 0
    for error, count in _alike(fresh):
        named = _named(error)
        found = match(error, count, pushes) if named is None else None
        if named is not None or (found and found.found):
            for candidate in [named] if named else found.found:
                _reject(brand_id, error, candidate, found.how if found else "")
                raised += 1
        else:
            _unmatched(brand_id, found)
            raised += 1
    checkpoint.value = {"last": [list(e.key) for e in listed], "read_at": now.isoformat()}
    checkpoint.save(update_fields=["value"])
    forget_old_pushes(brand_id)
    _rejections_settled(brand_id)
    return raised


def _previous(value: dict, listed: list[PushError]) -> list[list[str]]:
    """The errors listed at the last read. A checkpoint written before the console stored
    them holds digests of the items it had read: those items are not new."""
    if "last" in value:
        return value["last"]
    seen = set(value.get("seen", []))
    return [list(e.key) for e in listed if _marker(e.raw) in seen] if seen else []


def _marker(raw: dict) -> str:
    """How the console used to remember an item it had read (a digest of the item)."""
    text = json.dumps(raw, sort_keys=True, default=str).encode()
    return hashlib.sha256(text).hexdigest()[:24]


def _alike(errors: list[PushError]) -> list[tuple[PushError, int]]:
    counts = Counter(e.key for e in errors)
    first = {e.key: e for e in reversed(errors)}
    return [(first[key], n) for key, n in counts.items()]


def _named(error: PushError) -> Candidate | None:
    """The record an item names itself, when it does (not in the documented shape)."""
    kind, record_id = error.record_type, error.record_id
    if not record_id:
        return None
    if kind == "custom_event" and record_id.startswith("gon-"):
        return Candidate("shipments", kind, record_id, record_id.removeprefix("gon-"))
    if kind in _NAMED_KINDS:
        return Candidate(_NAMED_KINDS[kind], kind, record_id, record_id)
    return None


def _reject(brand_id: int, error: PushError, candidate: Candidate, how: str) -> None:
    RecordState.objects.filter(
        brand_id=brand_id, flow=candidate.flow, source_id=candidate.source_id
    ).update(
        status=RecordStatus.FAILED,
        detail=f"Ometria rejected it: {error.message}"[:300],
        # Held back from now (the overview's lag), or since it first was.
        held_since=Coalesce("held_since", Value(timezone.now())),
    )
    ticket_raise(
        brand=brand_id,
        type_code="async_rejection",
        flow=candidate.flow,
        title=(
            f"Ometria rejected {candidate.record_type} {candidate.ometria_id} after accepting it"
        ),
        source_system="brightpearl",
        source_id=candidate.source_id,
        snapshot={"ometria_error": error.raw, "matched": how or "the error names it"},
        error_message=error.message,
    )


def _unmatched(brand_id: int, found: Match) -> None:
    """Several records can be the one: name them all, and guess none. A repeat at the same
    field adds its records to those the open ticket already names."""
    error, candidates = found.error, found.candidates
    flows = sorted({c.flow for c in candidates}) or [""]
    flow = flows[0] if len(flows) == 1 else ""
    source_id = f"field:{error.path}"[:64]
    earlier = (
        Ticket.objects.filter(
            brand_id=brand_id,
            type__code="async_rejection",
            source_system="ometria",
            source_id=source_id,
            flow=flow,
            status__in=OPEN_STATUSES,
        )
        .values_list("snapshot", flat=True)
        .first()
    )
    named = [tuple(pair) for pair in (earlier or {}).get("candidates", [])]
    for c in candidates:
        if (c.flow, c.source_id) not in named:
            named.append((c.flow, c.source_id))
    names = ", ".join(f"{c.record_type} {c.ometria_id}" for c in candidates[:NAMED])
    more = f" and {len(candidates) - NAMED} more" if len(candidates) > NAMED else ""
    which = (
        f"It is one of the {len(candidates)} record{pluralize(len(candidates))} the console "
        f"pushed just before: {names}{more}. Check that field on each in Brightpearl."
        if candidates
        else "The console remembers no push it can be about (sent over a day ago, or by "
        "another app with the same API key)."
    )
    ticket_raise(
        brand=brand_id,
        type_code="async_rejection",
        flow=flow,
        title=f"Ometria rejected {found.count} record{pluralize(found.count)} at "
        f"“{error.field or 'the whole record'}” and did not say which",
        source_system="ometria",
        # A colon: the ticket names no one record (exceptions.services.retry_scope).
        source_id=source_id,
        snapshot={"ometria_error": error.raw, "candidates": [list(p) for p in named[:MAX_KEPT]]},
        error_message=f"{error.message}. {which}",
    )


def _rejections_settled(brand_id: int) -> None:
    """Resolve the rejection tickets whose records were sent again since, and not rejected."""
    tickets = list(
        Ticket.objects.filter(
            brand_id=brand_id, type__code="async_rejection", status__in=OPEN_STATUSES
        ).only("flow", "source_id", "source_system", "last_seen", "snapshot")
    )
    if not tickets:
        return
    wanted = {t.source_id for t in tickets} | {
        sid for t in tickets for _, sid in (t.snapshot or {}).get("candidates", [])
    }
    sent = {
        (state.flow, state.source_id): state.synced_at
        for state in RecordState.objects.filter(
            brand_id=brand_id,
            source_id__in=wanted,
            status=RecordStatus.SYNCED,
            synced_at__lte=timezone.now() - OMETRIA_CHECK_GRACE,
        ).only("flow", "source_id", "synced_at")
    }
    for ticket in tickets:
        records = (ticket.snapshot or {}).get("candidates")
        if ticket.source_system == "ometria":
            if records and all(
                (sent.get((flow, sid)) or ticket.last_seen) > ticket.last_seen
                for flow, sid in records
            ):
                _resolve(brand_id, ticket, "ometria", ticket.source_id)
            continue
        synced_at = sent.get((ticket.flow, ticket.source_id))
        if synced_at and synced_at > ticket.last_seen:
            _resolve(
                brand_id,
                ticket,
                ticket.source_system,
                ticket.source_id,
                f"Sent again at {timezone.localtime(synced_at):%H:%M on %d %b}, "
                "and Ometria has not rejected it since.",
            )


def _resolve(brand_id: int, ticket: Ticket, system: str, source_id: str, note: str = "") -> None:
    tickets_autoresolve(
        brand=brand_id,
        source_system=system,
        source_ids=[source_id],
        flow=ticket.flow,
        type_codes=["async_rejection"],
        note=note
        or "Every record it could be about was sent again, and Ometria has not rejected any "
        "of them since.",
    )

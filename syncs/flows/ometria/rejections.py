"""Ometria's late rejections, on the Brightpearl records that caused them.

Ometria checks a pushed record after answering OK (connectors.ometria.readback reads its
error list). Each error is attached to the flow and record it is about: the record fails,
with an `async_rejection` ticket, and the ticket resolves once the record was sent again and
Ometria has not rejected it within the grace period.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from brands.models import Brand
from connectors.models import Connection
from connectors.ometria.readback import PushError, push_errors_read
from connectors.registry import connector_for
from exceptions.models import OPEN_STATUSES, Ticket
from exceptions.services import ticket_raise, tickets_autoresolve
from syncs.models import Checkpoint, RecordState, RecordStatus


def _rejection_target(error: PushError) -> tuple[str, str] | None:
    """Which flow and Brightpearl record an Ometria push error is about."""
    kind, record_id = error.record_type, error.record_id
    if not record_id:
        return None
    if kind == "contact":
        return "customers", record_id
    if kind == "custom_event" and record_id.startswith("gon-"):
        return "shipments", record_id.removeprefix("gon-")
    if kind == "order":
        return "order_lifecycle", record_id
    return None


def ometria_rejections_collect(*, brand: Brand | int) -> int:
    """Read Ometria's asynchronous push errors and attach each to the record that caused it."""
    brand_id = brand.pk if isinstance(brand, Brand) else brand
    connection = Connection.objects.filter(brand_id=brand_id, system="ometria").first()
    if connection is None:
        return 0
    checkpoint, _ = Checkpoint.objects.get_or_create(brand_id=brand_id, name="ometria_push_errors")
    remembered: list[str] = list(checkpoint.value.get("seen", []))
    seen = set(remembered)
    with connector_for(connection) as om:
        errors = push_errors_read(om)
    raised = 0
    for error in errors:
        if error.marker in seen:
            continue
        seen.add(error.marker)
        remembered.append(error.marker)
        target = _rejection_target(error)
        if target is None:
            continue
        flow, source_id = target
        message = error.message
        RecordState.objects.filter(brand_id=brand_id, flow=flow, source_id=source_id).update(
            status=RecordStatus.FAILED,
            detail=f"Ometria rejected it: {message}"[:300],
            # Held back from now (the overview's lag), or since it first was.
            held_since=Coalesce("held_since", Value(timezone.now())),
        )
        ticket_raise(
            brand=brand_id,
            type_code="async_rejection",
            flow=flow,
            title=(
                f"Ometria rejected {error.record_type or 'record'} {error.record_id} "
                "after accepting it"
            ),
            source_system="brightpearl",
            source_id=source_id,
            snapshot={"ometria_error": error.raw},
            error_code=error.code,
            error_message=message,
        )
        raised += 1
    # Keep the memory bounded: Ometria only lists its latest errors anyway.
    checkpoint.value = {"seen": remembered[-5000:]}
    checkpoint.save(update_fields=["value"])
    _rejections_settled(brand_id)
    return raised


# How long Ometria may take to check a record after answering OK; a record sent again after
# its rejection and not rejected within this time was taken.
OMETRIA_CHECK_GRACE = timedelta(minutes=10)


def _rejections_settled(brand_id: int) -> None:
    """Resolve the rejection tickets whose record was sent again since, and not rejected."""
    tickets = list(
        Ticket.objects.filter(
            brand_id=brand_id, type__code="async_rejection", status__in=OPEN_STATUSES
        ).only("flow", "source_id", "source_system", "last_seen")
    )
    if not tickets:
        return
    sent = {
        (state.flow, state.source_id): state.synced_at
        for state in RecordState.objects.filter(
            brand_id=brand_id,
            source_id__in={t.source_id for t in tickets},
            status=RecordStatus.SYNCED,
            synced_at__lte=timezone.now() - OMETRIA_CHECK_GRACE,
        ).only("flow", "source_id", "synced_at")
    }
    for ticket in tickets:
        synced_at = sent.get((ticket.flow, ticket.source_id))
        if synced_at and synced_at > ticket.last_seen:
            tickets_autoresolve(
                brand=brand_id,
                source_system=ticket.source_system,
                source_ids=[ticket.source_id],
                flow=ticket.flow,
                type_codes=["async_rejection"],
                note=(
                    f"Sent again at {timezone.localtime(synced_at):%H:%M on %d %b}, "
                    "and Ometria has not rejected it since."
                ),
            )

"""Shipments: each shipped Brightpearl goods-out note → one shipment event in Ometria.

An order shipped in parts has several notes; each note is sent once, keyed by its id
("gon-<id>"), however many times its webhook arrives or a run is retried, so a partial
shipment never sends a second "shipped" for the same parcel.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from connectors.http import BatchResult
from connectors.ometria.events import custom_event_setup
from syncs.flows.base import Flow, Push, Skip, Wait
from syncs.flows.notes import note_batches
from syncs.flows.ometria.order_lifecycle import (
    order_status,
    push_to_ometria,
    raise_status_tickets,
)
from syncs.flows.reading import when
from syncs.models import RecordState, RecordStatus

if TYPE_CHECKING:
    from syncs.engine import FlowContext

FLOW = "shipments"
# The Ometria custom event each shipped note becomes; it must be set up in the brand's account.
EVENT_TYPE = "order_shipped"


class ShipmentsFlow(Flow):
    code = FLOW
    label = "Shipments → Ometria"
    description = "One Ometria shipment event per shipped goods-out note, sent once."
    target = "ometria"
    kind = "shipment"
    overlap_batches = True
    noun = "notes"
    default_schedule_minutes = 15
    # The one documented event for a shipped note (help.brightpearl.com, "Subscribable resource
    # events"); the note's other events (printed, picked, packed) would each cost a read.
    webhook_events = ("goods-out-note.modified.shipped",)
    once = True
    set_up_first = custom_event_setup(EVENT_TYPE)

    def read(self, ctx: FlowContext) -> Iterator[list[tuple[int, dict]]]:
        bp = ctx.connector("brightpearl")
        for notes, by_note in note_batches(ctx):
            family = notes
            if by_note and notes:
                # Notes named one by one: read their orders' other notes too, so a partial
                # shipment is known to be partial (the event goes once, so it must be right).
                family = list(
                    bp.goods_out_notes(order_ids=sorted({n["orderId"] for _, n in notes}))
                )
            # Only a shipped note not sent yet needs its customer; a note already sent is
            # skipped by the engine, so a re-run fetches no orders at all.
            shipped = [
                str(n["orderId"]) for nid, n in notes if (n.get("status") or {}).get("shipped")
            ]
            sent = set(
                RecordState.objects.filter(
                    brand_id=ctx.brand_id,
                    flow=FLOW,
                    status=RecordStatus.SYNCED,
                    source_id__in=[str(nid) for nid, _ in notes],
                ).values_list("source_id", flat=True)
            )
            pending = {str(n["orderId"]) for nid, n in notes if str(nid) not in sent} & set(shipped)
            ctx.cache["customers"] = customers_of_orders(ctx, pending)
            ctx.cache["notes_of_order"] = {}
            for note_id, note in family:
                ctx.cache["notes_of_order"].setdefault(str(note["orderId"]), []).append(
                    (note_id, note)
                )
            yield notes

    def transform(self, ctx: FlowContext, item: tuple[int, dict]) -> Push | Wait | Skip:
        note_id, note = item
        source_id = str(note_id)
        status = note.get("status") or {}
        if not status.get("shipped"):
            return Skip(source_id, "Not shipped yet.")
        customer = ctx.cache["customers"].get(str(note["orderId"])) or {}
        mapping = ctx.status_map.get(customer.get("status_id"))
        if customer and mapping is None:
            # Its order's status has no mapping yet: nobody can say whether the order stands.
            # The note waits (read again every run) behind the status's one ticket, and goes
            # when marketing maps it.
            return Wait(
                source_id=source_id,
                reason=(
                    f"Its order's status “{customer.get('status_name')}” (id "
                    f"{customer.get('status_id')}) has no mapping."
                ),
                source_updated=when(status.get("shippedOn")),
                match_key=str(customer.get("status_id")),
            )
        if mapping is None or mapping.cancels:
            # Cancelled, held for fraud, or gone: no "your order is on its way". Read again
            # when the order changes.
            why = (
                f"Its order is “{customer.get('status_name')}”"
                if customer
                else "Its order is not in Brightpearl"
            )
            return Skip(source_id, f"{why}: no shipment event is sent for it.")
        siblings = ctx.cache["notes_of_order"].get(str(note["orderId"]), [])
        rows = note.get("orderRows") or {}
        items = [
            {
                "order_row_id": str(row_id),
                "product_id": str(line.get("productId")),
                "quantity": line.get("quantity"),
            }
            for row_id, lines in sorted(rows.items())
            for line in lines
        ]
        payload = {
            "@type": "custom_event",
            "id": f"gon-{note_id}",
            "event_type": EVENT_TYPE,
            "identity_account_id": customer.get("contact", ""),
            "identity_email": customer.get("email", ""),
            "timestamp": status.get("shippedOn") or note.get("createdOn"),
            "properties": {
                "order_id": str(note["orderId"]),
                "goods_out_note_id": source_id,
                "tracking_reference": (note.get("shipping") or {}).get("reference", ""),
                "shipping_method_id": (note.get("shipping") or {}).get("shippingMethodId"),
                "items": items,
                "partial": any(not (n.get("status") or {}).get("shipped") for _, n in siblings)
                or len(siblings) > 1,
            },
        }
        return Push(
            source_id=source_id,
            payload=payload,
            target_id=payload["id"],
            source_updated=when(status.get("shippedOn")),
        )

    def write(self, ctx: FlowContext, pushes: list[Push]) -> BatchResult:
        return push_to_ometria(ctx, pushes)

    def source_id_of(self, record: tuple[int, dict]) -> str:
        return str(record[0])

    def state_of(self, payload: dict) -> dict:
        return {"order_id": payload["properties"]["order_id"], "sent": payload["id"]}

    def finish(self, ctx: FlowContext) -> None:
        raise_status_tickets(ctx)


def customers_of_orders(ctx: FlowContext, order_ids: set[str]) -> dict[str, dict]:
    """Each order's customer and its status now, read from Brightpearl: a shipment e-mail
    must never go for an order cancelled or held for fraud since the order flow last ran."""
    found = {}
    for order in ctx.connector("brightpearl").orders(sorted(order_ids)) if order_ids else ():
        customer = (order.get("parties") or {}).get("customer") or {}
        status_id, status_name = order_status(order)
        found[str(order["id"])] = {
            "contact": str(customer.get("contactId", "")),
            "email": customer.get("email", ""),
            "status_id": status_id,
            "status_name": status_name,
        }
    return found

"""The daily shipment reconciliation: every goods-out note shipped in Brightpearl lately, on an
order that came from the storefront, must have its BigCommerce shipment. One that has none is
the seed's dispatch-notification failure (the shopper got no email, the storefront shows the
order unshipped): it is listed in the report and ticketed for operations, and its ticket
resolves itself once the shipment exists.

BigCommerce is asked, not the console's own links: a shipment deleted there, or one the
console never managed to make, shows up the same way.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from connectors.models import Connection
from connectors.registry import connector_for
from exceptions.services import ticket_raise, tickets_autoresolve
from syncs.flows.bigcommerce.shipments_out import FLOW, note_mark, storefront_orders_of
from syncs.flows.notes import is_shipped
from syncs.flows.reading import when

# The type the flow raises for a note it cannot send (shipments_out.TICKET_TYPE): one note,
# one ticket, whichever found it first.
TICKET_TYPE = "shipment_not_notified"
# How far back the check looks (notes shipped since), and how long a note just shipped is
# given before it counts as missing (its webhook run may still be on its way).
CHECK_DAYS = 14
GRACE = timedelta(minutes=30)


def shipments_check(
    *,
    brand_id: int,
    bp: Any = None,
    bc: Any = None,
    days: int = CHECK_DAYS,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Compare Brightpearl's shipped notes with BigCommerce's shipments; ticket the notes
    that have none, resolve the tickets of those that have one now. Returns the report:
    {checked, missing: [{note, brightpearl_order, bigcommerce_order, shipped_on}], since}."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    bp = bp or _connector(brand_id, "brightpearl")
    bc = bc or _connector(brand_id, "bigcommerce")
    order_ids = [str(row["orderId"]) for row in bp.changed_order_ids(since)]
    storefront = storefront_orders_of(brand_id, order_ids)
    notes = [
        (note_id, note)
        for note_id, note in (
            bp.goods_out_notes(order_ids=sorted(storefront)) if storefront else ()
        )
        if is_shipped(note) and _shipped_before(note, now - GRACE)
    ]
    marks_by_order: dict[str, set[str]] = {}
    missing, present = [], []
    for note_id, note in notes:
        bc_order = storefront[str(note["orderId"])]
        if bc_order not in marks_by_order:
            marks_by_order[bc_order] = {
                str(s.get("comments") or "").strip() for s in bc.shipments(int(bc_order))
            }
        if note_mark(note_id) in marks_by_order[bc_order]:
            present.append(str(note_id))
            continue
        missing.append(
            {
                "note": str(note_id),
                "brightpearl_order": str(note["orderId"]),
                "bigcommerce_order": bc_order,
                "shipped_on": (note.get("status") or {}).get("shippedOn") or "",
            }
        )
    checked_since = since.strftime("%Y-%m-%d")
    for item in missing:
        ticket_raise(
            brand=brand_id,
            type_code=TICKET_TYPE,
            flow=FLOW,
            title=f"Goods-out note {item['note']} shipped, but BigCommerce order "
            f"{item['bigcommerce_order']} was not told",
            source_system="brightpearl",
            source_id=item["note"],
            snapshot={
                "notes": [item["note"]],
                "orders": {item["note"]: item["bigcommerce_order"]},
                "brightpearl_orders": {item["note"]: item["brightpearl_order"]},
                "reason": "The daily check found no BigCommerce shipment for it.",
                "checked_since": checked_since,
            },
            error_message=(
                f"Shipped in Brightpearl on {item['shipped_on'] or 'an unknown date'}; "
                f"BigCommerce order {item['bigcommerce_order']} has no shipment for it."
            ),
        )
    tickets_autoresolve(
        brand=brand_id,
        source_system="brightpearl",
        source_ids=present,
        flow=FLOW,
        type_codes=[TICKET_TYPE],
        note="The daily check found its BigCommerce shipment.",
    )
    return {"since": checked_since, "checked": len(notes), "missing": missing}


def _shipped_before(note: dict, cutoff: datetime) -> bool:
    shipped_on = when((note.get("status") or {}).get("shippedOn"))
    return shipped_on is None or shipped_on <= cutoff


def _connector(brand_id: int, system: str) -> Any:
    return connector_for(Connection.objects.get(brand_id=brand_id, system=system))

"""What the flows that carry Brightpearl products and stock read, shared by every pair that
carries them (BigCommerce stock, Salesforce products and stock)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from connectors.http import chunks
from connectors.models import Connection

if TYPE_CHECKING:
    from syncs.engine import FlowContext

# Brightpearl reads 200 orders a GET.
READ_SIZE = 200


def on_hand(level: dict) -> int:
    """What a warehouse can sell: Brightpearl's on hand is in stock less allocated (its
    `available`)."""
    return int(level.get("onHand") or 0)


def products_on_orders(ctx: FlowContext, since: datetime, until: datetime | None) -> Iterator[dict]:
    """The products on sales orders changed in the window, most recent orders first: an order
    moves stock, and in a flash sale those products are the ones selling out."""
    bp = ctx.connector("brightpearl")
    rows = sorted(
        bp.changed_order_ids(since, until),
        key=lambda r: str(r.get("updatedOn") or ""),
        reverse=True,
    )
    for part in chunks([r["orderId"] for r in rows], READ_SIZE):
        for order in bp.orders(part):
            for row in (order.get("orderRows") or {}).values():
                if row.get("productId"):
                    yield {"productId": row["productId"]}


def rules_remember(ctx: FlowContext, system: str, key: str, rules: str | None) -> None:
    """After a run that read every product, or their changes under the same rules: keep the
    rules it applied (a safety stock, a choice of warehouses…) on the connection's settings,
    where the next sweep compares them (rules changed since: every product is read)."""
    if ctx.scope or rules is None:
        return
    conn = ctx.connector(system).connection
    settings = dict(Connection.objects.values_list("settings", flat=True).get(pk=conn.pk))
    if settings.get(key) != rules:
        settings[key] = rules
        Connection.objects.filter(pk=conn.pk).update(settings=settings)

"""Renderers of the Brightpearl → Salesforce orders' tickets: an order or its credits waiting
for a Salesforce record (an Account, an Order), and an order Salesforce cannot price."""

from __future__ import annotations

from typing import TYPE_CHECKING

from exceptions.snapshots.base import SnapshotView, Table, renderer

if TYPE_CHECKING:
    from exceptions.models import Ticket


@renderer("salesforce_parent_missing", keys=("contact_id", "credits", "flow"))
def salesforce_parent_missing(ticket: Ticket, data: dict) -> SnapshotView | None:
    flow = str(data.get("flow") or "")
    order = ticket.source_id or "—"
    if data.get("contact_id"):
        contact = str(data["contact_id"])
        return SnapshotView(
            sentence=f"Order {order} waits: its customer (Brightpearl contact {contact}) has no "
            f"Salesforce Account yet. It goes by itself once {flow or 'the accounts flow'} has "
            "made the Account; check that flow's tickets if it does not.",
            facts=[("Brightpearl order", order), ("Brightpearl contact", contact)],
        )
    credits = data.get("credits")
    if isinstance(credits, list):
        return SnapshotView(
            sentence=f"The credits of order {order} wait: the order has no Salesforce Order "
            f"yet. They go by themselves once {flow or 'the orders flow'} has made it; check "
            "that flow's tickets for this order if they do not.",
            facts=[
                ("Brightpearl order", order),
                ("Credits waiting", ", ".join(str(c) for c in credits) or "—"),
            ],
        )
    return None


@renderer("salesforce_product_missing", keys=("currency", "lines"))
def salesforce_product_missing(ticket: Ticket, data: dict) -> SnapshotView | None:
    lines = data.get("lines")
    if not isinstance(lines, list) or not lines:
        return None
    currency = str(data.get("currency") or "")
    return SnapshotView(
        sentence=f"Salesforce cannot price order {ticket.source_id or '—'}: a product is "
        f"missing, or has no {currency} price in the brand's price book. Add the product "
        "(Product Code = the Brightpearl SKU) or its price book entry in Salesforce, then "
        "press Retry.",
        facts=[("Currency", currency or "—")],
        tables=[
            Table(
                "The lines Salesforce cannot price",
                ["SKU", "Brightpearl row", "Why"],
                [
                    [str(m.get("sku") or "—"), str(m.get("row") or "—"), str(m.get("why") or "")]
                    for m in lines
                    if isinstance(m, dict)
                ],
            )
        ],
    )

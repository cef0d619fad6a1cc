"""Renderers of the tickets about values: a status, value, SKU with no mapping; money that
does not add up. (The package's __init__ says how renderers work.)"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from exceptions.snapshots.base import SnapshotView, Table, as_int, quoted, renderer, waiting_facts
from exceptions.words import count, joined, money

if TYPE_CHECKING:
    from exceptions.models import Ticket


# --- values with no mapping ---------------------------------------------------------------
@renderer(
    "unmapped_status",
    keys=("status_id", "status_name", "waiting_count", "waiting_ids", "also_waiting"),
)
def unmapped_status(ticket: Ticket, data: dict) -> SnapshotView | None:
    if "status_id" not in data:
        return None
    ids = data.get("waiting_ids") or []
    waiting = as_int(data.get("waiting_count"), len(ids))
    name = quoted(data["status_id"], data.get("status_name"))
    return SnapshotView(
        sentence=f"Brightpearl order status {name} has no mapping yet, so "
        f"{count(waiting, 'order')} {'waits' if waiting == 1 else 'wait'} for one.",
        facts=[
            ("Status", f"{data.get('status_name') or '—'} (Brightpearl id {data['status_id']})"),
            ("Orders waiting", f"{waiting:,}"),
            ("Which", joined(ids, waiting) or "—"),
            *waiting_facts(data.get("also_waiting")),
        ],
    )


@renderer(
    "unmapped_value",
    keys=("kind", "kind_label", "value", "value_label", "waiting_count", "waiting"),
)
def unmapped_value(ticket: Ticket, data: dict) -> SnapshotView | None:
    if "value" not in data:
        return None
    by_flow = data.get("waiting") if isinstance(data.get("waiting"), dict) else {}
    listed = sum(len(ids) for ids in by_flow.values())
    waiting = as_int(data.get("waiting_count"), listed)
    kind = data.get("kind_label") or data.get("kind") or "its mapping table"
    facts = [("Value", str(data["value"]))]
    if data.get("value_label") and data["value_label"] != data["value"]:
        facts.append(("Its name", str(data["value_label"])))
    facts += [("Mapping table", str(kind)), ("Records waiting", f"{waiting:,}")]
    facts += waiting_facts(by_flow)
    if waiting > listed and by_flow:
        facts.append(("Not listed here", f"{waiting - listed:,} more"))
    return SnapshotView(
        sentence=f"{quoted(data['value'], data.get('value_label'))} has no mapping in "
        f"“{kind}”, so {count(waiting, 'record')} {'waits' if waiting == 1 else 'wait'} "
        "for one. Nothing is guessed meanwhile.",
        facts=facts,
    )


# The older, one-kind types (before value maps gathered them into unmapped_value). Their
# raisers are gone; a snapshot of theirs names the value under one of these keys.
LEGACY_VALUE_KEYS = ("value", "payment_method", "customer_group", "method", "group")
LEGACY_KEYS = (*LEGACY_VALUE_KEYS, "value_label", "name", "waiting_count", "waiting_ids")


@renderer("unmapped_payment_method", "unmapped_customer_group", keys=LEGACY_KEYS)
def unmapped_one_kind(ticket: Ticket, data: dict) -> SnapshotView | None:
    value = next((data[k] for k in LEGACY_VALUE_KEYS if data.get(k) not in (None, "")), None)
    if value is None:
        return None
    what = ticket.type.code.removeprefix("unmapped_").replace("_", " ")
    label = data.get("value_label") or data.get("name") or ""
    ids = data.get("waiting_ids") or []
    waiting = as_int(data.get("waiting_count"), len(ids))
    return SnapshotView(
        sentence=f"The {what} {quoted(value, label)} has no mapping, so "
        f"{count(waiting, 'order')} {'waits' if waiting == 1 else 'wait'} for one.",
        facts=[
            (what[:1].upper() + what[1:], str(value)),
            *([("Its name", str(label))] if label and label != value else []),
            ("Orders waiting", f"{waiting:,}"),
            ("Which", joined(ids, waiting) or "—"),
        ],
    )


@renderer("unmapped_sku", keys=("order", "unknown_skus"))
def unmapped_sku(ticket: Ticket, data: dict) -> SnapshotView | None:
    skus = data.get("unknown_skus")
    if not skus:
        return None
    order = data.get("order") or ticket.source_id
    them = "it exists" if len(skus) == 1 else "they exist"
    # Orders come in from the storefront and from Salesforce (its products' Product Codes).
    what = "Salesforce order" if ticket.source_system == "salesforce" else "Storefront order"
    return SnapshotView(
        sentence=f"{what} {order} has {count(len(skus), 'SKU')} that no Brightpearl "
        f"product has: {joined(skus)}. The order waits until {them}.",
        facts=[(what, str(order)), ("Unknown SKUs", joined(skus))],
    )


# --- money ----------------------------------------------------------------------------------
TOTAL_KEYS = ("order", "brightpearl_order", "currency", "bigcommerce", "brightpearl")
TOTAL_KEYS += ("difference_net", "bigcommerce_total", "brightpearl_total", "difference", "reason")


@renderer("order_total_mismatch", keys=TOTAL_KEYS)
def order_total_mismatch(ticket: Ticket, data: dict) -> SnapshotView | None:
    currency = str(data.get("currency") or "")
    bc, bp = data.get("bigcommerce"), data.get("brightpearl")
    tables = []
    if isinstance(bc, dict) and isinstance(bp, dict):
        # The storefront flow compares goods net of tax (syncs/flows/bigcommerce/totals.py).
        what, bc_amount, bp_amount = "goods (ex tax)", bc.get("net"), bp.get("net")
        tables.append(
            Table(
                caption="The order's goods in each system",
                columns=["", "Net", "Tax"],
                rows=[
                    [name, money(side.get("net"), currency), money(side.get("tax"), currency)]
                    for name, side in (("BigCommerce", bc), ("Brightpearl", bp))
                ],
            )
        )
    else:
        what, bc_amount, bp_amount = (
            "total",
            data.get("bigcommerce_total"),
            data.get("brightpearl_total"),
        )
    if bc_amount is None or bp_amount is None:
        return None
    difference = data.get("difference_net", data.get("difference"))
    if difference is None:
        difference = Decimal(str(bc_amount)) - Decimal(str(bp_amount))
    gap = money(abs(Decimal(str(difference))), currency)
    reason = f" ({data['reason']})" if data.get("reason") else ""
    order = data.get("order") or ticket.source_id
    facts = [("Storefront order", str(order))]
    if data.get("brightpearl_order"):
        facts.append(("Brightpearl order", str(data["brightpearl_order"])))
    if not tables:  # the table shows each side's amounts already
        facts += [
            ("BigCommerce", money(bc_amount, currency)),
            ("Brightpearl", money(bp_amount, currency)),
        ]
    facts.append(("Difference", gap + reason))
    return SnapshotView(
        sentence=f"Order {order} {what}: BigCommerce {money(bc_amount, currency)}, Brightpearl "
        f"{money(bp_amount, currency)}, difference {gap}{reason}.",
        facts=facts,
        tables=tables,
    )


REFUND_KEYS = ("order", "refund", "amount", "currency", "order_status", "reason")


@renderer("refund_blocked", keys=REFUND_KEYS)
def refund_blocked(ticket: Ticket, data: dict) -> SnapshotView | None:
    # Raised by the storefront refunds flow (syncs/flows/bigcommerce/refunds_in.py).
    order = data.get("order")
    if not order:
        return None
    amount = data.get("amount")
    what = f"A refund of {money(amount, str(data.get('currency') or ''))}" if amount else "A refund"
    status = f" (its status there: {data['order_status']})" if data.get("order_status") else ""
    facts = [("Order", str(order))]
    if data.get("refund"):
        facts.append(("Refund", str(data["refund"])))
    if amount:
        facts.append(("Amount", money(amount, str(data.get("currency") or ""))))
    if data.get("reason"):
        facts.append(("Reason", str(data["reason"])))
    return SnapshotView(
        sentence=f"{what} on order {order} waits: Brightpearl has not invoiced the order "
        f"yet{status}, and a sales credit needs an invoiced order.",
        facts=facts,
    )


@renderer("refund_unmatched", keys=REFUND_KEYS)
def refund_unmatched(ticket: Ticket, data: dict) -> SnapshotView | None:
    # Raised by the storefront refunds flow (syncs/flows/bigcommerce/refunds_in.py).
    order = data.get("order")
    if not order:
        return None
    amount = data.get("amount")
    currency = str(data.get("currency") or "")
    what = f"A refund of {money(amount, currency)}" if amount else "A refund"
    facts = [("Order", str(order))]
    if data.get("refund"):
        facts.append(("Refund", str(data["refund"])))
    if amount:
        facts.append(("Amount", money(amount, currency)))
    if data.get("reason"):
        facts.append(("Why", str(data["reason"])))
    reason = str(data.get("reason") or "its lines do not match the order.")
    return SnapshotView(
        sentence=f"{what} on storefront order {order} was not credited in Brightpearl: "
        f"{reason[:1].lower()}{reason[1:]}",
        facts=facts,
    )

"""Order lifecycle: Brightpearl sales orders → Ometria orders.

The status goes through the brand's status mapping. A cancelled order, or any status
mapped to cancelled (fraud), goes as status=cancelled and is_valid=false, which takes
its revenue out of Ometria and stops every "on its way" email. An unmapped status is
never guessed: those orders wait, with one ticket per status for marketing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.template.defaultfilters import pluralize

from connectors.http import BatchResult
from exceptions.models import OPEN_STATUSES, Ticket
from exceptions.services import ticket_raise, tickets_autoresolve
from syncs.flows.base import Flow, Push, Skip, Wait, public
from syncs.flows.ometria.ledger import push_remembered
from syncs.flows.reading import fetched, id_order, source_ids, when
from syncs.models import RecordState, RecordStatus, StatusMapping

if TYPE_CHECKING:
    from syncs.engine import FlowContext

FLOW = "order_lifecycle"
REFUNDS_FLOW = "refunds"
# One ticket lists at most this many waiting orders (the count is always exact).
WAITING_LISTED = 500


def money(value: Any) -> float:
    return float(round(Decimal(str(value or 0)), 2))


def _name_parts(full_name: str) -> tuple[str, str]:
    first, _, last = (full_name or "").strip().partition(" ")
    return first, last


def order_status(order: dict) -> tuple[int, str]:
    status = order.get("orderStatus") or {}
    return int(status.get("orderStatusId", 0)), str(status.get("name", ""))


def order_payload(order: dict, mapping: StatusMapping, refunds: dict[str, dict]) -> dict:
    """The Ometria order for a Brightpearl order, with its refunds per line.

    Both the lifecycle and the refunds flow build the order here, so whichever pushes
    last, Ometria holds the same whole order (a push replaces `lineitems` wholesale).
    """
    total = order.get("totalValue") or {}
    customer = (order.get("parties") or {}).get("customer") or {}
    first, last = _name_parts(customer.get("addressFullName", ""))
    lines = []
    # A product can sit on several rows: its refund is shared out over them, row by row, so
    # no line shows more refunded than it sold.
    left = {pid: dict(r) for pid, r in refunds.items()}
    rows = sorted((order.get("orderRows") or {}).items(), key=lambda kv: id_order(kv[0]))
    for _, row in rows:
        product_id = str(row.get("productId", ""))
        quantity = Decimal(str((row.get("quantity") or {}).get("magnitude", 0)))
        value = row.get("rowValue") or {}
        net = Decimal(str((value.get("rowNet") or {}).get("value", 0)))
        tax = Decimal(str((value.get("rowTax") or {}).get("value", 0)))
        line = {
            "product_id": product_id,
            "sku": row.get("productSku") or "",
            "quantity": int(quantity),
            "unit_price": money((net + tax) / quantity) if quantity else 0.0,
            "total": money(net + tax),
        }
        refund = refunds.get(product_id)
        if refund and left[product_id]["quantity"] > 0:
            taken = min(int(quantity), int(left[product_id]["quantity"])) or int(
                left[product_id]["quantity"]
            )
            share = Decimal(str(refund["amount"])) * taken / max(int(refund["quantity"]), 1)
            left[product_id]["quantity"] -= taken
            line["quantity_refunded"] = taken
            line["refunded"] = money(share)
        lines.append(line)
    lines.sort(key=lambda line: (line["product_id"], line["sku"]))
    status_id, status_name = order_status(order)
    cancelled = mapping.cancels
    return {
        "@type": "order",
        "id": str(order["id"]),
        "timestamp": order.get("placedOn") or order.get("createdOn"),
        "grand_total": money(total.get("total")),
        "subtotal": money(total.get("net")),
        "tax": money(total.get("taxAmount")),
        "currency": (order.get("currency") or {}).get("orderCurrencyCode", ""),
        "status": "cancelled" if cancelled else mapping.ometria_status,
        "is_valid": not cancelled,
        "customer": {
            "id": str(customer.get("contactId", "")),
            "email": customer.get("email", ""),
            "firstname": first,
            "lastname": last,
        },
        "lineitems": lines,
        "properties": {
            "lifecycle_stage": "cancelled" if cancelled else mapping.lifecycle_stage,
            "brightpearl_status": status_name,
            "brightpearl_status_id": status_id,
        },
    }


def order_summary(payload: dict) -> dict:
    """What the preview and the dashboard need of an order we sent, without the lines."""
    return {
        "status": payload["status"],
        "stage": payload["properties"]["lifecycle_stage"],
        "valid": payload["is_valid"],
        "total": payload["grand_total"],
        "currency": payload["currency"],
        "contact": payload["customer"]["id"],
        "email": payload["customer"]["email"],
        "refunded": round(sum(line.get("refunded", 0) for line in payload["lineitems"]), 2),
    }


def refunds_by_order(brand_id: int, order_ids: list[str]) -> dict[str, dict[str, dict]]:
    """Refunded quantity and amount per order and product, from the refunds already sent."""
    out: dict[str, dict[str, dict]] = defaultdict(dict)
    credits = RecordState.objects.filter(
        brand_id=brand_id,
        flow=REFUNDS_FLOW,
        match_key__in=order_ids,
        status=RecordStatus.SYNCED,
    ).values_list("match_key", "last_pushed")
    for order_id, pushed in credits:
        for product_id, line in (pushed.get("credit_lines") or {}).items():
            slot = out[order_id].setdefault(product_id, {"quantity": 0, "amount": 0.0})
            slot["quantity"] += line["quantity"]
            slot["amount"] += line["amount"]
    return out


def unmapped_wait(order: dict, noun: str = "order") -> Wait:
    status_id, name = order_status(order)
    return Wait(
        source_id=str(order["id"]),
        reason=f"Status “{name}” (id {status_id}) has no mapping.",
        source_updated=when(order.get("updatedOn")),
        match_key=str(status_id),
    )


class OrderLifecycleFlow(Flow):
    code = FLOW
    label = "Order lifecycle → Ometria"
    description = (
        "Brightpearl sales orders and their status, as Ometria orders and lifecycle stages."
    )
    target = "ometria"
    kind = "order"
    lock_group = "ometria-orders"
    overlap_batches = True
    noun = "orders"
    default_schedule_minutes = 15
    # Both on Brightpearl's list; it names no "order.created" (a new order made another way
    # than the Sales Order POST is found by the schedule, or by its first status change).
    webhook_events = ("order.modified.order-status", "sales-order.created")

    def read(self, ctx: FlowContext) -> Iterator[list[dict]]:
        bp = ctx.connector("brightpearl")
        ids = source_ids(
            ctx, full=bp.all_order_ids, changed=bp.changed_order_ids, id_column="orderId"
        )
        for orders in fetched(ctx, ids, bp.orders, key=lambda o: o["id"]):
            ctx.cache["refunds"] = refunds_by_order(ctx.brand_id, [str(o["id"]) for o in orders])
            yield orders

    def transform(self, ctx: FlowContext, order: dict) -> Push | Wait | Skip:
        if order.get("orderTypeCode", "SO") != "SO":
            # A webhook names sales credits as orders too; the refunds flow sends those.
            return Skip(str(order["id"]), "A sales credit, not a sales order.")
        status_id, _ = order_status(order)
        mapping = ctx.status_map.get(status_id)
        if mapping is None:
            return unmapped_wait(order)
        payload = order_payload(
            order, mapping, ctx.cache.get("refunds", {}).get(str(order["id"]), {})
        )
        return Push(
            source_id=str(order["id"]),
            payload=payload,
            target_id=payload["id"],
            source_updated=when(order.get("updatedOn")),
            match_key=str(status_id),
        )

    def write(self, ctx: FlowContext, pushes: list[Push]) -> BatchResult:
        return push_to_ometria(ctx, pushes)

    def state_of(self, payload: dict) -> dict:
        return order_summary(payload)

    def finish(self, ctx: FlowContext) -> None:
        raise_status_tickets(ctx)


def push_to_ometria(ctx: FlowContext, pushes: list[Push]) -> BatchResult:
    """Push payloads; the result is keyed by source id (Ometria's ids may differ)."""
    by_target = {p.payload["id"]: p.source_id for p in pushes}
    ometria = ctx.connector("ometria")
    ometria.on_push = push_remembered(ctx, by_target)
    sent = ometria.push([public(p.payload) for p in pushes])
    result = BatchResult(ok=[by_target.get(t, t) for t in sent.ok], info=sent.info)
    result.failed = {by_target.get(t, t): e for t, e in sent.failed.items()}
    return result


# The flows whose records wait on an order's status (match_key: the status id); one ticket
# per status covers them all.
STATUS_WAITERS = (FLOW, REFUNDS_FLOW, "shipments", "mailchimp_purchases")
WHAT_WAITS = {
    FLOW: "order",
    REFUNDS_FLOW: "refund",
    "shipments": "shipment",
    "mailchimp_purchases": "Mailchimp purchase",
}


def raise_status_tickets(ctx: FlowContext) -> None:
    """One ticket per unmapped status (not per order), listing what waits on it: the orders,
    and the refunds and shipments of orders in that status.

    A status that is mapped now, or that nothing waits on any more, has its ticket
    resolved: that is how adding a mapping closes the ticket. Every flow that waits on a
    status calls this after its run, so its records are never held without a ticket.
    """
    waiting: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    names: dict[str, str] = {}
    for flow, source_id, key, detail in RecordState.objects.filter(
        brand_id=ctx.brand_id, flow__in=STATUS_WAITERS, status=RecordStatus.WAITING
    ).values_list("flow", "source_id", "match_key", "detail"):
        if not key.isdigit():
            continue  # waiting on something else (a value map, a missing order)
        waiting[key][flow].append(source_id)
        names.setdefault(key, detail)
    mapped = {str(k) for k in ctx.status_map}
    for status_id, by_flow in waiting.items():
        if status_id in mapped:
            continue
        name = _status_name(names[status_id])
        for ids in by_flow.values():
            ids.sort(key=id_order)
        orders = by_flow.get(FLOW, [])
        counts = [
            f"{len(ids)} {WHAT_WAITS[flow]}{pluralize(len(ids))}"
            for flow, ids in sorted(by_flow.items(), key=lambda kv: STATUS_WAITERS.index(kv[0]))
        ]
        ticket_raise(
            brand=ctx.brand_id,
            type_code="unmapped_status",
            title=f"Order status “{name}” has no mapping: {_and(counts)} waiting",
            flow=FLOW,
            source_system="brightpearl",
            source_id=f"status:{status_id}",
            snapshot={
                "status_id": int(status_id) if status_id.isdigit() else status_id,
                "status_name": name,
                "waiting_count": len(orders),
                "waiting_ids": orders[:WAITING_LISTED],
                "also_waiting": {
                    flow: ids[:WAITING_LISTED] for flow, ids in by_flow.items() if flow != FLOW
                },
            },
            error_message=f"Brightpearl status “{name}” (id {status_id}) is not mapped "
            "to an Ometria stage.",
            retry_of=ctx.retry_ticket() if ctx.flow.code == FLOW else None,
        )
    still_waiting = {f"status:{s}" for s, by_flow in waiting.items() if by_flow and s not in mapped}
    stale = [
        source_id
        for source_id in Ticket.objects.filter(
            brand_id=ctx.brand_id, type__code="unmapped_status", status__in=OPEN_STATUSES
        ).values_list("source_id", flat=True)
        if source_id not in still_waiting
    ]
    if stale:
        tickets_autoresolve(
            brand=ctx.brand_id,
            source_system="brightpearl",
            source_ids=stale,
            type_codes=["unmapped_status"],
            note="The status is mapped now and nothing waits on it any more.",
        )


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _status_name(detail: str) -> str:
    # detail reads: Status “Name” (id 12) has no mapping.
    if "“" in detail and "”" in detail:
        return detail.split("“", 1)[1].split("”", 1)[0]
    return detail

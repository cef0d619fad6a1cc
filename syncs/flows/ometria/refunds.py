"""Refunds: completed Brightpearl sales credits → the refunded lines of the Ometria order.

A credit is linked to its sales order (parentId) and so to the order's contact. The
order is pushed whole, with each line's refunded quantity and amount, which lowers the
customer's lifetime value in Ometria and takes a returned item out of review requests.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connectors.http import BatchResult
from syncs.flows.base import Flow, Push, Skip, Wait
from syncs.flows.ometria.order_lifecycle import (
    FLOW as ORDER_FLOW,
)
from syncs.flows.ometria.order_lifecycle import (
    order_payload,
    order_status,
    order_summary,
    push_to_ometria,
    raise_status_tickets,
    unmapped_wait,
)
from syncs.flows.reading import fetched, source_ids, when
from syncs.models import RecordState, RecordStatus

if TYPE_CHECKING:
    from syncs.engine import FlowContext

FLOW = "refunds"
# Brightpearl's status `state` for a credit that has paid the customer back. Matched whole:
# a name such as "Incomplete" or "Not refunded" must never count as done.
COMPLETE_STATES = {"complete", "completed", "closed"}


def _number(value: Any) -> Decimal:
    if isinstance(value, dict):
        value = value.get("magnitude", value.get("value", 0))
    return Decimal(str(value or 0))


def credit_parent(credit: dict) -> str:
    return str(credit.get("parentId") or credit.get("parentOrderId") or "")


def credit_lines(credit: dict) -> dict[str, dict]:
    """Refunded quantity and amount per product of one credit."""
    rows = credit.get("rows") or credit.get("orderRows") or []
    if isinstance(rows, dict):
        rows = list(rows.values())
    lines: dict[str, dict] = {}
    for row in rows:
        product_id = str(row.get("productId", ""))
        value = row.get("rowValue") or {}
        amount = (
            _number(row["total"])
            if "total" in row
            else _number(row.get("net", (value.get("rowNet") or {}).get("value")))
            + _number(row.get("tax", (value.get("rowTax") or {}).get("value")))
        )
        slot = lines.setdefault(product_id, {"quantity": 0, "amount": 0.0})
        slot["quantity"] += int(_number(row.get("quantity")))
        slot["amount"] = round(slot["amount"] + float(amount), 2)
    return lines


class RefundsFlow(Flow):
    code = FLOW
    label = "Refunds → Ometria"
    description = "Completed Brightpearl sales credits, as refunded lines on the Ometria order."
    target = "ometria"
    kind = "credit"
    # A refund is sent as its whole order.
    target_kind = "order"
    lock_group = "ometria-orders"
    noun = "credits"
    default_schedule_minutes = 5
    # Brightpearl documents no sales-credit event to subscribe to: refunds run on their
    # (frequent) schedule.
    webhook_events = ()

    def _complete_statuses(self, ctx: FlowContext) -> set[int]:
        """The credit statuses that mean "refunded": the Brightpearl connection's setting
        `credit_complete_status_ids` when set, else the statuses whose state says so."""
        if "credit_complete" not in ctx.cache:
            bp = ctx.connector("brightpearl")
            chosen = bp.settings.get("credit_complete_status_ids")
            if chosen:
                ctx.cache["credit_complete"] = {int(s) for s in chosen}
            else:
                ctx.cache["credit_complete"] = {
                    int(s["statusId"])
                    for s in bp.order_statuses()
                    if s.get("orderTypeCode") == "SC"
                    and str(s.get("state", "")).strip().lower() in COMPLETE_STATES
                }
        return ctx.cache["credit_complete"]

    def read(self, ctx: FlowContext) -> Iterator[list[dict]]:
        bp = ctx.connector("brightpearl")
        ids = source_ids(
            ctx,
            full=lambda: bp.all_order_ids("SC"),
            changed=bp.changed_sales_credit_ids,
            id_column="orderId",
        )
        for credits in fetched(ctx, ids, bp.sales_credits, key=lambda c: c["id"]):
            parents = sorted({credit_parent(c) for c in credits if credit_parent(c)})
            ctx.cache["parents"] = {str(o["id"]): o for o in bp.orders(parents)}
            # Every completed credit of these orders, sent before or in this batch: the
            # order goes out with all of its refunds, not only the newest.
            ctx.cache["earlier"] = _earlier_credits(ctx, parents)
            ctx.cache["batch"] = defaultdict(list)
            for c in credits:
                if self._is_complete(ctx, c):
                    ctx.cache["batch"][credit_parent(c)].append(c)
            yield credits

    def _is_complete(self, ctx: FlowContext, credit: dict) -> bool:
        status = credit.get("statusId") or (credit.get("orderStatus") or {}).get("orderStatusId")
        return int(status or 0) in self._complete_statuses(ctx)

    def transform(self, ctx: FlowContext, credit: dict) -> Push | Wait | Skip:
        credit_id = str(credit["id"])
        if not self._is_complete(ctx, credit):
            return Skip(credit_id, "The credit is not complete yet.")
        parent_id = credit_parent(credit)
        order = ctx.cache["parents"].get(parent_id)
        if order is None:
            return Wait(
                credit_id, f"Its sales order {parent_id or '(none)'} is not in Brightpearl."
            )
        mapping = ctx.status_map.get(order_status(order)[0])
        if mapping is None:
            # The credit waits with its order, on the status's one ticket.
            wait = unmapped_wait(order)
            return Wait(
                credit_id,
                wait.reason,
                source_updated=when(credit.get("updatedOn")),
                match_key=wait.match_key,
            )
        refunds: dict[str, dict] = defaultdict(lambda: {"quantity": 0, "amount": 0.0})
        credits_of_order = {
            **ctx.cache["earlier"].get(parent_id, {}),
            **{str(c["id"]): credit_lines(c) for c in ctx.cache["batch"].get(parent_id, [])},
        }
        for lines in credits_of_order.values():
            for product_id, line in lines.items():
                refunds[product_id]["quantity"] += line["quantity"]
                refunds[product_id]["amount"] += line["amount"]
        payload = order_payload(order, mapping, refunds)
        payload["_credit_lines"] = credit_lines(credit)
        return Push(
            source_id=credit_id,
            payload=payload,
            target_id=payload["id"],
            source_updated=when(credit.get("updatedOn")),
            match_key=parent_id,
            also_state=(
                ORDER_FLOW,
                parent_id,
                str(order_status(order)[0]),
                when(order.get("updatedOn")),
            ),
        )

    def write(self, ctx: FlowContext, pushes: list[Push]) -> BatchResult:
        # Several credits of one order in a batch make the same order: send it once.
        last: dict[str, Push] = {}
        for push in pushes:
            last[push.target_id] = push
        sent = push_to_ometria(ctx, list(last.values()))
        by_order_ok = {last[t].target_id for t in last if last[t].source_id in sent.ok}
        result = BatchResult(info=sent.info)
        for push in pushes:
            representative = last[push.target_id]
            if representative.source_id in sent.failed:
                result.failed[push.source_id] = sent.failed[representative.source_id]
            elif push.target_id in by_order_ok:
                result.ok.append(push.source_id)
        return result

    def state_of(self, payload: dict) -> dict:
        return {**order_summary(payload), "credit_lines": payload.get("_credit_lines", {})}

    def finish(self, ctx: FlowContext) -> None:
        raise_status_tickets(ctx)


def _earlier_credits(ctx: FlowContext, parents: list[str]) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = defaultdict(dict)
    for source_id, parent, pushed in RecordState.objects.filter(
        brand_id=ctx.brand_id, flow=FLOW, match_key__in=parents, status=RecordStatus.SYNCED
    ).values_list("source_id", "match_key", "last_pushed"):
        out[parent][source_id] = pushed.get("credit_lines") or {}
    return out

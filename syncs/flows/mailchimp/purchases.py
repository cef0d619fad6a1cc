"""Purchase events: Brightpearl sales orders → Mailchimp e-commerce orders, first in line.

Why e-commerce orders and not member events: an e-commerce order carries exactly what the
segments need (the customer's id, the order's value and date) and Mailchimp keeps each
customer's `orders_count` and `total_spent` (their lifetime value) from the orders, which
its "purchased in the last N days" and "total spent" segment conditions read. An order can
be updated when it is refunded (a lower `order_total` lowers the lifetime value) and
cancelled with `cancelled_at_foreign`, which takes it out of "recent purchasers". A member
event (POST /lists/{id}/members/{hash}/events) can be neither updated nor cancelled, and its
properties are text, so no segment could sum them.

- **Fast:** the flow declares Brightpearl's order webhooks, so a new order is a scoped run
  (syncs/webhooks.py), which goes on the events queue (syncs/services.run_queue) and takes
  from the brand's Mailchimp budget ahead of bulk work (connectors/budget.py): a backfill of
  contacts never holds it up.
- **Consent stays Mailchimp's:** the customer goes with `opt_in_status: false`, which "will
  never overwrite the opt-in status of a pre-existing Mailchimp list member"; a buyer who is
  not a member yet joins as transactional, never subscribed.
- **Never guessed:** an order in a status the brand has not mapped waits (one ticket per
  status, shared with the Ometria order flows); a buyer in a customer group with no
  Mailchimp mapping waits with that value's ticket; a wholesale buyer (a group mapped "not
  in this audience") is not sent to the retail audience at all.
- **Idempotent:** the Mailchimp order id is the Brightpearl order id. A POST sent again (a
  lost answer) is refused as existing and PATCHed instead: never a second order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connectors.errors import RejectedError
from connectors.http import BatchResult, RecordError
from syncs.flows.base import Flow, Push, Skip, Wait, public
from syncs.flows.mailchimp.maps import BP_CUSTOMER_GROUP_TO_MC as GROUPS
from syncs.flows.mailchimp.maps import NOT_IN_AUDIENCE, PURCHASES
from syncs.flows.ometria.order_lifecycle import (
    money,
    order_status,
    raise_status_tickets,
    unmapped_wait,
)
from syncs.flows.ometria.refunds import RefundsFlow, credit_lines, credit_parent
from syncs.flows.reading import fetched, id_order, source_ids, when
from syncs.valuemaps.quarantine import unmapped_wait as value_wait
from syncs.valuemaps.quarantine import used

if TYPE_CHECKING:
    from syncs.engine import FlowContext

FLOW = PURCHASES
# Bulk runs with at least this many orders to write send them by batch operations; fewer go
# one by one (a batch costs a poll of a second or more, a few orders cost less than that).
BATCHED_FROM = 20


def customer_group(contact: dict | None) -> str:
    group = (contact or {}).get("customerGroup") or {}
    return str(group.get("name") or "") if isinstance(group, dict) else str(group)


def mailchimp_order(order: dict, *, cancelled: bool, refunded: Decimal) -> dict[str, Any]:
    """The e-commerce order (openapi `E_commerce_Order_1`) for a Brightpearl sales order."""
    total = Decimal(str((order.get("totalValue") or {}).get("total") or 0))
    kept = max(total - refunded, Decimal(0))
    customer = (order.get("parties") or {}).get("customer") or {}
    lines = []
    rows = sorted((order.get("orderRows") or {}).items(), key=lambda kv: id_order(kv[0]))
    for row_id, row in rows:
        quantity = Decimal(str((row.get("quantity") or {}).get("magnitude", 0)))
        value = row.get("rowValue") or {}
        gross = Decimal(str((value.get("rowNet") or {}).get("value", 0))) + Decimal(
            str((value.get("rowTax") or {}).get("value", 0))
        )
        product_id = str(row.get("productId", ""))
        lines.append(
            {
                "id": str(row_id),
                "product_id": product_id,
                "product_variant_id": product_id,
                "quantity": int(quantity),
                "price": money(gross / quantity) if quantity else 0.0,
                "_title": row.get("productName") or row.get("productSku") or product_id,
            }
        )
    if cancelled:
        financial = "cancelled"
    elif refunded and kept == 0:
        financial = "refunded"
    elif refunded:
        financial = "partially_refunded"
    else:
        financial = "paid"
    payload: dict[str, Any] = {
        "id": str(order["id"]),
        "customer": {"id": str(customer.get("contactId", ""))},
        "currency_code": (order.get("currency") or {}).get("orderCurrencyCode") or "GBP",
        "order_total": money(kept),
        "financial_status": financial,
        "processed_at_foreign": order.get("placedOn") or order.get("createdOn"),
        "lines": lines,
        "_customer": {
            "id": str(customer.get("contactId", "")),
            "email_address": str(customer.get("email") or "").strip(),
            "first_name": (customer.get("addressFullName") or "").partition(" ")[0],
            "last_name": (customer.get("addressFullName") or "").partition(" ")[2],
        },
        "_refunded": money(refunded),
    }
    if cancelled:
        # Taken out of "recent purchasers" and out of the lifetime value.
        payload["cancelled_at_foreign"] = order.get("updatedOn") or order.get("placedOn")
    return payload


def wire(payload: dict) -> dict:
    """The order as Mailchimp takes it: no keys of our own, nor in its lines."""
    body = public(payload)
    body["lines"] = [public(line) for line in payload["lines"]]
    return body


class PurchasesFlow(Flow):
    code = FLOW
    label = "Purchases → Mailchimp"
    description = (
        "Each Brightpearl sales order as a Mailchimp e-commerce order, seconds after it is "
        "placed: the buyer’s id, the order’s value and date; cancelled and refunded orders "
        "update their lifetime value."
    )
    target = "mailchimp"
    kind = "order"
    target_kind = "mailchimp_order"
    noun = "orders"
    default_schedule_minutes = 15
    # A backfill reads the next orders from Brightpearl while Mailchimp runs the last ones'
    # batch operations (a write waits seconds for them, and Brightpearl's allowance would go
    # unused meanwhile). Safe: a transform reads only what its own read put in ctx.cache.
    overlap_batches = True
    # The order webhooks the Ometria order flow uses (both on Brightpearl's list): a new
    # order or a status change (a cancellation) is a scoped run on the events path.
    webhook_events = ("order.modified.order-status", "sales-order.created")
    set_up_first = (
        "Mailchimp's e-commerce store for this audience is made by the console (its id is "
        "the connection's store_id setting, or console-<audience id>)."
    )

    def read(self, ctx: FlowContext) -> Iterator[list[dict]]:
        bp = ctx.connector("brightpearl")

        def changed(since, until) -> Iterator[dict]:
            yield from bp.changed_order_ids(since, until)
            # A refund raised since changes its credit, not its order: read the order again.
            for row in bp.changed_sales_credit_ids(since, until):
                if row.get("parentOrderId"):
                    yield {"orderId": row["parentOrderId"]}

        ids = source_ids(ctx, full=bp.all_order_ids, changed=changed, id_column="orderId")
        for orders in fetched(ctx, ids, bp.orders, key=lambda o: o["id"], size=self.batch_size):
            # A webhook may name a sales credit: its order is what changed for the buyer.
            parents = {credit_parent(o) for o in orders if o.get("orderTypeCode") == "SC"}
            have = {str(o["id"]) for o in orders}
            extra = sorted((p for p in parents if p and p not in have), key=id_order)
            if extra:
                orders = orders + list(bp.orders(extra))
            sales = [o for o in orders if o.get("orderTypeCode", "SO") == "SO"]
            ctx.cache["refunded"] = self._refunded(ctx, [str(o["id"]) for o in sales])
            contacts = {
                str((o.get("parties") or {}).get("customer", {}).get("contactId", ""))
                for o in sales
            }
            contacts.discard("")
            ctx.cache["contacts"] = {
                str(c["contactId"]): c for c in bp.contacts(sorted(contacts, key=id_order))
            }
            yield orders

    def _refunded(self, ctx: FlowContext, order_ids: list[str]) -> dict[str, Decimal]:
        """What completed sales credits paid back, per order (one search, one GET per 200)."""
        if not order_ids:
            return {}
        bp = ctx.connector("brightpearl")
        credit_ids = bp.sales_credit_ids_of(order_ids)
        out: dict[str, Decimal] = defaultdict(Decimal)
        if not credit_ids:
            return out
        complete = RefundsFlow()._complete_statuses(ctx)
        for credit in bp.sales_credits(credit_ids):
            status = credit.get("statusId") or (credit.get("orderStatus") or {}).get(
                "orderStatusId"
            )
            if int(status or 0) not in complete:
                continue
            amount = sum(Decimal(str(line["amount"])) for line in credit_lines(credit).values())
            out[credit_parent(credit)] += amount
        return out

    def transform(self, ctx: FlowContext, order: dict) -> Push | Wait | Skip:
        order_id = str(order["id"])
        if order.get("orderTypeCode", "SO") != "SO":
            return Skip(order_id, "A sales credit: its order is sent with the refund.")
        updated = when(order.get("updatedOn"))
        status_id, _ = order_status(order)
        mapping = ctx.status_map.get(status_id)
        if mapping is None:
            return unmapped_wait(order)
        contact_id = str((order.get("parties") or {}).get("customer", {}).get("contactId", ""))
        group = customer_group(ctx.cache.get("contacts", {}).get(contact_id))
        if group:
            where = ctx.mapped(GROUPS.code, group)
            if where is None:
                return value_wait(GROUPS.code, group, source_id=order_id, source_updated=updated)
            if where.extra.get("audience") == NOT_IN_AUDIENCE:
                return Skip(order_id, f"A “{group}” customer: not sent to this audience.")
        payload = mailchimp_order(
            order,
            cancelled=mapping.cancels,
            refunded=ctx.cache.get("refunded", {}).get(order_id, Decimal(0)),
        )
        if not payload["_customer"]["email_address"]:
            raise ValueError("The order's customer has no email address.")
        if group:
            used(payload, GROUPS.code, group)
        return Push(
            source_id=order_id,
            payload=payload,
            target_id=order_id,
            source_updated=updated,
            match_key=str(status_id),
        )

    def write(self, ctx: FlowContext, pushes: list[Push]) -> BatchResult:
        mc = ctx.connector("mailchimp")
        if "store" not in ctx.cache:
            currency = pushes[0].payload["currency_code"] if pushes else "GBP"
            mc.store_ensure(name=str(ctx.brand), currency=currency)
            ctx.cache["store"] = True
        mc.products_ensure(
            {line["product_id"]: line["_title"] for p in pushes for line in p.payload["lines"]}
        )
        if not ctx.priority and len(pushes) >= BATCHED_FROM:
            return self._write_batched(mc, pushes)
        result = BatchResult()
        customers_put: set[str] = set()
        for push in pushes:
            customer = push.payload["_customer"]
            if customer["id"] not in customers_put:
                # Add or update the buyer first: an order then names only the customer's id.
                try:
                    mc.customer_put(customer)
                except RejectedError as exc:
                    # This buyer only (an address Mailchimp will not take): the order waits
                    # with a ticket, its neighbours go.
                    result.failed[push.source_id] = RecordError(exc.code or exc.kind, exc.plain())
                    continue
                customers_put.add(customer["id"])
            refused: RecordError | None = mc.order_upsert(wire(push.payload))
            if refused is None:
                result.ok.append(push.source_id)
            else:
                result.failed[push.source_id] = refused
        return result

    def _write_batched(self, mc: Any, pushes: list[Push]) -> BatchResult:
        """Bulk work (a backfill, a scheduled catch-up): the buyers and the orders by
        Mailchimp's batch operations, a few requests for the whole batch (connectors/
        mailchimp/ecommerce.py). Events never come here: a batch waits in Mailchimp's queue
        behind the account's other batches, an event's own calls do not."""
        buyers = {p.payload["_customer"]["id"]: p.payload["_customer"] for p in pushes}
        return mc.orders_upsert_batched([wire(p.payload) for p in pushes], list(buyers.values()))

    def state_of(self, payload: dict) -> dict:
        return {
            "customer": payload["customer"]["id"],
            "email": payload["_customer"]["email_address"],
            "total": payload["order_total"],
            "refunded": payload["_refunded"],
            "status": payload["financial_status"],
            "cancelled": bool(payload.get("cancelled_at_foreign")),
            "placed": payload.get("processed_at_foreign") or "",
            **({"_maps": payload["_maps"]} if "_maps" in payload else {}),
        }

    def finish(self, ctx: FlowContext) -> None:
        raise_status_tickets(ctx)

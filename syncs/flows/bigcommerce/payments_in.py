"""Storefront payments: each paid BigCommerce order's payment recorded once in Brightpearl, as
a customer payment (RECEIPT) against the sales order it was posted as.

The payment method comes from the brand's value map (`bc_payment_method`: the BigCommerce
method or gateway → the Brightpearl payment method, and the nominal code finance expects it
to post to). An unmapped method holds the payment, never the order: the order posts by its
own flow, the payment waits with one finance ticket per method, and goes once it is mapped.

Created through the engine's safe-create protocol: the payment's transactionRef is
"bc-order-<id>" (Brightpearl checks transactionRef and payment method for uniqueness); after
a lost answer or a killed worker it is searched for before anything is sent again, and a
refusal is searched for before it is believed, so an order is never paid twice in the ledger.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from connectors.errors import AuthError, ConfigurationError, ConnectorError, RejectedError
from connectors.http import BatchResult, RecordError, chunks
from syncs.flows.base import Flow, Push, Skip, Wait
from syncs.flows.bigcommerce.maps import STOREFRONT_PAYMENTS
from syncs.flows.bigcommerce.orders_in import before_go_live, money, when
from syncs.flows.bigcommerce.refunds_in import posted_orders
from syncs.flows.reading import EPOCH, unique
from syncs.models import RecordStatus
from syncs.valuemaps.quarantine import unmapped_wait, used

if TYPE_CHECKING:
    from syncs.engine import FlowContext

FLOW = STOREFRONT_PAYMENTS
METHOD_MAP = "bc_payment_method"
# Orders with no money taken yet: Incomplete, Declined, Awaiting Payment (BigCommerce's ids).
UNPAID = {0, 6, 7}


def transaction_ref(order_id: int | str) -> str:
    return f"bc-order-{order_id}"


class StorefrontPaymentsFlow(Flow):
    code = FLOW
    label = "Storefront payments → Brightpearl"
    description = "The payment of each paid BigCommerce order, as one Brightpearl customer payment."
    source = "bigcommerce"
    target = "brightpearl"
    kind = "payment"
    creates = True
    updates = False
    # Looked up after a lost answer only (the engine's pending link): one Brightpearl call a
    # payment. A payment recorded already is refused by Brightpearl (transactionRef and method
    # are unique), and a refusal is looked up before it is believed (write).
    lookup_first = False
    owners = {"payment": "bigcommerce"}
    noun = "payments"
    batch_size = 50
    default_schedule_minutes = 60
    webhook_events = ("store/order/created", "store/order/statusUpdated")

    def read(self, ctx: FlowContext) -> Iterator[list[dict]]:
        bc = ctx.connector("bigcommerce")
        if ctx.scope:
            ctx.total_hint = len(ctx.scope)
            ids = [i for i in unique(ctx.scope) if i.isdigit()]
            batches: Iterator[list[dict]] = (list(bc.orders(b)) for b in chunks(ids, 50))
        else:
            listed = bc.orders_modified_since(ctx.since or EPOCH)
            batches = chunks(self._with_retry(ctx, listed), self.batch_size)
        for orders in batches:
            ids = [str(o["id"]) for o in orders]
            ctx.cache["paid"] = {
                source_id
                for source_id, state in ctx.states(FLOW, ids).items()
                if state.status == RecordStatus.SYNCED
            }
            ctx.cache["posted"] = posted_orders(
                ctx.brand_id, [i for i in ids if i not in ctx.cache["paid"]]
            )
            # Payments Brightpearl holds on these orders already (one search): an order
            # another app posted and paid before the console took over is not paid again.
            posted = ctx.cache["posted"]
            ctx.cache["bp_payments"] = (
                ctx.connector("brightpearl").customer_payments_of_orders(posted.values())
                if posted
                else {}
            )
            # The gateway's own record of the money taken, for the orders to record now.
            for order in orders:
                order_id = str(order["id"])
                if order_id in ctx.cache["posted"] and int(order.get("status_id", 0)) not in UNPAID:
                    order["_transactions"] = ctx.connector("bigcommerce").transactions(
                        int(order_id)
                    )
            yield orders

    def _with_retry(self, ctx: FlowContext, listed) -> Iterator[dict]:
        seen: set[str] = set()
        for order in listed:
            seen.add(str(order["id"]))
            yield order
        left = [i for i in ctx.retry_ids if i not in seen]
        if left:
            yield from ctx.connector("bigcommerce").orders(left)

    def transform(self, ctx: FlowContext, order: dict) -> Push | Wait | Skip:
        order_id = str(order["id"])
        updated = when(order.get("date_modified"))
        if order_id in ctx.cache["paid"]:
            return Skip(order_id, "Its payment is recorded already.")
        if int(order.get("status_id", 0)) in UNPAID:
            return Skip(order_id, "No payment taken yet.")
        bp_id = ctx.cache["posted"].get(order_id)
        if not bp_id and before_go_live(ctx, order):
            return Skip(order_id, "Its order was placed before the go-live date.")
        if not bp_id:
            # The order waits itself, with its own ticket; its payment follows it.
            return Wait(
                source_id=order_id,
                reason=f"Storefront order {order_id} is not in Brightpearl yet.",
                source_updated=updated,
            )
        taken = [
            t
            for t in order.get("_transactions") or []
            if t.get("status") == "ok" and t.get("event") in ("purchase", "capture")
        ]
        # The method as the order names it; else the gateway that took the money.
        theirs = [
            str(p.get("transactionRef") or "")
            for p in ctx.cache["bp_payments"].get(int(bp_id)) or []
            if str(p.get("paymentType")) in ("RECEIPT", "CAPTURE")
            and str(p.get("transactionRef") or "") != transaction_ref(order_id)
        ]
        if theirs:
            return Skip(
                order_id,
                f"Brightpearl holds a payment for order {bp_id} already "
                f"({', '.join(r or 'no reference' for r in theirs)}): it is not paid twice.",
            )
        method = str(order.get("payment_method") or "").strip() or str(
            (taken[0].get("gateway") if taken else "") or ""
        )
        if not method:
            return Skip(order_id, "The order names no payment method (nothing was charged).")
        mapped = ctx.mapped(METHOD_MAP, method)
        if mapped is None:
            return unmapped_wait(METHOD_MAP, method, source_id=order_id, source_updated=updated)
        payload = {
            "transactionRef": transaction_ref(order_id),
            "paymentMethodCode": str(mapped),
            "paymentType": "RECEIPT",
            "orderId": int(bp_id),
            "currencyIsoCode": str(order.get("currency_code") or ""),
            # What the gateway took, where it says; else the order's total.
            "amountPaid": money(
                sum(float(t.get("amount") or 0) for t in taken)
                if taken
                else order.get("total_inc_tax")
            ),
            # The gateway's reference: finance matches the payout line by it.
            "transactionCode": str(taken[0].get("gateway_transaction_id") or "")[:64]
            if taken
            else "",
            "paymentDate": (when(order.get("date_created")) or ctx.now).isoformat(),
            "journalRef": f"BigCommerce order {order_id} ({method})",
            # Where finance expects it to land; Brightpearl takes the bank account (and so the
            # nominal) from the payment method's settings: kept for the record and the preview.
            "_nominal_code": mapped.extra.get("nominal_code", ""),
        }
        return Push(
            source_id=order_id,
            payload=used(payload, METHOD_MAP, method),
            natural_key=payload["transactionRef"],
            source_updated=updated,
        )

    def lookup(self, ctx: FlowContext, pushes: list[Push]) -> dict[str, str]:
        found = ctx.connector("brightpearl").customer_payment_ids_by_ref(
            p.natural_key for p in pushes
        )
        return {p.source_id: str(found[p.natural_key]) for p in pushes if p.natural_key in found}

    def write(self, ctx: FlowContext, pushes: list[Push]) -> BatchResult:
        bp = ctx.connector("brightpearl")
        result = BatchResult()
        for push in pushes:
            if push.target_id:
                result.ok.append(push.source_id)
                continue
            body = {k: v for k, v in push.payload.items() if not k.startswith("_")}
            try:
                result.created[push.source_id] = str(bp.create_customer_payment(body))
            except (AuthError, ConfigurationError):
                raise
            except RejectedError as exc:
                found = self.lookup(ctx, [push])
                if push.source_id in found:
                    # Refused because it is there already (recorded by an earlier attempt
                    # whose link was lost): that payment is this one.
                    result.created[push.source_id] = found[push.source_id]
                    continue
                result.failed[push.source_id] = RecordError(
                    exc.code or "rejected", exc.vendor_message or exc.plain
                )
            except ConnectorError as exc:
                result.failed[push.source_id] = RecordError(
                    exc.code or exc.kind, str(exc), definite=False
                )
        return result

    def state_of(self, payload: dict) -> dict:
        return {
            "order": payload["orderId"],
            "method": payload["paymentMethodCode"],
            "nominal_code": payload.get("_nominal_code", ""),
            "amount": payload["amountPaid"],
            "_maps": payload.get("_maps", {}),
        }

"""Storefront refunds: each BigCommerce refund becomes one Brightpearl sales credit, with the
refunded lines, on the sales order the storefront order was posted as.

The credit is created through the engine's safe-create protocol: its external ref is
"bc-refund-<refund id>", searched before every create, so a refund is never credited twice.
Brightpearl will not credit an order that is not invoiced yet: such a refund waits with one
finance ticket ("refund blocked: order not invoiced"). It is read again on every run, posted
as soon as the order is invoiced, and its ticket then resolves itself.

A record here is one refund, named "<order id>-<refund id>": BigCommerce's refund webhook
names the order (its refunds are read by the order), a retried ticket names the refund.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connectors.brightpearl.lookups import OrderRefIndex
from connectors.errors import AuthError, ConfigurationError, ConnectorError, RejectedError
from connectors.http import BatchResult, RecordError, chunks
from syncs import links
from syncs.flows.base import Flow, Push, Skip, TicketSpec, Wait
from syncs.flows.bigcommerce.orders_in import before_go_live, go_live, money
from syncs.flows.reading import EPOCH, unique, when
from syncs.models import RecordStatus

if TYPE_CHECKING:
    from syncs.engine import FlowContext

FLOW = "bigcommerce_refunds"
TICKET_TYPE = "refund_blocked"
UNMATCHED_TYPE = "refund_unmatched"
# Brightpearl's refusal of a credit on an order not invoiced (the sandbox's code: the vendor
# documents the rule, not the answer; connectors/brightpearl/README.md, Guesses).
NOT_INVOICED_CODES = {"ORDC-031"}


def record_id(order_id: int | str, refund_id: int | str) -> str:
    return f"{order_id}-{refund_id}"


def external_ref(refund_id: int | str) -> str:
    return f"bc-refund-{refund_id}"


def invoiced(order: dict) -> bool:
    return any((i or {}).get("invoiceReference") for i in order.get("invoices") or [])


class StorefrontRefundsFlow(Flow):
    code = FLOW
    label = "Storefront refunds → Brightpearl"
    description = "Each BigCommerce refund as one Brightpearl sales credit, created once."
    source = "bigcommerce"
    target = "brightpearl"
    kind = "credit"
    creates = True
    # A credit is posted once: finance owns it in Brightpearl from then on.
    updates = False
    # Someone may have keyed the credit by hand (the seed's workaround): look before creating.
    lookup_first = True
    owners = {"refund as made": "bigcommerce", "credit": "brightpearl"}
    noun = "refunds"
    batch_size = 50
    default_schedule_minutes = 60
    webhook_events = ("store/order/refund/created",)

    def read(self, ctx: FlowContext) -> Iterator[list[dict]]:
        bc = ctx.connector("bigcommerce")
        wanted: dict[str, set[str] | None] = {}  # order id → its refunds asked for (None: all)
        if ctx.scope:
            ctx.total_hint = len(ctx.scope)
            for item in unique(ctx.scope):
                order_id, _, refund_id = item.partition("-")
                self._want(wanted, order_id, refund_id)
        else:
            for order in bc.orders_modified_since(ctx.since or EPOCH):
                if Decimal(str(order.get("refunded_amount") or 0)) > 0:
                    self._want(wanted, str(order["id"]), "")
            # Refunds that waited (an order not invoiced, not posted): read again each run.
            for item in ctx.retry_ids:
                order_id, _, refund_id = item.partition("-")
                self._want(wanted, order_id, refund_id)
        for orders in chunks(sorted(wanted, key=int), self.batch_size):
            refunds = []
            for order_id in orders:
                only = wanted[order_id]
                for refund in bc.refunds(int(order_id)):
                    if only is None or str(refund["id"]) in only:
                        refunds.append(refund)
            self._prefetch(ctx, refunds)
            yield refunds

    def _want(self, wanted: dict[str, set[str] | None], order_id: str, refund_id: str) -> None:
        if not order_id.isdigit():
            return
        if not refund_id:
            wanted[order_id] = None
        elif wanted.get(order_id, set()) is not None:
            wanted.setdefault(order_id, set()).add(refund_id)  # type: ignore[union-attr]

    def _prefetch(self, ctx: FlowContext, refunds: list[dict]) -> None:
        """For refunds not credited yet: the Brightpearl order each storefront order was
        posted as, that order (invoiced? its rows), and the storefront order's products."""
        ids = [record_id(r["order_id"], r["id"]) for r in refunds]
        done = {
            source_id
            for source_id, state in ctx.states(FLOW, ids).items()
            if state.status == RecordStatus.SYNCED
        }
        ctx.cache["done"] = done
        orders = sorted(
            {str(r["order_id"]) for r in refunds if record_id(r["order_id"], r["id"]) not in done}
        )
        posted = posted_orders(ctx.brand_id, orders)
        ctx.cache["posted"] = posted
        # Orders not in Brightpearl: placed before the go-live date, or still waiting?
        bc = ctx.connector("bigcommerce")
        ctx.cache["before_go_live"] = {
            order_id
            for order_id in orders
            if order_id not in posted
            and go_live(ctx)
            and before_go_live(ctx, bc.order(int(order_id)))
        }
        ctx.cache["bp_orders"] = (
            {str(o["id"]): o for o in ctx.connector("brightpearl").orders(sorted(posted.values()))}
            if posted
            else {}
        )
        ctx.cache["bc_orders"] = {
            order_id: {
                "order": bc.order(int(order_id)),
                "products": bc.order_products(int(order_id)),
            }
            for order_id in posted
        }

    def transform(self, ctx: FlowContext, refund: dict) -> Push | Wait | Skip:
        order_id = str(refund["order_id"])
        source_id = record_id(order_id, refund["id"])
        created = when(refund.get("created"))
        if source_id in ctx.cache["done"]:
            return Skip(source_id, "Credited in Brightpearl already.")
        bp_id = ctx.cache["posted"].get(order_id)
        bp_order = ctx.cache["bp_orders"].get(str(bp_id)) if bp_id else None
        if bp_order is None and order_id in ctx.cache["before_go_live"]:
            return Skip(source_id, "Its order was placed before the go-live date.")
        if bp_order is None:
            # The storefront order waits itself (an unknown SKU, a status with no mapping),
            # with its own ticket; its refund goes once the order is posted.
            return Wait(
                source_id=source_id,
                reason=f"Storefront order {order_id} is not in Brightpearl yet.",
                source_updated=created,
            )
        found = ctx.cache["bc_orders"].get(order_id) or {}
        currency = str((found.get("order") or {}).get("currency_code") or "")
        if not invoiced(bp_order):
            return Wait(
                source_id=source_id,
                reason=f"Brightpearl order {bp_id} is not invoiced yet: it cannot be credited.",
                source_updated=created,
                ticket=TicketSpec(
                    type_code=TICKET_TYPE,
                    title=f"Refund blocked: order not invoiced (storefront order {order_id}, "
                    f"Brightpearl order {bp_id})",
                    source_id=source_id,
                    source_system="bigcommerce",
                    snapshot={
                        "order": order_id,
                        "refund": str(refund["id"]),
                        "amount": money(refund.get("total_amount")),
                        "currency": currency,
                        "order_status": str((bp_order.get("orderStatus") or {}).get("name") or ""),
                        "reason": f"Brightpearl order {bp_id} has no invoice yet.",
                    },
                    error_message=(
                        f"Brightpearl refuses a sales credit on order {bp_id} until it is "
                        "invoiced. The console tries again on every run and posts the credit "
                        "as soon as the order is invoiced."
                    ),
                ),
            )
        rows, problem = credit_rows(refund, found.get("products") or [], bp_order)
        if problem:
            # Money went back with nothing to credit it against: finance must see it.
            return Wait(
                source_id=source_id,
                reason=problem,
                source_updated=created,
                failed=True,
                ticket=TicketSpec(
                    type_code=UNMATCHED_TYPE,
                    title=f"Refund {refund['id']} on storefront order {order_id} not credited",
                    source_id=source_id,
                    source_system="bigcommerce",
                    snapshot={
                        "order": order_id,
                        "refund": str(refund["id"]),
                        "amount": money(refund.get("total_amount")),
                        "currency": currency,
                        "reason": problem,
                    },
                    error_message=problem,
                ),
            )
        customer = ((bp_order.get("parties") or {}).get("customer") or {}).get("contactId")
        payload = {
            "parentId": int(bp_id),
            "customer": {"id": int(customer)} if customer else {},
            "ref": f"BC{order_id}-R{refund['id']}",
            "externalRef": external_ref(refund["id"]),
            "rows": rows,
            "_amount": money(refund.get("total_amount")),
        }
        return Push(
            source_id=source_id,
            payload=payload,
            natural_key=payload["externalRef"],
            source_updated=created,
        )

    # --- the target side ----------------------------------------------------------------
    def lookup(self, ctx: FlowContext, pushes: list[Push]) -> dict[str, str]:
        # A credit for a refund was created after the refund: one creation window of credits
        # for the batch, not one search a refund (connectors/brightpearl/lookups.py).
        if "credit_index" not in ctx.cache:
            ctx.cache["credit_index"] = OrderRefIndex(ctx.connector("brightpearl"), order_type="SC")
        found = ctx.cache["credit_index"].find({p.natural_key: p.source_updated for p in pushes})
        return {p.source_id: str(found[p.natural_key]) for p in pushes if p.natural_key in found}

    def write(self, ctx: FlowContext, pushes: list[Push]) -> BatchResult:
        bp = ctx.connector("brightpearl")
        result = BatchResult()
        for push in pushes:
            if push.target_id:
                result.ok.append(push.source_id)
                continue
            body = {k: v for k, v in push.payload.items() if not k.startswith("_") and v != {}}
            try:
                result.created[push.source_id] = str(bp.create_sales_credit(body))
            except (AuthError, ConfigurationError):
                raise
            except RejectedError as exc:
                if exc.code in NOT_INVOICED_CODES:
                    # Invoicing was undone since the order was read: not a refusal of the
                    # credit itself. Left in doubt, it is looked up and tried again next run.
                    result.failed[push.source_id] = RecordError(
                        exc.code, "Brightpearl says the order is not invoiced yet.", definite=False
                    )
                    continue
                result.failed[push.source_id] = RecordError(
                    exc.code or "rejected", exc.vendor_message or exc.plain
                )
            except ConnectorError as exc:
                result.failed[push.source_id] = RecordError(
                    exc.code or exc.kind, str(exc), definite=False
                )
        return result

    def source_id_of(self, record: dict) -> str:
        if isinstance(record, dict) and record.get("order_id") is not None:
            return record_id(record["order_id"], record.get("id", ""))
        return "unknown"

    def state_of(self, payload: dict) -> dict:
        return {
            "parent": payload["parentId"],
            "external_ref": payload["externalRef"],
            "lines": len(payload["rows"]),
            "amount": payload["_amount"],
        }


def posted_orders(brand_id: int, order_ids: list[str]) -> dict[str, str]:
    """{storefront order id: the Brightpearl sales order it was posted as}."""
    return links.links_ids_across(
        brand_id=brand_id, kind="order", source="bigcommerce", target="brightpearl", ids=order_ids
    )


# What a refunded amount that is not goods is called on its credit row (BigCommerce's
# RefundItem item_type: orders.v3.yml `RefundItem`, `GET /v3/orders/{id}/payment_actions/
# refunds`). ORDER is a custom amount refunded at the order level.
NOT_GOODS = {
    "SHIPPING": "Shipping refunded",
    "HANDLING": "Handling refunded",
    "GIFT_WRAPPING": "Gift wrapping refunded",
    "ORDER": "Amount refunded on the order",
}
CENTS = Decimal("0.01")


def _dec(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENTS)


def credit_rows(refund: dict, products: list[dict], bp_order: dict) -> tuple[list[dict], str]:
    """The refund as credit rows whose total is the refund's: each refunded storefront line,
    by SKU, as the Brightpearl order's product (with its value); shipping, handling, gift
    wrapping and a custom amount on the order each as a free-text row. Where BigCommerce's
    own total differs from the sum of its items (its rounding, or a merchant's override of
    the total), one adjustment row says by how much, so the credit equals what went back."""
    by_id = {int(p["id"]): p for p in products}
    by_sku = {
        str(row.get("productSku") or "").lower(): row
        for row in (bp_order.get("orderRows") or {}).values()
        if row.get("productId")
    }
    goods: dict[int, dict] = {}
    other: list[dict] = []
    for item in refund.get("items") or []:
        kind = str(item.get("item_type", "")).upper()
        asked = item.get("requested_amount")
        if kind != "PRODUCT":
            amount = _dec(asked)
            if amount:
                label = NOT_GOODS.get(kind, f"{kind.replace('_', ' ').capitalize()} refunded")
                other.append(
                    {
                        "name": f"{label} (BigCommerce refund {refund.get('id', '')})".strip(),
                        "quantity": 1,
                        "net": str(amount),
                        "tax": "0.00",
                    }
                )
            continue
        product = by_id.get(int(item.get("item_id") or 0))
        if product is None:
            return [], f"Refunded line {item.get('item_id')} is not on the storefront order."
        row = by_sku.get(str(product.get("sku") or "").lower())
        if row is None:
            return [], f"SKU {product.get('sku')} is not on the Brightpearl order."
        quantity = int(item.get("quantity") or 0)
        unit_gross = Decimal(str(product.get("price_inc_tax") or 0))
        unit_tax = Decimal(str(product.get("price_tax") or 0))
        # No amount given: the line's price as the shopper paid it, times the quantity.
        gross = _dec(asked) if asked not in (None, "") else _dec(unit_gross * quantity)
        tax = _dec(gross * unit_tax / unit_gross) if unit_gross else Decimal(0)
        pid = int(row["productId"])
        line = goods.setdefault(
            pid,
            {
                "productId": pid,
                "name": str(row.get("productName") or product.get("name") or ""),
                "quantity": 0,
                "net": Decimal(0),
                "tax": Decimal(0),
            },
        )
        line["quantity"] += quantity
        line["net"] += gross - tax
        line["tax"] += tax
    rows = [
        {**line, "net": str(line["net"]), "tax": str(line["tax"])}
        for _, line in sorted(goods.items())
        if line["quantity"] > 0 or line["net"]
    ] + other
    if not rows:
        return [], "The refund lists nothing refunded."
    total = sum((_dec(r["net"]) + _dec(r["tax"]) for r in rows), Decimal(0))
    wanted = refund.get("total_amount")
    if wanted not in (None, "") and _dec(wanted) != total:
        rows.append(
            {
                "name": f"Refund adjustment: BigCommerce's total for refund {refund.get('id', '')}",
                "quantity": 1,
                "net": str(_dec(wanted) - total),
                "tax": "0.00",
            }
        )
    return rows, ""

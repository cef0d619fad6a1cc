"""Returns and credits, Brightpearl → Salesforce: a sales order's credits shown on its Order.

**Why a field update on the Order, not a related record.** Sales and service look at the
Order; what they need from a return is "how much of this order was credited, by which
credits". Two fields on the Order say it: the amount credited (Brightpearl_Credited__c, a
currency field, so it is in the Order's currency and converted like its lines) and the
credits' list (Brightpearl_Credits__c, their references, amounts and dates). A related
record per credit would need either a custom object the brand must create and secure, or
Salesforce's reduction orders, which need "Enable Reduction Orders" switched on in the org,
an OrderItem per credited line tied to an activated order's items, and whose own status
life cycle would be a second copy of Brightpearl's. The field update needs two fields, is an
upsert by the Order's Brightpearl id (idempotent: a resent call after a lost answer writes the
same values), and a credit raised later replaces both values with the new totals, so nothing
adds up twice.

One record per credited sales order: the flow reads the credits changed since its last run
(or all, in a full run), then every credit of their orders, and writes their sum. It writes
only the credit fields, never the order's own (those are the orders flow's), and an order not
yet in Salesforce waits for it with one ticket, and goes once the orders flow has made it.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from connectors.http import BatchResult, chunks
from connectors.salesforce.order_fields import CREDITED_FIELD, CREDITS_FIELD, ORDER_ID_FIELD
from syncs import links
from syncs.flows.base import Flow, Push, TicketSpec, Wait
from syncs.flows.ometria.refunds import credit_parent
from syncs.flows.reading import id_order, source_ids, unique, when
from syncs.flows.salesforce.money import rate_for
from syncs.flows.salesforce.orders_out import setting

if TYPE_CHECKING:
    from syncs.engine import FlowContext

FLOW = "salesforce_credits"
CENT = Decimal("0.01")


def credit_total(credit: dict) -> Decimal:
    total = credit.get("total") or credit.get("totalValue") or {}
    return Decimal(str(total.get("total") or 0))


class SalesforceCreditsFlow(Flow):
    code = FLOW
    label = "Credits → Salesforce orders"
    description = (
        "Each Brightpearl sales order’s credits (returns and refunds) on its Salesforce Order: "
        "the amount credited and the credits’ references."
    )
    target = "salesforce"
    kind = "order"
    # Its own link kind in Salesforce: the Order's link (kind "order") stays the orders flow's.
    target_kind = "order_credits"
    owners = {"Order credited amount and credits list": "brightpearl"}
    noun = "credited orders"
    batch_size = 200
    request_size = 200
    default_schedule_minutes = 15
    set_up_first = (
        "In Salesforce, on Order: a currency field Brightpearl_Credited__c and a long text "
        "field Brightpearl_Credits__c, visible to the integration user; and Orders → "
        "Salesforce switched on (a credit waits for its order's Order)."
    )

    def read(self, ctx: FlowContext) -> Iterator[list[dict]]:
        bp = ctx.connector("brightpearl")
        ids = source_ids(
            ctx,
            full=lambda: bp.all_order_ids("SC"),
            changed=bp.changed_sales_credit_ids,
            id_column="parentOrderId",
        )
        parents = unique(i for i in ids if str(i) not in ("", "0", "None"))
        for batch in chunks(parents, self.batch_size):
            yield self._credited(ctx, list(batch))

    def _credited(self, ctx: FlowContext, order_ids: list[str]) -> list[dict]:
        """Each order with every credit raised on it (one search, one GET a 200 credits)."""
        bp = ctx.connector("brightpearl")
        credits: dict[str, list[dict]] = {i: [] for i in order_ids}
        credit_ids = bp.sales_credit_ids_of(order_ids)
        for credit in bp.sales_credits(credit_ids) if credit_ids else []:
            credits.setdefault(credit_parent(credit), []).append(credit)
        ctx.cache["orders"] = links.links_ids_across(
            brand_id=ctx.brand_id,
            kind="order",
            source="brightpearl",
            target="salesforce",
            ids=order_ids,
        )
        return [
            {
                "id": order_id,
                "credits": sorted(credits[order_id], key=lambda c: id_order(c["id"])),
                "salesforce_order": ctx.cache["orders"].get(order_id),
            }
            for order_id in order_ids
        ]

    def echo_view(self, record: dict) -> dict:
        """An order Salesforce → Brightpearl orders made (orders_in.py keeps its external ref,
        the Salesforce Order's id, on its link) is Salesforce's: its Order carries no
        Brightpearl id to upsert by, so writing its credits would make a second Order. Its
        credits are not shown in Salesforce (as its status is not: orders_out.py)."""
        return {"externalRef": str(record.get("salesforce_order") or "")}

    def transform(self, ctx: FlowContext, record: dict) -> Push | Wait:
        order_id = str(record["id"])
        raised = record["credits"]
        updated = max(
            (when(c.get("updatedOn")) for c in raised if c.get("updatedOn")), default=None
        )
        sf_order = ctx.cache.get("orders", {}).get(order_id)
        if not sf_order:
            return Wait(
                source_id=order_id,
                reason="Its Salesforce Order is not there yet; it goes once Orders → Salesforce "
                "has made it.",
                source_updated=updated,
                ticket=TicketSpec(
                    type_code="salesforce_parent_missing",
                    title=f"Credits of order {order_id} wait for its Salesforce Order",
                    source_id=order_id,
                    snapshot={"flow": "Orders → Salesforce", "credits": [c["id"] for c in raised]},
                ),
            )
        total, lines, rates, words = Decimal(0), [], [], []
        for credit in raised:
            currency = str((credit.get("currency") or {}).get("code") or "").upper()
            rate = rate_for(ctx, currency, credit.get("createdOn"))
            amount = credit_total(credit) * (rate.factor if rate else 1)
            total += amount
            shown = f"{amount.quantize(CENT, ROUND_HALF_UP)} {rate.target if rate else currency}"
            reference = credit.get("ref") or credit.get("reference") or f"credit {credit['id']}"
            lines.append(f"{reference}: {shown} ({str(credit.get('createdOn') or '')[:10]})")
            if rate is not None:
                rates.append({"credit": str(credit["id"]), **rate.record()})
                words.append(f"{reference}: {rate.sentence()}")
        field = setting(ctx, "order_id_field", ORDER_ID_FIELD)
        payload: dict[str, Any] = {
            "Order": {
                field: order_id,
                CREDITED_FIELD: float(total.quantize(CENT, ROUND_HALF_UP)),
                CREDITS_FIELD: "\n".join(lines),
            },
            "_credits": len(raised),
            "_conversion": rates,
            "_rate_words": "; ".join(words),
        }
        return Push(
            source_id=order_id,
            payload=payload,
            target_id=sf_order,
            source_updated=updated,
            match_key=order_id,
        )

    def write(self, ctx: FlowContext, pushes: list[Push]) -> BatchResult:
        sf = ctx.connector("salesforce")
        field = setting(ctx, "order_id_field", ORDER_ID_FIELD)
        return sf.upsert("Order", field, [p.payload["Order"] for p in pushes])

    def state_of(self, payload: dict) -> dict:
        order = payload.get("Order") or {}
        summary: dict[str, Any] = {
            "credited": order.get(CREDITED_FIELD),
            "credits": payload.get("_credits"),
        }
        if payload.get("_rate_words"):
            summary["exchange_rate"] = payload["_rate_words"]
        return summary

    def written_view(self, push: Push) -> dict:
        view = dict(push.payload["Order"])
        if push.payload.get("_conversion"):
            view["exchange_rate"] = push.payload["_conversion"]
        return view

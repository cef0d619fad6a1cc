"""The totals check of a storefront order Brightpearl already holds.

The storefront flow looks every order up by its external ref before creating it: another
channel app may have posted it before the console took over, or an earlier create's answer
was lost. The console then links that order instead of posting a second one, so the order's
lines and prices are Brightpearl's, not the storefront's. BigCommerce owns the order as
placed: when the goods Brightpearl holds are not what the shopper paid for, finance must
know (their payouts will not reconcile with the ledger), with both sides side by side.

The goods are compared net of tax, to the penny: shipping is left out because the console's
own creates carry none yet (an order whose create answer was lost would differ by its
shipping alone), and tax is shown but not judged because Brightpearl recomputes it from a
rate, which may round a penny either way.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from exceptions.services import ticket_raise
from syncs.flows.base import Push

if TYPE_CHECKING:
    from syncs.engine import FlowContext

TICKET_TYPE = "order_total_mismatch"
PENNY = Decimal("0.01")
SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


def _amount(value: object) -> Decimal:
    return Decimal(str(value or 0)).quantize(PENNY)


def amount_words(value: Decimal, currency: str) -> str:
    symbol = SYMBOLS.get(currency.upper())
    return f"{symbol}{value:,.2f}" if symbol else f"{value:,.2f} {currency}".strip()


def storefront_goods(push: Push) -> tuple[Decimal, Decimal]:
    """Net and tax of the lines as the shopper paid for them (the push's rows)."""
    rows = push.payload.get("rows") or []
    return (
        sum((_amount(r.get("net")) for r in rows), Decimal(0)),
        sum((_amount(r.get("tax")) for r in rows), Decimal(0)),
    )


def brightpearl_goods(order: dict) -> tuple[Decimal, Decimal]:
    """Net and tax of a Brightpearl order's product rows (not its shipping or other rows)."""
    net = tax = Decimal(0)
    for row in (order.get("orderRows") or {}).values():
        if not row.get("productId"):
            continue
        value = row.get("rowValue") or {}
        net += _amount((value.get("rowNet") or {}).get("value"))
        tax += _amount((value.get("rowTax") or {}).get("value"))
    return net, tax


def totals_check(ctx: FlowContext, pushes: list[Push], found: dict[str, str]) -> int:
    """Raise a finance ticket for each order found in Brightpearl whose goods differ from
    the storefront's; returns how many. One read of the found orders, 200 at a time."""
    linked = [p for p in pushes if found.get(p.source_id)]
    if not linked:
        return 0
    orders = {
        str(o["id"]): o
        for o in ctx.connector("brightpearl").orders(found[p.source_id] for p in linked)
    }
    raised = 0
    for push in linked:
        bp_id = found[push.source_id]
        order = orders.get(str(bp_id))
        if order is None:
            continue
        currency = str((push.payload.get("currency") or {}).get("code") or "")
        bc_net, bc_tax = storefront_goods(push)
        bp_net, bp_tax = brightpearl_goods(order)
        if bc_net == bp_net:
            continue
        difference = bc_net - bp_net
        gap = amount_words(abs(difference), currency)
        words = (
            f"BigCommerce {amount_words(bc_net, currency)}, Brightpearl "
            f"{amount_words(bp_net, currency)}, difference {gap}"
        )
        ticket_raise(
            brand=ctx.brand_id,
            type_code=TICKET_TYPE,
            flow=ctx.flow.code,
            title=f"Storefront order {push.source_id} goods (ex tax): {words}",
            source_system="bigcommerce",
            source_id=push.source_id,
            snapshot={
                "order": push.source_id,
                "brightpearl_order": str(bp_id),
                "currency": currency,
                "bigcommerce": {"net": str(bc_net), "tax": str(bc_tax)},
                "brightpearl": {"net": str(bp_net), "tax": str(bp_tax)},
                "difference_net": str(difference),
            },
            error_message=(
                f"Brightpearl already held this order (sales order {bp_id}, found by its "
                f"external ref), so the console linked it instead of posting it again. Its "
                f"goods net of tax differ from what the shopper paid: {words}."
            ),
        )
        raised += 1
    return raised

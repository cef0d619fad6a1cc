"""Amounts for Salesforce in the currency the brand wants: the order's own (sent with its
CurrencyIsoCode), or, when the Salesforce connection's "Convert amounts to" is set, that one,
at Brightpearl's exchange rate active when the order (or credit) was raised
(connectors/brightpearl/rates.py). The rate used travels with the record: written to the
Order, kept on its link and shown on its record page."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from connectors.brightpearl.rates import Conversion, conversion, rates_read
from syncs.flows.reading import when

if TYPE_CHECKING:
    from syncs.engine import FlowContext


def convert_to(ctx: FlowContext) -> str:
    sf = ctx.connector("salesforce")
    return str(sf.settings.get("convert_currency") or "").strip().upper()


def rate_for(ctx: FlowContext, source: str, moment: str | None) -> Conversion | None:
    """The conversion from `source` to the brand's currency at `moment`; None when the brand
    converts nothing or the amount is in that currency already. Brightpearl's rates are read
    once a run (two calls). A currency Brightpearl holds no rate for is not guessed: the
    record is held as unreadable, with its ticket."""
    target = convert_to(ctx)
    source = (source or "").upper()
    if not target or not source or source == target:
        return None
    if "rates" not in ctx.cache:
        ctx.cache["rates"] = rates_read(ctx.connector("brightpearl"))
    found = conversion(ctx.cache["rates"], source, target, when(moment))
    if found is None:
        raise ValueError(
            f"Brightpearl holds no exchange rate from {source} to {target} for {moment}: add it "
            "in Brightpearl (Settings → Company → Exchange rates), then retry."
        )
    return found


def order_conversion(ctx: FlowContext, order: dict) -> Conversion | None:
    currency = str((order.get("currency") or {}).get("orderCurrencyCode") or "")
    return rate_for(ctx, currency, order.get("placedOn") or order.get("createdOn"))


def converted(amount: Decimal, rate: Conversion | None) -> Decimal:
    return amount * rate.factor if rate is not None else amount

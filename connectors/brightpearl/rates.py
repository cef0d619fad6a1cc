"""Brightpearl's currencies and exchange rates (accounting service), for converting amounts.

- `GET /accounting-service/currency-search`: columns id, title, code, symbol, exchangeRate,
  isDefault (the account's base currency), exchangeRateVarianceNominalCode
  (https://api-docs.brightpearl.com/accounting/currency/search.html).
- `GET /accounting-service/exchange-rate`: every non-base currency's rates, `{"response":
  [{currencyId, rateActiveFrom, rate, addedById}]}`, by currency ascending and active-from
  descending; the base currency is left out, "as its rate is always 1"
  (https://api-docs.brightpearl.com/accounting/exchange-rate/get.html).

A rate is the currency's value against the base currency, as Brightpearl's own help puts it
(help.brightpearl.com "Currencies and exchange rates"), so an amount in currency A is
`amount / rate(A)` in the base currency and `amount / rate(A) * rate(B)` in currency B. Rates
have a history: the one used is the last active on the day the order was placed, as
Brightpearl uses "the current exchange rate for new transactions".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.dateparse import parse_datetime

if TYPE_CHECKING:
    from connectors.brightpearl.client import Brightpearl


@dataclass(frozen=True)
class Rate:
    currency: str
    rate: Decimal
    active_from: str  # Brightpearl's rateActiveFrom, as it said it ("" for the base currency)


@dataclass
class Rates:
    base: str
    by_code: dict[str, list[tuple[datetime, Rate]]]  # newest first

    def at(self, currency: str, when: datetime | None) -> Rate | None:
        """The rate of `currency` active at `when` (the newest one if no time is given);
        None when Brightpearl has none (a currency the account does not hold)."""
        code = currency.upper()
        if code == self.base:
            return Rate(code, Decimal(1), "")
        for active_from, rate in self.by_code.get(code, []):
            if when is None or active_from <= when:
                return rate
        return None


def rates_read(bp: Brightpearl) -> Rates:
    """The account's base currency and every rate it holds (two calls)."""
    currencies = list(bp.search("/accounting-service/currency-search", {}))
    codes = {int(c["id"]): str(c["code"]).upper() for c in currencies}
    base = next((str(c["code"]).upper() for c in currencies if c.get("isDefault")), "")
    body = bp.http.json("GET", "/accounting-service/exchange-rate") or {}
    by_code: dict[str, list[tuple[datetime, Rate]]] = {}
    for row in body.get("response") or []:
        code = codes.get(int(row["currencyId"]))
        active = parse_datetime(str(row.get("rateActiveFrom") or ""))
        if not code or active is None:
            continue
        rate = Rate(code, Decimal(str(row["rate"])), str(row["rateActiveFrom"]))
        by_code.setdefault(code, []).append((active, rate))
    for rows in by_code.values():
        rows.sort(key=lambda r: r[0], reverse=True)
    return Rates(base=base, by_code=by_code)


@dataclass(frozen=True)
class Conversion:
    """What an amount in `source` becomes in `target`: multiply by `factor`."""

    source: str
    target: str
    factor: Decimal
    source_rate: Rate
    target_rate: Rate

    def sentence(self) -> str:
        """The rate used, in words, for the record's page."""
        return (
            f"1 {self.source} = {self.factor.normalize()} {self.target}, from Brightpearl's "
            f"rates {self.record()['brightpearl_rates']}"
        )

    def record(self) -> dict[str, str]:
        """The rate used, as kept on the record's link and page."""
        return {
            "from": self.source,
            "to": self.target,
            "factor": str(self.factor),
            "brightpearl_rates": f"{self.source} {self.source_rate.rate} "
            f"({self.source_rate.active_from or 'base'}), {self.target} "
            f"{self.target_rate.rate} ({self.target_rate.active_from or 'base'})",
        }


def conversion(rates: Rates, source: str, target: str, when: datetime | None) -> Conversion | None:
    """The conversion from `source` to `target` on `when`; None if either has no rate."""
    source_rate, target_rate = rates.at(source, when), rates.at(target, when)
    if source_rate is None or target_rate is None or not source_rate.rate:
        return None
    factor = (target_rate.rate / source_rate.rate).quantize(Decimal("0.000001"))
    return Conversion(source.upper(), target.upper(), factor, source_rate, target_rate)

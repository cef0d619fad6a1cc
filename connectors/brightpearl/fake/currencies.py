"""Brightpearl's currencies and exchange rates (accounting service).

- `GET /accounting-service/currency-search`: the documented columns id, title, code, symbol,
  exchangeRate, isDefault, exchangeRateVarianceNominalCode
  (https://api-docs.brightpearl.com/accounting/currency/search.html).
- `GET /accounting-service/exchange-rate` → `{"response":[{currencyId, rateActiveFrom, rate,
  addedById}]}`, by currency ascending and active-from descending, the base currency left out
  (https://api-docs.brightpearl.com/accounting/exchange-rate/get.html).
- `POST /accounting-service/currency/{currency-id}/exchange-rate` `{rateActiveFrom, rate}` →
  `{"response": 1}`; the base currency and a date before today are refused
  (https://api-docs.brightpearl.com/accounting/exchange-rate/post.html).

Every account holds GBP (its base, id 1, as the payments' CURRENCY_IDS say), EUR and USD, each
with one rate active from 1970 (the "initial (EPOCH) exchange rate" of the PUT page). The error
bodies are the documented `{"errors":[{code, message}]}` shape; their codes are a guess.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.brightpearl.fake.base import BrightpearlBase, route
from connectors.brightpearl.fake.columns import Col
from connectors.brightpearl.fake.constants import JSON_UTF8, V, errors
from connectors.sandbox.core import Request, Response, dumps, json_response, parse_time, utcnow
from connectors.sandbox.state import Rec

CURRENCY_COLUMNS = (
    Col("id", "IDSET", "num"),
    Col("title", "STRING"),
    Col("code", "STRING"),
    Col("symbol", "STRING"),
    Col("exchangeRate", "STRING"),
    Col("isDefault", "BOOLEAN"),
    Col("exchangeRateVarianceNominalCode", "STRING"),
)
# id, title, code, symbol, the rate active from 1970 (against GBP).
CURRENCIES = (
    (1, "British Pound", "GBP", "£", "1.000000"),
    (2, "Euro", "EUR", "€", "1.170000"),
    (3, "US Dollar", "USD", "$", "1.270000"),
)
EPOCH = "1970-01-01T00:00:00.000+00:00"


class CurrencyRoutes(BrightpearlBase):
    """/accounting-service/currency-search and /exchange-rate."""

    def _currencies_ensure(self, account: str) -> None:
        store = self.app.store
        if store.rows(V, account, "currency", limit=1):
            return
        for cid, title, code, symbol, rate in CURRENCIES:
            row = [cid, title, code, symbol, rate, cid == 1, "4900"]
            store.put(Rec(V, account, "currency", str(cid), dumps({}), num=cid, row=dumps(row)))
            if cid != 1:
                self._rate_put(account, cid, EPOCH, rate, added_by=4)

    def _rate_put(self, account: str, cid: int, active_from: str, rate: str, added_by: int) -> None:
        doc = {
            "currencyId": cid,
            "rateActiveFrom": active_from,
            "rate": float(rate),
            "addedById": added_by,
        }
        key = f"{cid}:{active_from}"
        self.app.store.put(
            Rec(V, account, "exchange_rate", key, dumps(doc), num=cid, updated=active_from)
        )

    @route("GET", r"/accounting-service/currency-search")
    def currency_search(self, req: Request) -> Response:
        self._currencies_ensure(req.account.code)
        return self._search(req, "currency", CURRENCY_COLUMNS)

    @route("GET", r"/accounting-service/exchange-rate")
    def exchange_rates(self, req: Request) -> Response:
        self._currencies_ensure(req.account.code)
        rows = [
            json.loads(text)
            for (text,) in self.app.store.rows(
                V, req.account.code, "exchange_rate", columns="data", order="num, updated DESC"
            )
        ]
        return json_response({"response": rows}, content_type=JSON_UTF8)

    @route("POST", r"/accounting-service/currency/(?P<cid>\d+)/exchange-rate")
    def exchange_rate_post(self, req: Request, cid: str) -> Response:
        code = req.account.code
        self._currencies_ensure(code)
        body: Any = req.json()
        if not isinstance(body, dict):
            return errors("CMNC-400", "The request body must be a JSON object", 400)
        if not self.app.store.rows(V, code, "currency", "id = ?", (cid,)):
            return errors("ACCC-404", f"Currency {cid} does not exist", 404)
        if int(cid) == 1:
            return errors("ACCC-400", "Exchange rates cannot be added to the base currency", 400)
        try:
            rate = Decimal(str(body.get("rate"))).quantize(Decimal("0.000001"))
            active = parse_time(str(body.get("rateActiveFrom")))
        except (InvalidOperation, ValueError, TypeError):
            return errors("ACCC-400", "rate and rateActiveFrom (ISO-8601) are required", 400)
        now = utcnow()
        if active.date() < now.date():
            return errors("ACCC-400", "Exchange rates cannot be added for past dates", 400)
        # Today: stamped now; a future day: its midnight (UTC), as the POST page says.
        stamp = now if active.date() == now.date() else active.replace(hour=0, minute=0, second=0)
        text = stamp.strftime("%Y-%m-%dT%H:%M:%S.000+00:00")
        self._rate_put(code, int(cid), text, str(rate), added_by=4)
        return json_response({"response": 1}, content_type=JSON_UTF8)

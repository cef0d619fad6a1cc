"""Brightpearl's price lists and product prices (product service).

Shapes: `GET /product-service/price-list/{idset?}` as api-docs.brightpearl.com/product/price-list/
get.html shows it, and `GET /product-service/product-price/{product-idset}/price-list/
{price-list-idset}` as api-docs.brightpearl.com/product/product-price/get.html shows it (at most
200 products a request). Each product's prices are stored as that page's document,
`{productId, priceLists:[{priceListId, currencyCode, currencyId, sku, quantityPrice}]}`.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from connectors.brightpearl.fake.base import BrightpearlBase, route
from connectors.brightpearl.fake.constants import JSON_UTF8, V
from connectors.brightpearl.fake.records import simple_rec
from connectors.sandbox.core import Request, Response, parse_idset, raw_json
from connectors.sandbox.state import Rec

PRICE_LIST = "price_list"
PRODUCT_PRICE = "product_price"


def price_list_doc(list_id: int, name: str, code: str, *, gross: bool = True) -> dict[str, Any]:
    """A SELL price list in GBP, as the Price List GET example shows one."""
    return {
        "id": list_id,
        "name": {"languageCode": "en", "text": name, "format": "PLAINTEXT"},
        "code": code,
        "currencyCode": "GBP",
        "currencySymbol": "£",
        "currencyId": 1,
        "priceListTypeCode": "BUY" if list_id == 0 else "SELL",
        "gross": gross,
    }


def price_list_rec(account: str, doc: dict[str, Any]) -> Rec:
    return simple_rec(account, PRICE_LIST, int(doc["id"]), doc)


def product_price_doc(product_id: int, sku: str, prices: dict[int, Decimal]) -> dict[str, Any]:
    """One product's prices {price list id: price of one}, each as a one-break map."""
    return {
        "productId": product_id,
        "priceLists": [
            {
                "priceListId": list_id,
                "currencyCode": "GBP",
                "currencyId": 1,
                "sku": sku,
                "quantityPrice": {"1": str(price)},
            }
            for list_id, price in sorted(prices.items())
        ],
    }


def product_price_rec(account: str, doc: dict[str, Any]) -> Rec:
    return simple_rec(account, PRODUCT_PRICE, int(doc["productId"]), doc)


def set_product_price(store: Any, account: str, product_id: int, list_id: int, price: Any) -> dict:
    """Set (or add) one product's price on one list, as a back office edits it."""
    doc = store.get_json(V, account, PRODUCT_PRICE, product_id)
    if doc is None:
        product = store.get_json(V, account, "product", product_id)
        if product is None:
            raise KeyError(product_id)
        doc = product_price_doc(product_id, product["identity"]["sku"], {})
    prices = {
        int(p["priceListId"]): Decimal(p["quantityPrice"]["1"])
        for p in doc["priceLists"]
        if "1" in (p.get("quantityPrice") or {})
    }
    prices[int(list_id)] = Decimal(str(price))
    sku = doc["priceLists"][0]["sku"] if doc["priceLists"] else ""
    new = product_price_doc(product_id, sku, prices)
    store.put(product_price_rec(account, new))
    return new


class PriceRoutes(BrightpearlBase):
    """/product-service/price-list and /product-service/product-price."""

    @route("GET", r"/product-service/price-list(?:/(?P<ids>[^/]*))?")
    def price_list_get(self, req: Request, ids: str | None = None) -> Response:
        rows = self.app.store.rows(V, req.account.code, PRICE_LIST, columns="num, data")
        if ids:
            wanted = {int(i) for i in parse_idset(ids)}
            rows = [r for r in rows if int(r[0]) in wanted]
        text = '{"response":[' + ",".join(d for _, d in rows) + "]}"
        return raw_json(text, content_type=JSON_UTF8)

    @route(
        "GET",
        r"/product-service/product-price/(?P<ids>[^/]+)(?:/price-list/(?P<lists>[^/]+))?",
    )
    def product_price_get(self, req: Request, ids: str, lists: str | None = None) -> Response:
        wanted = self._ids(ids, self.settings.brightpearl_idset_max)
        if isinstance(wanted, Response):
            return wanted
        only = {int(i) for i in parse_idset(lists)} if lists else None
        found = self.app.store.get_many(V, req.account.code, PRODUCT_PRICE, wanted)
        out = []
        for key in sorted(found, key=int):
            doc = json.loads(found[key])
            if only is not None:
                doc["priceLists"] = [p for p in doc["priceLists"] if p["priceListId"] in only]
            out.append(doc)
        # A guess: the page shows no answer for products without prices; like the other id-set
        # GETs recorded answering `200 {"response":[]}`, they are simply absent.
        return raw_json(json.dumps({"response": out}), content_type=JSON_UTF8)

"""Brightpearl's price lists and product prices (product service), read for the storefront.

- `GET /product-service/price-list/{idset?}` lists the account's price lists: `{id, name:{text},
  code, currencyCode, priceListTypeCode (SELL|BUY), gross}` each
  (api-docs.brightpearl.com/product/price-list/get.html).
- `GET /product-service/product-price/{product-idset}/price-list/{price-list-idset}` returns
  `[{productId, priceLists:[{priceListId, currencyCode, sku, quantityPrice:{break: "price"}}]}]`,
  at most 200 products a request (api-docs.brightpearl.com/product/product-price/get.html).

The storefront shows one price per field, so the price of a quantity of one (break "1") is the
one read; a price list with no break "1" for a product has no price for it here.

These reads live beside the client (client.py is at its size limit) and use its id-set GET,
`_get_found`, so "none of these exist" (404 CMNC-404 or `200 []`) is an empty answer here too.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.brightpearl.idsets import idset
from connectors.http import chunks

# Product ids per product-price GET (the documented request limit).
PRICE_READ_SIZE = 200


def price_lists(bp: Any) -> list[dict]:
    """The account's price lists, as Brightpearl lists them."""
    body = bp._get_found("/product-service/price-list")
    return (body or {}).get("response") or []


def product_prices(
    bp: Any, product_ids: Iterable[int | str], price_list_ids: Iterable[int | str]
) -> dict[int, dict[int, Decimal]]:
    """{product id: {price list id: the price of one}} for these products on these lists,
    200 products a request. A product or list with no price is simply absent."""
    lists = sorted({int(i) for i in price_list_ids})
    out: dict[int, dict[int, Decimal]] = {}
    if not lists:
        return out
    for batch in chunks(sorted({int(i) for i in product_ids}), PRICE_READ_SIZE):
        body = bp._get_found(
            f"/product-service/product-price/{idset(batch)}/price-list/{idset(lists)}",
            batch_size=len(batch),
            ok_statuses=(207,),
        )
        for entry in (body or {}).get("response") or []:
            prices = out.setdefault(int(entry["productId"]), {})
            for price_list in entry.get("priceLists") or []:
                price = unit_price(price_list.get("quantityPrice") or {})
                if price is not None:
                    prices[int(price_list["priceListId"])] = price
    return out


def unit_price(quantity_price: dict) -> Decimal | None:
    """The price of a quantity of one from a `quantityPrice` map ({"1": "10", "5": "9.5"})."""
    raw = quantity_price.get("1")
    if raw in (None, ""):
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        return None


def product_skus(bp: Any) -> dict[str, int]:
    """Every product's SKU (as written, trimmed) -> its id, from the product search, page by
    page. Products without a SKU are left out: nothing can be matched by them."""
    found: dict[str, int] = {}
    for row in bp.search("/product-service/product-search", {}):
        sku = str(row.get("SKU") or "").strip()
        if sku:
            found.setdefault(sku, int(row["productId"]))
    return found

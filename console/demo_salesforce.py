"""The demo brands' Salesforce price book: what an org would hold before orders flow to it.

The orders flow (syncs/flows/salesforce/orders_out.py) never writes products or prices: it
finds each SKU's Product2 by Product Code and its entry in the brand's price book. So the demo
stages them at the sandbox's Salesforce, as a brand's admin would set them up, and names the
price book on the brand's Salesforce connection. One product is left out on purpose: its
orders wait with a "product or price missing" ticket for operations, as in a real org.
"""

from __future__ import annotations

from typing import Any

from brands.models import Brand
from connectors.models import Connection
from console.demo_scenes import _answer, _control

PRICEBOOK = "Demo price book"
CURRENCY = "GBP"


def _items(control: Any, path: str, account: str) -> list[dict[str, Any]]:
    return _answer(control.get(path, params={"account": account, "limit": 100_000}))["items"]


def _insert(control: Any, account: str, sobject: str, fields: dict[str, Any]) -> dict[str, Any]:
    return _answer(
        control.post(
            "salesforce/records", json={"account": account, "type": sobject, "fields": fields}
        )
    )


def salesforce_catalog_stage(discovery: dict[str, Any], brand: Brand, account: str) -> list[str]:
    """The price book with every Brightpearl product but the last (once); returns what it
    staged, in words."""
    conn = Connection.objects.filter(brand=brand, system="salesforce").first()
    if conn is None:
        return []
    with _control(discovery) as control:
        books = [
            b
            for b in _items(control, "state/salesforce/Pricebook2", account)
            if b.get("Name") == PRICEBOOK
        ]
        book = (
            books[0]["Id"]
            if books
            else _insert(control, account, "Pricebook2", {"Name": PRICEBOOK, "IsActive": True})[
                "Id"
            ]
        )
        have = {p.get("ProductCode") for p in _items(control, "state/salesforce/Product2", account)}
        skus = [
            p["identity"]["sku"] for p in _items(control, "state/brightpearl/products", account)
        ]
        left_out = skus[-1] if skus else ""
        added = 0
        for sku in skus[:-1]:
            if sku in have:
                continue
            # The SKU in Product Code (how the orders flow finds it) and in the products
            # flow's key field, so that flow's upsert by SKU meets this product, not a twin.
            fields = {"Name": sku, "ProductCode": sku, "Brightpearl_SKU__c": sku, "IsActive": True}
            product = _insert(control, account, "Product2", fields)
            _insert(
                control,
                account,
                "PricebookEntry",
                {
                    "Pricebook2Id": book,
                    "Product2Id": product["Id"],
                    "CurrencyIsoCode": CURRENCY,
                    "UnitPrice": 10.0,
                    "IsActive": True,
                },
            )
            added += 1
    if conn.settings.get("pricebook_id") != book:
        conn.settings = {**conn.settings, "pricebook_id": book}
        conn.save(update_fields=["settings"])
    if not added:
        return []
    return [
        f"{brand.name}'s Salesforce price book with {added} products ({left_out} left out: "
        "its orders wait for operations)"
    ]

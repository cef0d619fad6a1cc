"""Shared by the stock flow's tests and its contract scenario: the warehouse map, products made
in the sandbox, and the two sides' stock read back."""

from __future__ import annotations

import json

from connectors.models import Connection
from tests.contract.scenarios import items, value_maps
from tests.fixtures import loopback

FLOW = "bigcommerce_stock"
# Both demo warehouses sell through BigCommerce's default location.
WAREHOUSES = {"1": "1", "2": "1"}


def map_warehouses(brand, mapping: dict[str, str] | None = None) -> None:
    value_maps(brand, "bp_warehouse", mapping or WAREHOUSES)


def set_safety_stock(brand, units: int | str) -> None:
    conn = Connection.objects.get(brand=brand, system="bigcommerce")
    conn.settings = {**conn.settings, "safety_stock": str(units)}
    conn.save()


def add_products(sandbox, products: list[dict]) -> list[int]:
    reply = loopback.post(f"{sandbox.url}/_sandbox/catalog/products", json={"products": products})
    reply.raise_for_status()
    return reply.json()["ids"]


def set_stock(sandbox, product_id: int | str, warehouse: int, on_hand: int) -> None:
    loopback.post(
        f"{sandbox.url}/_sandbox/brightpearl/products/{product_id}/stock",
        json={"warehouseId": warehouse, "onHand": on_hand},
    ).raise_for_status()


def storefront_levels(sandbox) -> dict[tuple[str, int], int]:
    """BigCommerce's stock: {(sku, location): units}."""
    return {
        (i["sku"], int(i["location_id"])): int(i["quantity"])
        for i in items(sandbox, "bigcommerce", "inventory")
    }


def brightpearl_on_hand(sandbox) -> dict[int, dict[int, int]]:
    """Brightpearl's on-hand stock: {product id: {warehouse: units}}."""
    code = sandbox.discovery()["brightpearl"]["account"]
    rows = sandbox.app.store.rows("brightpearl", code, "availability", columns="id, data")
    return {
        int(pid): {int(w): int(v["onHand"]) for w, v in json.loads(doc)["warehouses"].items()}
        for pid, doc in rows
    }


def brightpearl_skus(sandbox) -> dict[int, str]:
    return {int(p["id"]): p["identity"]["sku"] for p in items(sandbox, "brightpearl", "products")}

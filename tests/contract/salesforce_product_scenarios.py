"""The Salesforce product and stock flows' scenarios for the flow contract suite (listed in
scenarios.py): both upsert Product2 by the SKU, so "nothing doubled" is no two Product2
records sharing a SKU."""

from __future__ import annotations

from tests.contract.scenarios import Scenario, Snapshot, items
from tests.fixtures import loopback

SKU_FIELD = "Brightpearl_SKU__c"
STOCK_FIELD = "AvailableStock__c"
# A catalogue bigger than one collection (the demo seed has 40 products): the flows' writes
# go in several calls of 200, as a real catalogue's do.
CATALOGUE = 440


def catalogue(sandbox) -> None:
    """Products added to Brightpearl (not the storefront) up to CATALOGUE, once per seed."""
    have = len(items(sandbox, "brightpearl", "products"))
    if have >= CATALOGUE:
        return
    added = [
        {
            "sku": f"CAT-{n:04d}",
            "name": f"Catalogue item {n}",
            "stock": {"1": n % 37, "2": n % 11},
            "in_bigcommerce": False,
        }
        for n in range(CATALOGUE - have)
    ]
    loopback.post(
        f"{sandbox.url}/_sandbox/catalog/products", json={"products": added}
    ).raise_for_status()


def product2(sandbox) -> list[dict]:
    return items(sandbox, "salesforce", "Product2")


class SalesforceProducts(Scenario):
    flow = "salesforce_products"
    target = "salesforce"
    write_methods = ("PATCH",)

    def prepare(self, brand, sandbox) -> None:
        catalogue(sandbox)

    def snapshot(self, sandbox) -> Snapshot:
        return {
            p[SKU_FIELD]: (p.get("Name"), p.get("ProductCode"), p.get("IsActive"))
            for p in product2(sandbox)
        }

    def duplicates(self, sandbox) -> int:
        """Product2 records sharing a SKU: made twice."""
        return sandbox.duplicates("salesforce")["count"]

    def change(self, sandbox, source_id: str) -> bool:
        loopback.post(
            f"{sandbox.url}/_sandbox/brightpearl/products/{source_id}",
            json={"name": f"Renamed {source_id}"},
        ).raise_for_status()
        return True


class SalesforceStock(SalesforceProducts):
    flow = "salesforce_stock"

    def snapshot(self, sandbox) -> Snapshot:
        return {p[SKU_FIELD]: p.get(STOCK_FIELD) for p in product2(sandbox)}

    def change(self, sandbox, source_id: str) -> bool:
        """Goods in at the first warehouse: Salesforce must show more."""
        levels = items(sandbox, "brightpearl", "availability", id=source_id)[0]["warehouses"]
        on_hand = int((levels.get("1") or {}).get("onHand") or 0)
        loopback.post(
            f"{sandbox.url}/_sandbox/brightpearl/products/{source_id}/stock",
            json={"warehouseId": 1, "onHand": on_hand + 7},
        ).raise_for_status()
        return True


SCENARIOS = (SalesforceProducts(), SalesforceStock())

"""The flow contract's scenario for Prices → BigCommerce (registered in scenarios.py)."""

from __future__ import annotations

from decimal import Decimal

from tests.contract.scenarios import Scenario, Snapshot, _unmap_value, items, value_maps
from tests.fixtures import loopback

# The seed's price lists: Retail (1) as price, Sale (3) as sale price, RRP (2) as MSRP.
PRICE_LISTS = {"price": "1", "sale_price": "3", "retail_price": "2"}
EXTRA = 160
EXTRA_SKU = "PRICE-{:04d}"


class PricesOut(Scenario):
    flow = "bigcommerce_prices"
    target = "bigcommerce"
    write_methods = ("PUT",)

    def prepare(self, brand, sandbox) -> None:
        value_maps(brand, "bc_price_list", PRICE_LISTS)
        # The demo seed's 40 products fit one call of 50: more, so that a third of the calls'
        # answers can be lost and a kill can land between calls.
        if not items(sandbox, "bigcommerce", "variants", lookup=EXTRA_SKU.format(1).lower()):
            loopback.post(
                f"{sandbox.url}/_sandbox/catalog/products",
                json={
                    "products": [
                        {
                            "sku": EXTRA_SKU.format(n),
                            "prices": {"1": f"{10 + n % 40}.99", "2": f"{20 + n % 40}.00"}
                            | ({"3": f"{8 + n % 40}.49"} if n % 4 == 0 else {}),
                            "bigcommerce_price": "10.00",
                        }
                        for n in range(1, EXTRA + 1)
                    ]
                },
            ).raise_for_status()

    def snapshot(self, sandbox) -> Snapshot:
        return {
            v["sku"]: (v["price"], v["sale_price"], v["retail_price"])
            for v in items(sandbox, "bigcommerce", "variants")
        }

    def change(self, sandbox, source_id: str) -> bool:
        """A price rise on the Retail list: the storefront's price must follow."""
        doc = items(sandbox, "brightpearl", "product_prices", id=source_id)[0]
        retail = next(p for p in doc["priceLists"] if p["priceListId"] == 1)
        loopback.post(
            f"{sandbox.url}/_sandbox/brightpearl/products/{source_id}/price",
            json={"priceListId": 1, "price": str(Decimal(retail["quantityPrice"]["1"]) + 1)},
        ).raise_for_status()
        return True

    def unmap(self, brand, sandbox):
        """The price field's list taken away: every product waits (sale price and MSRP are
        optional, but the storefront's own price is not)."""
        return _unmap_value(brand, "bc_price_list", "price")


SCENARIOS = (PricesOut(),)

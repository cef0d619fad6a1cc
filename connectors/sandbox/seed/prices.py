"""The seed's Brightpearl price lists and product prices, and a product only Brightpearl has.

Made by arithmetic from the products (never from the seed's RNG, so every other record stays
as it was): the Retail list holds the storefront's price, except for one product in seven
whose price has gone up by 2.00 in Brightpearl and not yet on the storefront; the RRP list
holds 1.25 times the price (the storefront shows no MSRP yet); one product in five is on the
Sale list at 3.00 off. The demo brand also sells gift wrapping, a service Brightpearl holds
and the storefront does not list: with the storefront's gift card (in BigCommerce only), the
catalogue audit's two gaps.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from connectors.brightpearl import fake as bp
from connectors.brightpearl.fake.prices import (
    price_list_doc,
    price_list_rec,
    product_price_doc,
    product_price_rec,
)
from connectors.sandbox.seed.base import SeedBase
from connectors.sandbox.seed.reference import BASE

# (id, name, code): 0 is every account's cost list.
PRICE_LISTS = ((0, "Cost", "COST"), (1, "Retail", "RETAIL"), (2, "RRP", "RRP"), (3, "Sale", "SALE"))
RETAIL_LIST, RRP_LIST, SALE_LIST = 1, 2, 3
CENT = Decimal("0.01")
BP_ONLY_SKU = "WRAP-GIFT-1041"


def seed_prices(price: Decimal, n: int) -> dict[int, Decimal]:
    """The n-th seed product's price per list, from its storefront price."""
    prices = {
        0: (price * Decimal("0.4")).quantize(CENT),
        RETAIL_LIST: price + (Decimal("2.00") if n % 7 == 3 else 0),
        RRP_LIST: (price * Decimal("1.25")).quantize(CENT),
    }
    if n % 5 == 2:
        prices[SALE_LIST] = price - Decimal("3.00")
    return prices


class PriceSeed(SeedBase):
    """Price lists (reference data) and each product's prices (after the products)."""

    def brightpearl_price_lists(self) -> None:
        code = self.accounts["brightpearl"].code
        for list_id, name, list_code in PRICE_LISTS:
            self.emit(price_list_rec(code, price_list_doc(list_id, name, list_code)))

    def brightpearl_prices(self) -> None:
        code = self.accounts["brightpearl"].code
        for n, product in enumerate(self.products):
            doc = product_price_doc(product["id"], product["sku"], seed_prices(product["price"], n))
            self.emit(product_price_rec(code, doc))
        if not self.demo:
            return
        pid = self.products[-1]["id"] + 1
        doc = bp.product_doc(
            product_id=pid, sku=BP_ONLY_SKU, name="Gift wrapping", created=BASE - timedelta(days=30)
        )
        # A service: no stock to send anywhere.
        doc["stock"]["stockTracked"] = False
        self.emit(bp.product_rec(code, doc))
        prices = {RETAIL_LIST: Decimal("3.50"), RRP_LIST: Decimal("3.50")}
        self.emit(product_price_rec(code, product_price_doc(pid, BP_ONLY_SKU, prices)))
        self.facts["brightpearl_only_sku"] = BP_ONLY_SKU

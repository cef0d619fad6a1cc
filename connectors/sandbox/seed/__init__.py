"""The deterministic demo seed, and the fixed sandbox accounts.

One fixed RNG seed and one fixed base date (never now()), so the same arguments give
byte-identical data. `--orders N` scales orders, and contacts, goods-out notes, credits and
storefront orders with them; `--second-orders N` does the same for the second brand (20 orders by
default). The special cases every flow must handle are at fixed, documented
ids; `facts()` lists them and discovery (GET /_sandbox/) shows them under "seed".

    accounts.py     the fixed accounts and credentials
    reference.py    fixed inputs: statuses, tags, names, the special ids
    brightpearl.py  the Brightpearl account's records
    storefront.py   the BigCommerce store and Mailchimp audience, made from them
    prices.py       Brightpearl's price lists and product prices, a product only it has
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from connectors.sandbox.core import Account
from connectors.sandbox.seed.accounts import account_rec, make_accounts
from connectors.sandbox.seed.brightpearl import BrightpearlSeed
from connectors.sandbox.seed.prices import PriceSeed
from connectors.sandbox.seed.reference import (
    BAD_EMAIL,
    BAD_EMAIL_CONTACT,
    BASE,
    BRANDS,
    CANCELLED_STATUS,
    COMPLIANCE_CONTACT,
    CREDIT_COMPLETE_STATUS,
    CREDIT_OPEN_STATUS,
    CUSTOM_STATUSES,
    DEFAULT_ORDERS,
    DUP_EMAIL,
    DUP_EMAIL_CONTACTS,
    FRAUD_STATUS,
    RNG_SEED,
    SECOND_ORDERS,
    TAGS,
    UNKNOWN_STATUS,
    UNSUBSCRIBED_CONTACT,
    VIP_CONTACT,
    WHOLESALE_CONTACT,
)
from connectors.sandbox.seed.storefront import StorefrontSeed
from connectors.sandbox.state import Rec

__all__ = [
    "CREDIT_COMPLETE_STATUS",
    "account_rec",
    "generate",
    "make_accounts",
    "new_brand_recs",
    "reference_only",
]


class _Seed(BrightpearlSeed, PriceSeed, StorefrontSeed):
    """Builds one brand's records; keeps the facts other engineers write tests against."""

    def build(self) -> None:
        self.brightpearl_reference()
        self.brightpearl_price_lists()
        self.brightpearl_products()
        self.brightpearl_prices()
        self.brightpearl_contacts()
        self.brightpearl_orders()
        self.bigcommerce()
        self.mailchimp()
        self.flush()


def reference_only(brand: str, accounts: list[Account]) -> list[Rec]:
    """What every account has even when empty: statuses, warehouses, tags."""
    seed = _Seed(brand, 0, accounts)
    seed.brightpearl_reference()
    seed.brightpearl_price_lists()
    return seed.recs


# Small seeds are kept in memory, so the tests' reset before every test is just the writes.
_cache: dict[tuple[str, int, int], tuple[list[list[Rec]], dict[str, Any]]] = {}
CACHE_MAX_ORDERS = 5000


def generate(
    kind: str = "demo",
    orders: int | None = None,
    sink: Callable[[list[Rec]], None] | None = None,
    second_orders: int | None = None,
) -> tuple[list[Rec], dict[str, Any]]:
    """Every record of a seed, and its facts. `orders` is the demo brand's count,
    `second_orders` the second brand's (SECOND_ORDERS by default).

    With a sink, records are handed over in batches as they are made (and the returned list is
    empty), so a writer thread can store them while the rest is generated.
    """
    n_orders = DEFAULT_ORDERS if orders is None else int(orders)
    n_second = SECOND_ORDERS if second_orders is None else int(second_orders)
    if kind not in ("demo", "none"):
        raise ValueError("seed must be 'demo' or 'none'")
    if n_orders < 0 or n_second < 0:
        raise ValueError("orders cannot be negative")
    key = (kind, n_orders, n_second)
    cached = _cache.get(key)
    if cached is None:
        batches: list[list[Rec]] = []
        keep = n_orders + n_second <= CACHE_MAX_ORDERS + SECOND_ORDERS

        def collect(batch: list[Rec]) -> None:
            if keep:
                batches.append(batch)
            if sink is not None:
                sink(batch)

        # Hundreds of thousands of long-lived dicts: the cyclic GC would rescan them over and
        # over while they are built.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            facts = _generate(kind, n_orders, n_second, collect)
        finally:
            if gc_was_enabled:
                gc.enable()
        if keep:
            _cache[key] = (batches, facts)
        if sink is not None:
            return [], facts
        return [rec for batch in batches for rec in batch], facts
    batches, facts = cached
    if sink is not None:
        for batch in batches:
            sink(batch)
        return [], facts
    return [rec for batch in batches for rec in batch], facts


def _generate(
    kind: str, n_orders: int, n_second: int, sink: Callable[[list[Rec]], None]
) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "kind": kind,
        "orders": n_orders if kind == "demo" else 0,
        "second_orders": n_second if kind == "demo" else 0,
        "base_date": BASE.isoformat(),
        "rng_seed": RNG_SEED,
    }
    for brand in BRANDS:
        accounts = make_accounts(brand)
        sink([account_rec(a) for a in accounts])
        if kind == "none":
            sink(reference_only(brand, accounts))
            continue
        seed = _Seed(brand, n_orders if brand == "demo" else n_second, accounts, sink)
        seed.build()
        facts[brand] = seed_facts(seed)
    return facts


def seed_facts(seed: _Seed) -> dict[str, Any]:
    f = seed.facts
    brightpearl = {
        k: f[k]
        for k in (
            "order_ids", "contact_ids", "product_ids", "warehouse_ids", "goods_out_note_ids",
            "sales_credit_ids", "credited_order_ids", "completed_credit_ids", "open_credit_ids",
            "orders_by_status", "first_order_by_status",
            "partial_shipment", "unshipped_note_id", "uninvoiced_order_id",
        )
    }  # fmt: skip
    brightpearl["statuses"] = {doc["name"]: sid for sid, doc in seed.statuses.items()}
    brightpearl["tags"] = {name: tid for tid, name, _ in TAGS}
    brightpearl["credit_open_status_id"] = CREDIT_OPEN_STATUS
    brightpearl["credit_complete_status_id"] = CREDIT_COMPLETE_STATUS
    if "brightpearl_only_sku" in f:
        brightpearl["brightpearl_only_sku"] = f["brightpearl_only_sku"]
    if seed.demo:
        brightpearl.update(
            {
                "unknown_status_id": UNKNOWN_STATUS,
                "fraud_status_id": FRAUD_STATUS,
                "cancelled_status_id": CANCELLED_STATUS,
                "custom_status_ids": sorted(CUSTOM_STATUSES),
                "duplicate_email_contact_ids": list(DUP_EMAIL_CONTACTS),
                "duplicate_email": DUP_EMAIL,
                "bad_email_contact_id": BAD_EMAIL_CONTACT,
                "bad_email": BAD_EMAIL,
                "vip_contact_id": VIP_CONTACT,
                "wholesale_contact_id": WHOLESALE_CONTACT,
                "compliance_contact_id": COMPLIANCE_CONTACT,
                "unsubscribed_contact_id": UNSUBSCRIBED_CONTACT,
            }
        )
    else:
        brightpearl["cancelled_status_id"] = CANCELLED_STATUS
    return {
        "brightpearl": brightpearl,
        "mailchimp": f["mailchimp"],
        "bigcommerce": f["bigcommerce"],
    }


def new_brand_recs(brand: str) -> tuple[list[Account], list[Rec]]:
    """Empty accounts for one more brand (control API), with the reference data."""
    accounts = make_accounts(brand)
    return accounts, [account_rec(a) for a in accounts] + reference_only(brand, accounts)

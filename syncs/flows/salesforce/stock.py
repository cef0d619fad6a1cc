"""Stock: what Brightpearl has available, summed over the brand's chosen warehouses, goes to a
Product2 number field in Salesforce (the connection's "Stock field", AvailableStock__c unless
the brand names another).

Brightpearl owns stock. A product's figure is the stock on hand (in stock less allocated, what
can be sold) of every warehouse the Salesforce connection's "Warehouses for stock" names (blank:
every warehouse). Only a figure that differs from what the console last sent goes, in the same
sObject Collections upsert by SKU as products, 200 a call; the record carries the product's
name and code too, so a product Salesforce lacks yet is made whole, never half (Product2.Name
is required), and never twice (the upsert matches on the SKU field).

It runs on Brightpearl's `product.modified.on-hand-modified` events for the products they
name, every 15 minutes on the products of orders changed since (an order moves stock) and of
products changed, and in full once a day. A stock change that comes with no order and whose
event is lost reaches Salesforce at the daily full run. Another stock field or choice of
warehouses makes the next sweep read every product. A product Brightpearl does not track
stock for (a bundle, a service) is not sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import chain
from typing import TYPE_CHECKING

from connectors.http import BatchResult
from syncs.flows.base import Flow, Push, Skip
from syncs.flows.products_read import on_hand, products_on_orders, rules_remember
from syncs.flows.reading import fetched, source_ids
from syncs.flows.salesforce.catalog import (
    name_of,
    sku_of,
    stock_field,
    stock_warehouses,
    upsert_products,
)
from syncs.flows.salesforce.products import SEARCH, changed_products

if TYPE_CHECKING:
    from syncs.engine import FlowContext

FLOW = "salesforce_stock"
# Kept on the Salesforce connection's settings (not a field of its form): the stock field and
# warehouses the last run applied.
RULES_KEY = "stock_rules_applied"


class SalesforceStockFlow(Flow):
    code = FLOW
    label = "Stock → Salesforce"
    description = (
        "The stock Brightpearl has available in the brand’s chosen warehouses, as a number "
        "field on each Salesforce Product2, sent when it changes."
    )
    target = "salesforce"
    kind = "product"
    owners = {"Product2 stock field": "brightpearl"}
    noun = "products"
    batch_size = 200
    request_size = 200
    default_schedule_minutes = 15
    webhook_events = ("product.modified.on-hand-modified",)
    set_up_first = (
        "In Salesforce, a number field on Product2 for the stock (by default "
        "AvailableStock__c) that the integration user can edit, and the Product SKU field the "
        "products flow needs. Name the warehouses whose stock counts on the Salesforce "
        "connection (blank: every warehouse)."
    )

    def read(self, ctx: FlowContext) -> Iterator[list[dict]]:
        bp = ctx.connector("brightpearl")
        settings = ctx.connector("salesforce").settings
        field, warehouses = stock_field(settings), stock_warehouses(settings)
        ctx.cache["field"], ctx.cache["warehouses"] = field, warehouses
        ctx.cache["rules"] = f"field={field};warehouses={','.join(sorted(warehouses or ['all']))}"

        def changed(since: datetime, until: datetime) -> Iterable[dict]:
            if ctx.cache["rules"] != settings.get(RULES_KEY):
                # Another stock field or choice of warehouses since the last run: every
                # product's figure may differ, so every product is read (only what differs
                # is sent).
                ctx.log("The stock field or the warehouses changed: every product is read.")
                return bp.search(SEARCH, {})
            return chain(products_on_orders(ctx, since, None), changed_products(ctx, since, until))

        ids = source_ids(
            ctx,
            full=lambda: bp.search(SEARCH, {}),
            changed=changed,
            id_column="productId",
        )
        for batch in fetched(ctx, ids, bp.products, key=lambda p: p["id"]):
            tracked = [p["id"] for p in batch if (p.get("stock") or {}).get("stockTracked", True)]
            levels = bp.availability(tracked) if tracked else {}
            for product in batch:
                product["_warehouses"] = (levels.get(int(product["id"])) or {}).get(
                    "warehouses"
                ) or {}
            yield batch

    def transform(self, ctx: FlowContext, product: dict) -> Push | Skip:
        product_id = str(product["id"])
        sku = sku_of(product)
        if not sku:
            return Skip(product_id, "No SKU: Salesforce has nothing to match the product by.")
        if not (product.get("stock") or {}).get("stockTracked", True):
            return Skip(product_id, "Brightpearl does not track this product's stock.")
        chosen: set[str] | None = ctx.cache["warehouses"]
        available = sum(
            on_hand(level)
            for warehouse, level in product["_warehouses"].items()
            if chosen is None or str(warehouse) in chosen
        )
        return Push(
            source_id=product_id,
            payload={
                ctx.cache["field"]: available,
                # Only for a product Salesforce lacks yet: Product2.Name is required.
                "Name": name_of(product),
                "ProductCode": sku,
            },
            natural_key=sku,
        )

    def write(self, ctx: FlowContext, pushes: list[Push]) -> BatchResult:
        sent = upsert_products(ctx, pushes)
        return BatchResult(ok=list(sent.info), failed=sent.failed)

    def finish(self, ctx: FlowContext) -> None:
        rules_remember(ctx, "salesforce", RULES_KEY, ctx.cache.get("rules"))

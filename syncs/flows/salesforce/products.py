"""Products: each Brightpearl product → a Salesforce Product2, upserted by its SKU.

200 products a call through the sObject Collections upsert
(`PATCH /composite/sobjects/Product2/{SKU field}`, allOrNone false): a SKU Salesforce holds is
updated, a new one created, and sending twice never makes two. Salesforce answers each record
on its own; one it refuses (a validation rule, a field the user cannot write, a SKU on two
Product2 records) becomes a ticket and the rest of the call is written.

Brightpearl owns every field sent: Name (the product's name on its Brightpearl channel),
ProductCode (the SKU, which orders look products up by), IsActive (live in Brightpearl) and
the SKU field the upsert matches on. A product with no SKU has nothing to be matched by and
is not sent. The Product2's Salesforce id is kept in the record link (the engine's safe-create
protocol: a pending link before the first upsert; after a lost answer, one SOQL query per 200
SKUs finds what Salesforce made).

It runs on a schedule, reading the products Brightpearl changed since the last run
(product-search by updatedOn), and once a day in full (only what differs is sent).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from connectors.brightpearl.client import bp_datetime
from connectors.http import BatchResult
from syncs.flows.base import Flow, Push, Skip
from syncs.flows.reading import fetched, source_ids, when
from syncs.flows.salesforce.catalog import (
    PRODUCT,
    name_of,
    product_ids_by_sku,
    sku_of,
    upsert_products,
)

if TYPE_CHECKING:
    from syncs.engine import FlowContext

FLOW = "salesforce_products"
SEARCH = "/product-service/product-search"


def changed_products(ctx: FlowContext, since: datetime, until: datetime) -> Iterable[dict]:
    """Products Brightpearl changed since: open-ended, as its filter is to the second (a change
    in the second the run started would wait a run; one read twice is sent once)."""
    return ctx.connector("brightpearl").search(SEARCH, {"updatedOn": f"{bp_datetime(since)}/"})


class SalesforceProductsFlow(Flow):
    code = FLOW
    label = "Products → Salesforce"
    description = (
        "Brightpearl products as Salesforce Product2 records, upserted by SKU 200 a call: "
        "name, product code and whether the product is live."
    )
    target = "salesforce"
    kind = "product"
    creates = True
    owners = {"Product2 Name, ProductCode, IsActive, SKU field": "brightpearl"}
    noun = "products"
    batch_size = 200
    request_size = 200
    default_schedule_minutes = 30
    set_up_first = (
        "In Salesforce, a custom text field on Product2 (by default Brightpearl_SKU__c) marked "
        "External ID and Unique, which the integration user can read and edit: products are "
        "upserted by it, because Salesforce cannot upsert by Product Code."
    )

    def read(self, ctx: FlowContext) -> Iterator[list[dict]]:
        bp = ctx.connector("brightpearl")
        ids = source_ids(
            ctx,
            full=lambda: bp.search(SEARCH, {}),
            changed=lambda since, until: changed_products(ctx, since, until),
            id_column="productId",
        )
        yield from fetched(ctx, ids, bp.products, key=lambda p: p["id"])

    def transform(self, ctx: FlowContext, product: dict) -> Push | Skip:
        product_id = str(product["id"])
        sku = sku_of(product)
        if not sku:
            return Skip(product_id, "No SKU: Salesforce has nothing to match the product by.")
        status = str(product.get("status") or "LIVE").upper()
        return Push(
            source_id=product_id,
            payload={"Name": name_of(product), "ProductCode": sku, "IsActive": status == "LIVE"},
            natural_key=sku,
            source_updated=when(product.get("updatedOn")),
        )

    def lookup(self, ctx: FlowContext, pushes: list[Push]) -> dict[str, str]:
        """After a lost answer: the Product2 Salesforce holds under each SKU, if one."""
        found = product_ids_by_sku(ctx, [p.natural_key for p in pushes])
        return {p.source_id: found[p.natural_key] for p in pushes if p.natural_key in found}

    def write(self, ctx: FlowContext, pushes: list[Push]) -> BatchResult:
        sent = upsert_products(ctx, pushes)
        result = BatchResult(failed=sent.failed)
        for push in pushes:
            if push.source_id not in sent.info:
                continue
            product_id = str(sent.info[push.source_id])
            if push.target_id:
                # Salesforce's id now (a Product2 deleted there and made again has a new one).
                push.target_id = product_id
                result.ok.append(push.source_id)
            else:
                result.created[push.source_id] = product_id
        return result

    def written_view(self, push: Push) -> dict:
        return {"sobject": PRODUCT, **push.payload}

"""What the Salesforce product and stock flows share: the brand's Product2 fields, a
Brightpearl product's SKU and name, and the write itself (an sObject Collections upsert by
the SKU field, 200 a call, each record's result on its own).

Salesforce upserts only by an External ID field or a standard field with the idLookup
property (SOAP API, upsert(): "On standard objects, this call can use the name of any field
with the idLookup instead of the external ID"). Product2.ProductCode has neither, so the SKU
also goes in a custom External ID field (the connection's "Product SKU field",
Brightpearl_SKU__c unless the brand names another); ProductCode carries the SKU as well, for
people and for the order flow's look-ups.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.errors import ConfigurationError, NotFoundError
from connectors.http import BatchResult, RecordError
from connectors.salesforce.catalog import ids_by_field
from connectors.salesforce.fields import DEFAULT_PRODUCT_KEY_FIELD, DEFAULT_STOCK_FIELD
from syncs.flows.base import Push, public
from syncs.flows.salesforce.accounts import is_multiple, multiple_matches

if TYPE_CHECKING:
    from syncs.engine import FlowContext

PRODUCT = "Product2"


def product_key_field(settings: dict) -> str:
    return str(settings.get("product_key_field") or DEFAULT_PRODUCT_KEY_FIELD).strip()


def stock_field(settings: dict) -> str:
    return str(settings.get("stock_field") or DEFAULT_STOCK_FIELD).strip()


def stock_warehouses(settings: dict) -> set[str] | None:
    """The warehouses whose stock is added up; None: every one."""
    raw = str(settings.get("stock_warehouses") or "").replace(";", ",")
    chosen = {part.strip() for part in raw.split(",") if part.strip()}
    bad = sorted(w for w in chosen if not w.isdigit())
    if bad:
        raise ConfigurationError(
            f"The Salesforce connection's “Warehouses for stock” has {', '.join(bad)}: each "
            "must be a Brightpearl warehouse id (a whole number), separated by commas. "
            "Correct it on the brand's Connections page.",
            vendor="salesforce",
        )
    return chosen or None


def sku_of(product: dict) -> str:
    return str((product.get("identity") or {}).get("sku") or "").strip()


def name_of(product: dict) -> str:
    channels = product.get("salesChannels") or [{}]
    name = str((channels[0] or {}).get("productName") or "").strip()
    # Product2.Name is required (255 characters at most): the SKU stands in for a blank one.
    return (name or sku_of(product))[:255]


def upsert_products(ctx: FlowContext, pushes: list[Push]) -> BatchResult:
    """Each push's payload upserted on Product2 by its SKU (the push's natural key). The result
    is keyed by source id: a record Salesforce refused is failed alone (a SKU on several
    Product2 records is a duplicate ticket for ops, never a guess), the rest are written."""
    sf = ctx.connector("salesforce")
    field = product_key_field(sf.settings)
    result = BatchResult()
    # Two Brightpearl products with one SKU would be one Product2, each overwriting the
    # other: the first goes, the others are refused here with a ticket saying why.
    first: dict[str, Push] = {}
    for push in pushes:
        owner = first.setdefault(push.natural_key, push)
        if owner is not push:
            result.failed[push.source_id] = RecordError(
                "DUPLICATE_SKU",
                f"Brightpearl products {owner.source_id} and {push.source_id} have the same "
                f"SKU {push.natural_key}, and Salesforce keeps one Product2 per SKU: give one "
                "of them a SKU of its own in Brightpearl",
            )
    pushes = list(first.values())
    records = [{**public(p.payload), field: p.natural_key} for p in pushes]
    try:
        sent = sf.upsert(PRODUCT, field, records)
    except NotFoundError as exc:
        raise ConfigurationError(
            f"Salesforce has no External ID field {field} on Product2 that the integration "
            "user can see. Create it (a text field marked External ID and Unique, holding the "
            "SKU) or name the right one as the Salesforce connection's “Product SKU field”.",
            vendor="salesforce",
        ) from exc
    for push in pushes:
        sku = push.natural_key
        failure = sent.failed.get(sku)
        if failure is not None:
            result.failed[push.source_id] = (
                multiple_matches(ctx, PRODUCT, field, sku, "SKU")
                if is_multiple(failure)
                else failure
            )
        elif sku in sent.info:
            result.ok.append(push.source_id)
            result.info[push.source_id] = sent.info[sku]
            if sku in sent.created:
                result.created[push.source_id] = sent.created[sku]
    return result


def product_ids_by_sku(ctx: FlowContext, skus: list[str]) -> dict[str, str]:
    """The Product2 ids Salesforce holds under these SKUs (one SOQL query per 200 SKUs); a
    SKU on several records is left out (its upsert says so, and becomes a ticket)."""
    sf = ctx.connector("salesforce")
    found = ids_by_field(sf, PRODUCT, product_key_field(sf.settings), skus)
    return {sku: ids[0] for sku, ids in found.items() if len(ids) == 1}

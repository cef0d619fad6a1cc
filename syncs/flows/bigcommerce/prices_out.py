"""Prices out to the storefront, nightly: each BigCommerce price field (price, sale price,
MSRP) set from the Brightpearl price list ecommerce chose for it (Value maps → Price fields ←
price lists), for every SKU both catalogues have.

Brightpearl owns prices. A run reads every product (price changes move no `updatedOn`, so
there is no "changed since" to trust), their prices on the chosen lists (200 products a
request) and the storefront's variants, and writes only the fields whose price differs from
what BigCommerce shows, 50 variants a call (connectors/bigcommerce/catalog.py says why
variants). The price field must have a list chosen: until it has, every product waits with one
ticket for ecommerce (the value maps' quarantine), and goes when it is mapped. Sale price and
MSRP are optional: a field with no list, or a product with no price on its list, is left as
the storefront has it. Never a guessed price.

A variant BigCommerce refuses is set aside and the rest of its call written; its SKU waits
with one `price_refused` ticket for ecommerce. A SKU only one catalogue has is not this
flow's to report: the weekly catalogue audit (catalogue_audit.py) tickets it.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from connectors.bigcommerce.catalog import PRICE_FIELDS, set_variant_prices, variants
from connectors.brightpearl.prices import product_prices
from connectors.http import BatchResult, RecordError, chunks
from syncs.flows.base import Flow, Push, Skip, TicketSpec, Wait
from syncs.flows.bigcommerce.maps import BC_PRICE_LIST, PRICES
from syncs.flows.reading import source_ids
from syncs.models import RecordStatus
from syncs.valuemaps.quarantine import unmapped_wait

if TYPE_CHECKING:
    from syncs.engine import FlowContext

FLOW = PRICES
TICKET_TYPE = "price_refused"
READ_SIZE = 200
# A scoped run (a retry, the products a new mapping releases) looks this many SKUs up one by
# one at most; more, and one listing of the catalogue costs fewer calls.
SKU_LOOKUPS = 50
CENT = Decimal("0.01")
FIELD_WORDS = {"price": "price", "sale_price": "sale price", "retail_price": "MSRP"}


def money(value: Any) -> Decimal | None:
    """A price as BigCommerce or Brightpearl gives it (12.5, "12.50"), to the penny."""
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value)).quantize(CENT)
    except InvalidOperation:
        return None


def sku_key(sku: Any) -> str:
    """SKUs are matched trimmed and regardless of case, as BigCommerce looks them up."""
    return str(sku or "").strip().lower()


class PricesToStorefrontFlow(Flow):
    code = FLOW
    label = "Prices → BigCommerce"
    description = (
        "Brightpearl prices from the chosen price lists as BigCommerce price, sale price and "
        "MSRP, nightly; only the prices that differ are written."
    )
    source = "brightpearl"
    target = "bigcommerce"
    kind = "product"
    owners = {"price": "brightpearl", "sale price": "brightpearl", "MSRP": "brightpearl"}
    noun = "products"
    # Nightly, like the other daily reconciliations: every run reads every product.
    default_schedule_minutes = 24 * 60
    batch_size = 200
    set_up_first = (
        "Choose the Brightpearl price list each BigCommerce price field is set from (Value "
        "maps → Price fields ← price lists): price at least; a sale price or MSRP with none "
        "is left as the store has it."
    )

    # --- reading --------------------------------------------------------------------------
    def read(self, ctx: FlowContext) -> Iterator[list[dict]]:
        fields = {f: str(m) for f in PRICE_FIELDS if (m := ctx.mapped(BC_PRICE_LIST.code, f))}
        ctx.cache["fields"] = fields
        bp, bc = ctx.connector("brightpearl"), ctx.connector("bigcommerce")
        # The storefront's variants, by SKU: all of them in one listing (250 a call), or a
        # retry's few by their SKUs (a call each) once their products are read.
        shown: dict[str, dict] = {}
        by_sku = bool(ctx.scope) and len(ctx.scope) <= SKU_LOOKUPS
        if not by_sku:
            shown.update((sku_key(v.get("sku")), v) for v in variants(bc))
        ctx.cache["shown"] = shown

        def every_product() -> Iterator[dict]:
            return bp.search("/product-service/product-search", {})

        ids = source_ids(
            ctx, full=every_product, changed=lambda *_: every_product(), id_column="productId"
        )
        for part in chunks(ids, READ_SIZE):
            products = list(bp.products(part))
            seen = {str(p["id"]) for p in products}
            ctx.missing.extend(i for i in part if i not in seen)
            if by_sku:
                skus = [s for p in products if (s := _sku(p)) and sku_key(s) not in shown]
                shown.update((sku_key(v.get("sku")), v) for v in variants(bc, skus))
            prices = product_prices(bp, seen, {int(x) for x in fields.values()})
            states = ctx.states(FLOW, sorted(seen))
            for product in products:
                product["_prices"] = prices.get(int(product["id"]), {})
                state = states.get(str(product["id"]))
                # Settled: nothing of this record is in doubt (no answer lost, no refusal).
                product["_settled"] = state is None or state.status == RecordStatus.SYNCED
                if state is not None and state.status == RecordStatus.SYNCED:
                    product["_last"] = (state.last_pushed or {}).get("prices")
            yield products

    # --- one product ----------------------------------------------------------------------
    def transform(self, ctx: FlowContext, product: dict) -> Push | Skip | Wait:
        product_id = str(product["id"])
        sku = _sku(product)
        if not sku:
            return Skip(product_id, "No SKU: the storefront has nothing to match it by.")
        variant = ctx.cache["shown"].get(sku_key(sku))
        if variant is None:
            return Skip(product_id, "Not in BigCommerce (the weekly catalogue audit lists it).")
        if "price" not in ctx.cache["fields"]:
            # The storefront's own price has no list chosen: nothing is sent (no price is ever
            # guessed), and every product waits with the one ticket for the missing mapping.
            return unmapped_wait(BC_PRICE_LIST.code, "price", source_id=product_id)
        wanted: dict[str, str] = {}
        for field, list_id in ctx.cache["fields"].items():
            price = product["_prices"].get(int(list_id))
            if price is not None:
                wanted[field] = str(price.quantize(CENT))
        if not wanted:
            return Skip(product_id, "No price on the chosen price lists.")
        payload: dict[str, Any] = {"sku": sku, "variant_id": int(variant["id"]), "prices": wanted}
        differs = sorted(f for f in wanted if money(variant.get(f)) != Decimal(wanted[f]))
        if not differs and product.get("_settled", True):
            return Skip(product_id, "BigCommerce already shows these prices.")
        ctx.cache.setdefault("differs", {})[product_id] = differs
        if differs and product.get("_last") == wanted:
            # Sent already, yet the storefront shows otherwise (changed there by hand): the
            # content must differ from what was sent, or it would count as unchanged.
            payload["resend"] = differs
        return Push(source_id=product_id, payload=payload)

    # --- writing --------------------------------------------------------------------------
    def write(self, ctx: FlowContext, pushes: list[Push]) -> BatchResult:
        """Only the fields that differ from what BigCommerce shows, 50 variants a call."""
        items = []
        owners: dict[str, list[str]] = {}
        result = BatchResult()
        differing = ctx.cache.get("differs") or {}
        for push in pushes:
            differs = differing.get(push.source_id, [])
            if not differs:
                result.ok.append(push.source_id)  # the storefront already shows these prices
                continue
            sku = push.payload["sku"]
            owners.setdefault(sku, []).append(push.source_id)
            item: dict[str, Any] = {"id": push.payload["variant_id"], "sku": sku}
            item.update((f, float(push.payload["prices"][f])) for f in differs)
            items.append(item)
        sent = set_variant_prices(ctx.connector("bigcommerce"), items) if items else BatchResult()
        result.merge(sent.for_owners(owners))
        return result

    def state_of(self, payload: dict) -> dict:
        return {"sku": payload["sku"], "prices": payload["prices"]}

    def refusal(self, ctx: FlowContext, push: Push, failure: RecordError) -> TicketSpec:
        sku = push.payload["sku"]
        differs = (ctx.cache.get("differs") or {}).get(push.source_id) or list(
            push.payload["prices"]
        )
        return TicketSpec(
            type_code=TICKET_TYPE,
            title=f"BigCommerce refused the prices of SKU {sku}",
            source_id=push.source_id,
            snapshot={
                "sku": sku,
                "prices": {FIELD_WORDS[f]: push.payload["prices"][f] for f in differs},
                "reason": failure.message,
            },
            error_code=failure.code,
            error_message=failure.message,
        )


def _sku(product: dict) -> str:
    return str((product.get("identity") or {}).get("sku") or "").strip()

"""Stock out to the storefront: what Brightpearl has available, per warehouse, becomes the
BigCommerce stock level of each SKU at the location its warehouse is mapped to.

Brightpearl owns stock. A SKU's level at a location is the stock on hand (in stock less
allocated) of every warehouse mapped to that location, less the brand's safety stock, and
never below 0. A bundle has the level of its scarcest component: as many bundles as the
components on hand make up. Levels are written with BigCommerce's absolute adjustment, so a
repeat is harmless, 2,000 levels a call, and only the levels that differ from what the
console last wrote there go (the record's state keeps them, per location).

It runs on Brightpearl's `product.modified.on-hand-modified` events for the products they
name (and the bundles made of them), on a sweep of the products on orders changed since the
last run (an order moves stock) and of products changed, and nightly in full. Products on
sale in BigCommerce and on orders of the last minutes go first (stock_priority.py): in a
flash sale they are the ones selling out.

A stock level BigCommerce refuses (a SKU it does not have, an item tracked another way) is
set aside and the rest of the call is written; the refused SKU waits with one ticket for
operations (stock_level_refused).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from itertools import chain
from typing import TYPE_CHECKING, Any

import syncs.flows.bigcommerce.stock_priority as stock_priority
from connectors.brightpearl.client import bp_datetime
from connectors.errors import ConfigurationError
from connectors.http import BatchResult, RecordError, chunks
from syncs.flows.base import Flow, Push, Skip, TicketSpec, Wait
from syncs.flows.products_read import on_hand, products_on_orders, rules_remember
from syncs.flows.reading import source_ids
from syncs.models import RecordState, RecordStatus, ValueMap
from syncs.valuemaps.quarantine import unmapped_wait

if TYPE_CHECKING:
    from syncs.engine import FlowContext

FLOW = "bigcommerce_stock"
WAREHOUSE_MAP = "bp_warehouse"
# The nightly full push sends the products of orders changed this recently first.
RECENT_HOURS = 24
# Brightpearl reads 200 products or availabilities a GET; BigCommerce takes 2,000 levels a
# call, so a batch of 2,000 products at one location is one write.
READ_SIZE = 200
BUNDLE = "bundle"
# Kept on the BigCommerce connection's settings (not a field of its form): the safety stock
# and warehouse map the last run applied.
RULES_KEY = "stock_rules_applied"


def safety_stock(settings: dict) -> int:
    """The brand's safety stock, from its BigCommerce connection (empty: none)."""
    raw = str(settings.get("safety_stock") or "0").strip()
    if not raw.isdigit():
        raise ConfigurationError(
            f"The BigCommerce connection's safety stock is “{raw}”: it must be a whole number "
            "of units (0 for none). Correct it on the brand's Connections page.",
            vendor="bigcommerce",
        )
    return int(raw)


def rules_key(safety: int, warehouse_map: Iterable[tuple[str, str]]) -> str:
    """What every level depends on besides Brightpearl's stock, as one short text."""
    pairs = ",".join(f"{w}>{loc}" for w, loc in sorted(warehouse_map))
    return f"safety={safety};map={pairs}"


class StockToStorefrontFlow(Flow):
    code = FLOW
    label = "Stock → BigCommerce"
    description = (
        "Brightpearl stock available per warehouse as BigCommerce stock levels per location, "
        "less the brand’s safety stock."
    )
    source = "brightpearl"
    target = "bigcommerce"
    kind = "product"
    owners = {"stock level": "brightpearl"}
    noun = "products"
    default_schedule_minutes = 15
    webhook_events = ("product.modified.on-hand-modified",)
    batch_size = 2000
    set_up_first = (
        "Map each Brightpearl warehouse whose stock the storefront sells to its BigCommerce "
        "location (Value maps → Warehouses → locations), and set the brand's safety stock on "
        "its BigCommerce connection."
    )

    # --- reading --------------------------------------------------------------------------
    def read(self, ctx: FlowContext) -> Iterator[list[dict]]:
        bp = ctx.connector("brightpearl")
        ctx.cache["safety"] = safety_stock(ctx.connector("bigcommerce").settings)
        ctx.cache["locations"] = sorted(
            {
                int(v)
                for v in ValueMap.objects.filter(
                    brand_id=ctx.brand_id, kind=WAREHOUSE_MAP
                ).values_list("target_value", flat=True)
                if str(v).isdigit()
            }
        )
        mapped = ValueMap.objects.filter(brand_id=ctx.brand_id, kind=WAREHOUSE_MAP)
        ctx.cache["rules"] = rules_key(
            ctx.cache["safety"], mapped.values_list("source_value", "target_value")
        )
        on_sale, recent = stock_priority.priority(
            ctx, self._ordered(ctx, stock_priority.window_start(ctx), None)
        )
        wanted: Iterable[str] = self._ids(ctx)
        every = ctx.cache["rules"] != ctx.connector("bigcommerce").settings.get(RULES_KEY)
        if not ctx.full and ctx.resume_ids is None and (ctx.scope or not every):
            # An event's or a sweep's products (changes only, so a short list): the ones on
            # sale or just ordered are read first, so they reach the first writes. A run that
            # reads every product streams them as they come, sliced as bulk work is; its
            # writes still put those SKUs first in each call (write).
            wanted = stock_priority.first(ctx, wanted, on_sale, recent)
        for ids in chunks(wanted, self.batch_size):
            products: list[dict] = []
            for part in chunks(ids, READ_SIZE):
                found = list(bp.products(part))
                seen = {str(p["id"]) for p in found}
                ctx.missing.extend(i for i in part if i not in seen)
                products.extend(found)
            self._availability(ctx, products)
            yield products
        if not ctx.scope:
            # After the last batch is written: a sweep reads the sale list for later runs.
            stock_priority.sale_list_refresh(ctx)

    def _ids(self, ctx: FlowContext) -> Iterator[str]:
        bp = ctx.connector("brightpearl")

        def full() -> Iterable[dict]:
            recent = self._ordered(ctx, ctx.now - timedelta(hours=RECENT_HOURS), ctx.now)
            return chain(recent, bp.search("/product-service/product-search", {}))

        # The safety stock or the warehouse map changed since the last run: every level may
        # differ, so a sweep reads every product (only the differences are written).
        rules_changed = ctx.cache["rules"] != ctx.connector("bigcommerce").settings.get(RULES_KEY)

        def changed(since: datetime, until: datetime) -> Iterable[dict]:
            if rules_changed:
                ctx.log("The safety stock or the warehouse map changed: every product is read.")
                return full()
            # Open-ended: Brightpearl's filter is to the second, so a change in the second the
            # run started would wait a run; a later one read now is simply read again next time.
            window = f"{bp_datetime(since)}/"
            return chain(
                self._ordered(ctx, since, None),
                bp.search("/product-service/product-search", {"updatedOn": window}),
            )

        ids = source_ids(ctx, full=full, changed=changed, id_column="productId")
        if ctx.scope:
            # A component's stock moved: the bundles made of it move too.
            return chain(ids, self._bundles_of(ctx, set(ctx.scope)))
        return ids

    def _ordered(self, ctx: FlowContext, since: datetime, until: datetime | None) -> Iterator[dict]:
        return products_on_orders(ctx, since, until)

    def _bundles_of(self, ctx: FlowContext, components: set[str]) -> Iterator[str]:
        """The bundles (as last sent) that contain any of these products."""
        bundles = RecordState.objects.filter(
            brand_id=ctx.brand_id, flow=FLOW, match_key=BUNDLE
        ).values_list("source_id", "last_pushed")
        for source_id, last in bundles:
            if components & {str(c) for c in (last or {}).get("components", [])}:
                yield source_id

    def _availability(self, ctx: FlowContext, products: list[dict]) -> None:
        """Each product's stock per warehouse; a bundle's components' stock, by component."""
        wanted: set[int] = set()
        for product in products:
            parts = components_of(product)
            wanted.update(parts if parts is not None else [int(product["id"])])
        levels = ctx.connector("brightpearl").availability(wanted) if wanted else {}
        for product in products:
            parts = components_of(product)
            if parts is None:
                product["_warehouses"] = (levels.get(int(product["id"])) or {}).get("warehouses")
            else:
                product["_components"] = {
                    pid: (qty, (levels.get(pid) or {}).get("warehouses") or {})
                    for pid, qty in parts.items()
                }

    # --- one product ----------------------------------------------------------------------
    def transform(self, ctx: FlowContext, product: dict) -> Push | Wait | Skip:
        product_id = str(product["id"])
        sku = str((product.get("identity") or {}).get("sku") or "").strip()
        if not sku:
            return Skip(product_id, "No SKU: the storefront has nothing to match it by.")
        # Every mapped location gets a level (0 where the product has none); a warehouse
        # holding stock with no mapping holds the product back with a ticket (_by_location).
        locations: list[int] = ctx.cache["locations"]
        parts = product.get("_components")
        if parts is not None:
            if not parts:
                return Skip(product_id, "A bundle with no components.")
            per_part = {}
            for pid, (quantity, warehouses) in parts.items():
                found = self._by_location(ctx, product_id, warehouses)
                if isinstance(found, Wait):
                    return found
                per_part[pid] = {loc: units // max(quantity, 1) for loc, units in found.items()}
            raw = {loc: min(p.get(loc, 0) for p in per_part.values()) for loc in locations}
        else:
            if not (product.get("stock") or {}).get("stockTracked", True):
                return Skip(product_id, "Brightpearl does not track this product's stock.")
            found = self._by_location(ctx, product_id, product.get("_warehouses") or {})
            if isinstance(found, Wait):
                return found
            raw = found
        safety = ctx.cache["safety"]
        levels = {str(loc): max(0, raw.get(loc, 0) - safety) for loc in locations}
        payload: dict[str, Any] = {"sku": sku, "levels": levels}
        if parts is not None:
            # Kept on the bundle's state: a component's event finds its bundles by it.
            payload["_components"] = sorted(parts)
        return Push(
            source_id=product_id,
            payload=payload,
            match_key=BUNDLE if parts is not None else "",
        )

    def _by_location(
        self, ctx: FlowContext, product_id: str, warehouses: dict
    ) -> dict[int, int] | Wait:
        """Units on hand per BigCommerce location, summed over the warehouses mapped to it.
        A warehouse holding stock with no mapping holds the product back: never guessed."""
        totals: dict[int, int] = {}
        for warehouse_id, level in sorted(warehouses.items()):
            units = on_hand(level)
            mapped = ctx.mapped(WAREHOUSE_MAP, warehouse_id)
            if mapped is None:
                if units == 0:
                    continue  # an empty warehouse adds nothing wherever it would go
                return unmapped_wait(WAREHOUSE_MAP, warehouse_id, source_id=product_id)
            location = int(str(mapped))
            totals[location] = totals.get(location, 0) + units
        return totals

    # --- writing --------------------------------------------------------------------------
    def write(self, ctx: FlowContext, pushes: list[Push]) -> BatchResult:
        """The levels that differ from what the console last wrote, in calls of 2,000."""
        bc = ctx.connector("bigcommerce")
        before = ctx.states(FLOW, [p.source_id for p in pushes])
        items: list[dict] = []
        owners: dict[str, list[str]] = {}
        for push in pushes:
            sku = push.payload["sku"]
            owners.setdefault(sku, []).append(push.source_id)
            last = before.get(push.source_id)
            written: dict = {}
            if last is not None and last.status == RecordStatus.SYNCED:
                pushed = last.last_pushed or {}
                if pushed.get("sku") == sku:
                    written = pushed.get("levels") or {}
            for location, quantity in push.payload["levels"].items():
                if written.get(location) != quantity:
                    items.append({"location_id": int(location), "sku": sku, "quantity": quantity})
        on_sale, recent = ctx.cache.get("priority") or (set(), set())
        hot = {p.payload["sku"] for p in pushes if p.source_id in recent}
        # Flash sale: the SKUs selling fastest go in the first adjustment calls.
        items = stock_priority.items_first(items, on_sale, hot)
        sent = bc.set_stock_levels(items) if items else BatchResult()
        if bc.missing_locations:
            raise ConfigurationError(
                "BigCommerce has no location "
                f"{', '.join(str(i) for i in sorted(bc.missing_locations))}, and the brand's "
                "warehouse map sends stock there. Correct the map (Value maps → Warehouses → "
                "locations) to the store's locations.",
                vendor="bigcommerce",
            )
        return sent.for_owners(owners)

    def finish(self, ctx: FlowContext) -> None:
        """A run that read every product (or its changes, under the same rules) leaves the
        rules it applied on the BigCommerce connection, where the next sweep compares them."""
        rules_remember(ctx, "bigcommerce", RULES_KEY, ctx.cache.get("rules"))

    def state_of(self, payload: dict) -> dict:
        state = {"sku": payload["sku"], "levels": payload["levels"]}
        if "_components" in payload:
            state["components"] = payload["_components"]
        return state

    def refusal(self, ctx: FlowContext, push: Push, failure: RecordError) -> TicketSpec:
        sku = push.payload["sku"]
        return TicketSpec(
            type_code="stock_level_refused",
            title=f"BigCommerce refused the stock level of SKU {sku}",
            source_id=push.source_id,
            snapshot={
                "sku": sku,
                "levels": push.payload["levels"],
                "reason": failure.message,
            },
            error_code=failure.code,
            error_message=failure.message,
        )


def components_of(product: dict) -> dict[int, int] | None:
    """A bundle's components {product id: units per bundle}; None for a plain product.

    Brightpearl's product GET carries them under `composition`: `{bundle: true,
    bundleComponents: [{productId, productQuantity}]}`."""
    composition = product.get("composition") or {}
    if not composition.get("bundle"):
        return None
    parts: dict[int, int] = {}
    for part in composition.get("bundleComponents") or []:
        pid = int(part["productId"])
        parts[pid] = parts.get(pid, 0) + int(part.get("productQuantity") or 1)
    return parts

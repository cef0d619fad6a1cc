"""Which stock goes first in a flash sale: the SKUs on sale in BigCommerce and those in an
order placed lately. Their levels are the ones selling out, so a stock run reads them first
and sends them in its first adjustment calls; every other changed SKU follows in the same run.

- On sale: variants with a `sale_price`. BigCommerce's catalogue has no filter for it, so a
  sweep (every 15 minutes; never an event's run, which must stay a few calls) reads its pages,
  250 variants a call, at most once in SALE_MINUTES, after its own writes (they go first),
  and keeps the list on the BigCommerce connection (SALE_KEY, beside the stock rules): every
  run, in any worker, orders by the last list. A sale is set up ahead, so a sweep late is
  early enough.
- Recently ordered: the products of Brightpearl sales orders changed in the last
  `stock_priority_minutes` (a BigCommerce connection setting, 30 by default): storefront
  orders reach Brightpearl within minutes through the storefront orders flow, and other
  channels' orders sell the same stock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from connectors.bigcommerce import catalog
from connectors.models import Connection
from syncs.models import RecordState

if TYPE_CHECKING:
    from syncs.engine import FlowContext

SALE_MINUTES = 15
SALE_KEY = "skus_on_sale"
DEFAULT_RECENT_MINUTES = 30


def recent_minutes(settings: dict) -> int:
    raw = str(settings.get("stock_priority_minutes") or "").strip()
    return int(raw) if raw.isdigit() else DEFAULT_RECENT_MINUTES


def skus_on_sale(ctx: FlowContext) -> set[str]:
    """The brand's SKUs on sale in BigCommerce, as the last sweep read them."""
    pk = ctx.connector("bigcommerce").connection.pk
    settings = Connection.objects.values_list("settings", flat=True).get(pk=pk) or {}
    return set((settings.get(SALE_KEY) or {}).get("skus") or [])


def sale_list_refresh(ctx: FlowContext) -> None:
    """Read the SKUs on sale again if the list is SALE_MINUTES old or was never read (a
    sweep's or the nightly run's last step, never an event's run)."""
    bc = ctx.connector("bigcommerce")
    pk = bc.connection.pk
    kept = (Connection.objects.values_list("settings", flat=True).get(pk=pk) or {}).get(SALE_KEY)
    try:
        read_at = datetime.fromisoformat(str((kept or {}).get("read_at")))
    except ValueError:
        read_at = None
    if read_at is not None and ctx.now - read_at < timedelta(minutes=SALE_MINUTES):
        return
    skus = sorted(catalog.skus_on_sale(bc))
    # Read again just before writing: the run's finish may have saved its rules meanwhile.
    settings = dict(Connection.objects.values_list("settings", flat=True).get(pk=pk) or {})
    settings[SALE_KEY] = {"read_at": ctx.now.isoformat(), "skus": skus}
    Connection.objects.filter(pk=pk).update(settings=settings)


def priority(ctx: FlowContext, ordered: Iterable[dict]) -> tuple[set[str], set[str]]:
    """(SKUs on sale, product ids on recent orders), once a run. `ordered`: the rows of the
    products on sales orders changed since the window's start (StockToStorefrontFlow._ordered)."""
    if "priority" not in ctx.cache:
        on_sale = skus_on_sale(ctx)
        recent = {str(row["productId"]) for row in ordered}
        ctx.cache["priority"] = (on_sale, recent)
        if on_sale or recent:
            ctx.log(
                f"First in this run: {len(on_sale)} SKUs on sale in BigCommerce and the "
                f"{len(recent)} products of orders of the last "
                f"{recent_minutes(ctx.connector('bigcommerce').settings)} minutes."
            )
    return ctx.cache["priority"]


def window_start(ctx: FlowContext):
    return ctx.now - timedelta(minutes=recent_minutes(ctx.connector("bigcommerce").settings))


def first(ctx: FlowContext, ids: Iterable[str], on_sale: set[str], recent: set[str]) -> list[str]:
    """These product ids with the priority ones first (otherwise in their order). A product
    is known to be on sale by the SKU the console last sent for it (its stock state)."""
    ids = list(ids)
    selling: set[str] = set()
    if on_sale:
        states = RecordState.objects.filter(
            brand_id=ctx.brand_id, flow="bigcommerce_stock", source_id__in=ids
        ).values_list("source_id", "last_pushed")
        selling = {sid for sid, last in states if str((last or {}).get("sku")) in on_sale}
    hot = recent | selling
    return sorted(ids, key=lambda i: i not in hot)


def items_first(items: list[dict], on_sale: set[str], hot_skus: set[str]) -> list[dict]:
    """Adjustment items with those of priority SKUs first: the first calls carry them."""
    wanted = on_sale | hot_skus
    return sorted(items, key=lambda item: str(item.get("sku")) not in wanted)

"""The lists a brand's vendors keep (Brightpearl's order statuses, tags and warehouses,
BigCommerce's order statuses), read from the vendor and kept.

The mappings pages offer and check values against them. No page waits on a vendor: a list
read in the last ten minutes is used as it is; an older one is used too (its age is known,
`list_read_at`) while a task reads it again in the background; only a list never read
before is asked for while the page waits, for a few seconds at most and never waiting for
the allowance (connector_live). `refresh=True` (a worker, a command, the Refresh button)
reads it now. Each reader raises ConnectorError when the vendor cannot be reached and
Connection.DoesNotExist when the brand has no such connection; the `…_or_none` forms say
None instead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.utils import timezone
from django.utils.timesince import timesince
from django_q.tasks import async_task

from brands.models import Brand
from connectors.brightpearl.prices import price_lists
from connectors.errors import ConnectorError
from connectors.models import Connection
from connectors.registry import connector_for, connector_live
from syncs.models import Checkpoint

LIST_CACHE_SECONDS = 600
# Kept for the code (and the tests) that still say STATUS_CACHE_SECONDS.
STATUS_CACHE_SECONDS = LIST_CACHE_SECONDS
_KEYS = ("bp-statuses", "bp-tags", "bp-warehouses", "bc-statuses", "bp-price-lists")


def _cached(
    brand: Brand,
    key: str,
    system: str,
    read: Callable[[Any], Any],
    refresh: bool,
    wait: bool = False,
):
    cache_key = f"{key}:{brand.pk}"
    found = None if refresh else cache.get(cache_key)
    if found is not None:
        return found
    if not refresh:
        kept = Checkpoint.objects.filter(brand=brand, name=f"list:{key}").first()
        if kept is not None:
            # Last known, with its age: read again in the background, not while a page waits.
            if cache.add(f"reading:{cache_key}", 1, 60):
                async_task("syncs.tasks.vendor_list_read", brand.pk, key, group="lists")
            return _load(kept.value)
    connection = Connection.objects.get(brand=brand, system=system)
    # Only a worker or a command (wait=True) may wait for the allowance or retry.
    with connector_for(connection, priority=True) if wait else connector_live(connection) as c:
        found = read(c)
    cache.set(cache_key, found, LIST_CACHE_SECONDS)
    Checkpoint.objects.update_or_create(
        brand=brand, name=f"list:{key}", defaults={"value": _dump(found)}
    )
    return found


def _dump(found: Any) -> dict:
    """JSON keeps no integer keys: a dict (tags: id → name) is kept as pairs."""
    return {"pairs": list(found.items())} if isinstance(found, dict) else {"items": found}


def _load(value: dict) -> Any:
    if "pairs" in value:
        return {int(k): v for k, v in value["pairs"]}
    return value.get("items") or []


def list_read_at(*, brand: Brand, key: str) -> Any:
    """When the kept list was read from the vendor (None: never)."""
    return (
        Checkpoint.objects.filter(brand=brand, name=f"list:{key}")
        .values_list("updated", flat=True)
        .first()
    )


def lists_age_note(*, brand: Brand) -> str:
    """A page's note when the vendors' lists it shows were read a while ago (and are being
    read again in the background): their age, in words."""
    oldest = (
        Checkpoint.objects.filter(brand=brand, name__startswith="list:")
        .order_by("updated")
        .values_list("updated", flat=True)
        .first()
    )
    if oldest is None or timezone.now() - oldest < timedelta(seconds=LIST_CACHE_SECONDS):
        return ""
    return (
        f"The vendors' lists on this page were read {timesince(oldest)} ago; they are being "
        "read again in the background. Reload the page in a minute for the latest."
    )


def vendor_list_read(*, brand_id: int, key: str) -> None:
    """The background read (a task): the list from the vendor now, kept for the pages."""
    brand = Brand.objects.get(pk=brand_id)
    READERS[key](brand=brand, refresh=True, wait=True)


def vendor_lists_forget(*, brand: Brand) -> None:
    """Forget every list kept for the brand (the Refresh button): the next page reads them
    from the vendors."""
    cache.delete_many([f"{key}:{brand.pk}" for key in _KEYS])
    Checkpoint.objects.filter(brand=brand, name__in=[f"list:{key}" for key in _KEYS]).delete()


def brightpearl_statuses(*, brand: Brand, refresh: bool = False, wait: bool = False) -> list[dict]:
    """The brand's sales-order statuses, fetched live from its Brightpearl and cached."""

    def read(bp) -> list[dict]:
        statuses = [
            {
                "id": int(s["statusId"]),
                "name": s["name"],
                "sort": s.get("sortOrder", 0),
                "disabled": bool(s.get("disabled")),
            }
            for s in bp.order_statuses()
            if s.get("orderTypeCode", "SO") == "SO"
        ]
        statuses.sort(key=lambda s: (s["sort"], s["name"].lower()))
        return statuses

    return _cached(brand, "bp-statuses", "brightpearl", read, refresh, wait)


def brightpearl_tags(*, brand: Brand, refresh: bool = False, wait: bool = False) -> dict[int, str]:
    """The brand's contact tags (id → name), fetched live and cached like the statuses."""
    return _cached(brand, "bp-tags", "brightpearl", lambda bp: bp.tags(), refresh, wait)


def brightpearl_warehouses(
    *, brand: Brand, refresh: bool = False, wait: bool = False
) -> list[dict]:
    """The brand's Brightpearl warehouses ({id, name}), fetched live and cached."""

    def read(bp) -> list[dict]:
        return sorted(
            ({"id": int(w["id"]), "name": str(w.get("name", ""))} for w in bp.warehouses()),
            key=lambda w: w["id"],
        )

    return _cached(brand, "bp-warehouses", "brightpearl", read, refresh, wait)


def brightpearl_price_lists(
    *, brand: Brand, refresh: bool = False, wait: bool = False
) -> list[dict]:
    """The brand's Brightpearl selling price lists ({id, name}), fetched live and cached."""

    def read(bp) -> list[dict]:
        return sorted(
            (
                {"id": int(p["id"]), "name": _price_list_name(p)}
                for p in price_lists(bp)
                if p.get("priceListTypeCode") != "BUY"
            ),
            key=lambda p: p["id"],
        )

    return _cached(brand, "bp-price-lists", "brightpearl", read, refresh, wait)


def _price_list_name(price_list: dict) -> str:
    """“Retail (GBP, incl. tax)”: a storefront showing prices with tax needs a gross list."""
    name = str((price_list.get("name") or {}).get("text") or price_list.get("code") or "")
    tax = "incl. tax" if price_list.get("gross") else "ex tax"
    currency = price_list.get("currencyCode") or ""
    return f"{name} ({currency}, {tax})" if currency else f"{name} ({tax})"


def bigcommerce_order_statuses(
    *, brand: Brand, refresh: bool = False, wait: bool = False
) -> list[dict]:
    """The store's order statuses ({id, name}: its own label for each fixed id)."""

    def read(bc) -> list[dict]:
        return sorted(
            (
                {"id": int(s["id"]), "name": str(s.get("custom_label") or s.get("name", ""))}
                for s in bc.order_statuses()
            ),
            key=lambda s: s["id"],
        )

    return _cached(brand, "bc-statuses", "bigcommerce", read, refresh, wait)


def statuses_or_none(brand: Brand) -> list[dict] | None:
    try:
        return brightpearl_statuses(brand=brand)
    except (ConnectorError, Connection.DoesNotExist):
        return None


def tags_or_none(brand: Brand) -> dict[int, str] | None:
    try:
        return brightpearl_tags(brand=brand)
    except (ConnectorError, Connection.DoesNotExist):
        return None


READERS: dict[str, Callable[..., Any]] = {
    "bp-statuses": brightpearl_statuses,
    "bp-tags": brightpearl_tags,
    "bp-warehouses": brightpearl_warehouses,
    "bc-statuses": bigcommerce_order_statuses,
    "bp-price-lists": brightpearl_price_lists,
}

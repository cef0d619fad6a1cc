"""The lists a brand's vendors keep (Brightpearl's order statuses, tags and warehouses,
BigCommerce's order statuses), read live and kept for ten minutes.

The mappings pages offer and check values against them. Each reader raises ConnectorError
when the vendor cannot be reached and Connection.DoesNotExist when the brand has no such
connection; the `…_or_none` forms say None instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.cache import cache

from brands.models import Brand
from connectors.errors import ConnectorError
from connectors.models import Connection
from connectors.registry import connector_for

LIST_CACHE_SECONDS = 600
# Kept for the code (and the tests) that still say STATUS_CACHE_SECONDS.
STATUS_CACHE_SECONDS = LIST_CACHE_SECONDS
_KEYS = ("bp-statuses", "bp-tags", "bp-warehouses", "bc-statuses")


def _cached(brand: Brand, key: str, system: str, read: Callable[[Any], Any], refresh: bool):
    cache_key = f"{key}:{brand.pk}"
    found = None if refresh else cache.get(cache_key)
    if found is None:
        connection = Connection.objects.get(brand=brand, system=system)
        with connector_for(connection, priority=True) as connector:
            found = read(connector)
        cache.set(cache_key, found, LIST_CACHE_SECONDS)
    return found


def vendor_lists_forget(*, brand: Brand) -> None:
    """Forget every list kept for the brand: the next page reads them from the vendors."""
    cache.delete_many([f"{key}:{brand.pk}" for key in _KEYS])


def brightpearl_statuses(*, brand: Brand, refresh: bool = False) -> list[dict]:
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

    return _cached(brand, "bp-statuses", "brightpearl", read, refresh)


def brightpearl_tags(*, brand: Brand, refresh: bool = False) -> dict[int, str]:
    """The brand's contact tags (id → name), fetched live and cached like the statuses."""
    return _cached(brand, "bp-tags", "brightpearl", lambda bp: bp.tags(), refresh)


def brightpearl_warehouses(*, brand: Brand, refresh: bool = False) -> list[dict]:
    """The brand's Brightpearl warehouses ({id, name}), fetched live and cached."""

    def read(bp) -> list[dict]:
        return sorted(
            ({"id": int(w["id"]), "name": str(w.get("name", ""))} for w in bp.warehouses()),
            key=lambda w: w["id"],
        )

    return _cached(brand, "bp-warehouses", "brightpearl", read, refresh)


def bigcommerce_order_statuses(*, brand: Brand, refresh: bool = False) -> list[dict]:
    """The store's order statuses ({id, name}: its own label for each fixed id)."""

    def read(bc) -> list[dict]:
        return sorted(
            (
                {"id": int(s["id"]), "name": str(s.get("custom_label") or s.get("name", ""))}
                for s in bc.order_statuses()
            ),
            key=lambda s: s["id"],
        )

    return _cached(brand, "bc-statuses", "bigcommerce", read, refresh)


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

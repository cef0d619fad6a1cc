"""The vendor lists a kind can offer, as (value, label) pairs (see kinds.Lister)."""

from __future__ import annotations

from brands.models import Brand
from syncs.vendor_lists import (
    bigcommerce_order_statuses,
    brightpearl_price_lists,
    brightpearl_statuses,
    brightpearl_tags,
    brightpearl_warehouses,
)


def brightpearl_order_statuses(brand: Brand) -> list[tuple[str, str]]:
    return [(str(s["id"]), s["name"]) for s in brightpearl_statuses(brand=brand)]


def brightpearl_warehouse_list(brand: Brand) -> list[tuple[str, str]]:
    return [(str(w["id"]), w["name"]) for w in brightpearl_warehouses(brand=brand)]


def brightpearl_tag_names(brand: Brand) -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(brightpearl_tags(brand=brand).values(), key=str.lower)]


def bigcommerce_status_list(brand: Brand) -> list[tuple[str, str]]:
    return [(str(s["id"]), s["name"]) for s in bigcommerce_order_statuses(brand=brand)]


def brightpearl_price_list_list(brand: Brand) -> list[tuple[str, str]]:
    return [(str(p["id"]), p["name"]) for p in brightpearl_price_lists(brand=brand)]

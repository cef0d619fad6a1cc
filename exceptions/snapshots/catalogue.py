"""Renderers of the storefront catalogue's tickets: a price BigCommerce refused, and the
catalogue audit's gaps (a SKU in one catalogue and not the other)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from exceptions.snapshots.base import SnapshotView, Table, plain, renderer

if TYPE_CHECKING:
    from exceptions.models import Ticket


@renderer("price_refused", keys=("sku", "prices", "reason"))
def price_refused(ticket: Ticket, data: dict) -> SnapshotView | None:
    sku = data.get("sku")
    if not sku:
        return None
    reason = str(data.get("reason") or ticket.error_message or "it gave no reason").strip()
    prices = data.get("prices")
    tables = []
    if isinstance(prices, dict) and prices:
        tables.append(
            Table(
                "The prices sent",
                ["Price field", "Price"],
                [[str(field), plain(price, ticket)] for field, price in sorted(prices.items())],
            )
        )
    return SnapshotView(
        sentence=f"BigCommerce refused the prices of SKU {sku}: {reason}. The other SKUs sent "
        "with it were written; this one still shows its old prices on the storefront.",
        facts=[("SKU", str(sku)), ("Brightpearl product", ticket.source_id or "—")],
        tables=tables,
    )


@renderer(
    "sku_only_in_bigcommerce",
    keys=("sku", "bigcommerce_product", "bigcommerce_variant", "audited_on"),
)
def sku_only_in_bigcommerce(ticket: Ticket, data: dict) -> SnapshotView | None:
    sku = data.get("sku")
    if not sku:
        return None
    return SnapshotView(
        sentence=f"SKU {sku} is on the storefront, and Brightpearl has no product with it: "
        "an order for it will wait until the product exists in Brightpearl.",
        facts=[
            ("SKU", str(sku)),
            ("BigCommerce product", plain(data.get("bigcommerce_product"), ticket)),
            ("BigCommerce variant", plain(data.get("bigcommerce_variant"), ticket)),
            ("Last found by the audit on", plain(data.get("audited_on"), ticket)),
        ],
    )


@renderer("sku_only_in_brightpearl", keys=("sku", "brightpearl_product", "audited_on"))
def sku_only_in_brightpearl(ticket: Ticket, data: dict) -> SnapshotView | None:
    sku = data.get("sku")
    if not sku:
        return None
    return SnapshotView(
        sentence=f"SKU {sku} is a Brightpearl product the storefront does not list: shoppers "
        "cannot buy it, and its stock and prices go nowhere.",
        facts=[
            ("SKU", str(sku)),
            ("Brightpearl product", plain(data.get("brightpearl_product"), ticket)),
            ("Last found by the audit on", plain(data.get("audited_on"), ticket)),
        ],
    )

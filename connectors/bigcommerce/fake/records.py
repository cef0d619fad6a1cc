"""Orders, catalog, inventory and hook records in the JSON BigCommerce serves (seed and writes)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from connectors.bigcommerce.fake.constants import STATUS_NAMES, V
from connectors.sandbox.core import dumps, money, parse_time, rfc2822, sortable
from connectors.sandbox.state import Rec

# --- record builders -------------------------------------------------------------------------


def address(customer: dict[str, Any]) -> dict[str, Any]:
    return {
        "first_name": customer["first_name"],
        "last_name": customer["last_name"],
        "company": "",
        "street_1": "1 High Street",
        "street_2": "",
        "city": "London",
        "state": "Greater London",
        "zip": "EC1A 1AA",
        "country": "United Kingdom",
        "country_iso2": "GB",
        "phone": "",
        "email": customer["email"],
    }


def order_docs(
    *,
    store_hash: str,
    order_id: int,
    customer: dict[str, Any],
    lines: list[dict[str, Any]],
    status_id: int,
    created: datetime,
    modified: datetime,
    payment_method: str = "Stripe",
    shipping: Decimal = Decimal("4.95"),
    external_id: str | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """(order, products, shipping addresses) in the shapes of orders.v2.oas2.yml.

    Each line: sku, name, quantity, price (ex tax), product_id, variant_id; tax 20%.
    """
    address_id = order_id * 10 + 1
    products = []
    subtotal_ex = subtotal_tax = Decimal("0")
    items = 0
    for n, line in enumerate(lines, start=1):
        quantity = int(line["quantity"])
        price = Decimal(str(line["price"]))
        tax = (price * Decimal("0.2")).quantize(Decimal("0.01"))
        subtotal_ex += price * quantity
        subtotal_tax += tax * quantity
        items += quantity
        products.append(
            {
                "id": order_id * 100 + n,
                "order_id": order_id,
                "product_id": line.get("product_id", 0),
                "variant_id": line.get("variant_id", 0),
                "order_address_id": address_id,
                "name": line["name"],
                "name_customer": line["name"],
                "name_merchant": line["name"],
                "sku": line["sku"],
                "upc": "",
                "type": "physical",
                "base_price": money(price, "0.0001"),
                "price_ex_tax": money(price, "0.0001"),
                "price_inc_tax": money(price + tax, "0.0001"),
                "price_tax": money(tax, "0.0001"),
                "base_total": money(price * quantity, "0.0001"),
                "total_ex_tax": money(price * quantity, "0.0001"),
                "total_inc_tax": money((price + tax) * quantity, "0.0001"),
                "total_tax": money(tax * quantity, "0.0001"),
                "weight": "0.5000",
                "quantity": quantity,
                "base_cost_price": "0.0000",
                "is_refunded": False,
                "quantity_refunded": 0,
                "refund_amount": "0.0000",
                "return_id": 0,
                "wrapping_name": "",
                "quantity_shipped": 0,
                "fixed_shipping_cost": "0.0000",
                "option_set_id": None,
                "parent_order_product_id": None,
                "is_bundled_product": False,
                "bin_picking_number": "",
                "external_id": None,
                "brand": "",
                "applied_discounts": [],
                "product_options": [],
                "configurable_fields": [],
                "gift_certificate_id": None,
                "discounted_total_inc_tax": money((price + tax) * quantity, "0.0001"),
            }
        )
    shipping_tax = (shipping * Decimal("0.2")).quantize(Decimal("0.01"))
    total_ex = subtotal_ex + shipping
    total_tax = subtotal_tax + shipping_tax
    base = f"https://api.bigcommerce.com/stores/{store_hash}/v2/orders/{order_id}"
    order = {
        "id": order_id,
        "customer_id": customer.get("id", 0),
        "date_created": rfc2822(created),
        "date_modified": rfc2822(modified),
        "date_shipped": "",
        "status_id": status_id,
        "status": STATUS_NAMES[status_id],
        "subtotal_ex_tax": money(subtotal_ex, "0.0001"),
        "subtotal_inc_tax": money(subtotal_ex + subtotal_tax, "0.0001"),
        "subtotal_tax": money(subtotal_tax, "0.0001"),
        "base_shipping_cost": money(shipping + shipping_tax, "0.0001"),
        "shipping_cost_ex_tax": money(shipping, "0.0001"),
        "shipping_cost_inc_tax": money(shipping + shipping_tax, "0.0001"),
        "shipping_cost_tax": money(shipping_tax, "0.0001"),
        "shipping_cost_tax_class_id": 0,
        "base_handling_cost": "0.0000",
        "handling_cost_ex_tax": "0.0000",
        "handling_cost_inc_tax": "0.0000",
        "handling_cost_tax": "0.0000",
        "handling_cost_tax_class_id": 0,
        "base_wrapping_cost": "0.0000",
        "wrapping_cost_ex_tax": "0.0000",
        "wrapping_cost_inc_tax": "0.0000",
        "wrapping_cost_tax": "0.0000",
        "wrapping_cost_tax_class_id": 0,
        "total_ex_tax": money(total_ex, "0.0001"),
        "total_inc_tax": money(total_ex + total_tax, "0.0001"),
        "total_tax": money(total_tax, "0.0001"),
        "is_tax_inclusive_pricing": False,
        "items_total": items,
        "items_shipped": 0,
        "payment_method": payment_method,
        "payment_provider_id": "",
        "payment_status": "captured",
        "refunded_amount": "0.0000",
        "order_is_digital": False,
        "store_credit_amount": "0.0000",
        "gift_certificate_amount": "0.0000",
        "ip_address": "",
        "ip_address_v6": "",
        "geoip_country": "United Kingdom",
        "geoip_country_iso2": "GB",
        "currency_id": 1,
        "currency_code": "GBP",
        "currency_exchange_rate": "1.0000000000",
        "default_currency_id": 1,
        "default_currency_code": "GBP",
        "staff_notes": "",
        "customer_message": "",
        "discount_amount": "0.0000",
        "coupon_discount": "0.0000",
        "shipping_address_count": 1,
        "ebay_order_id": "0",
        "cart_id": str(uuid.UUID(int=order_id)),
        "billing_address": {**address(customer), "form_fields": []},
        "is_email_opt_in": False,
        "credit_card_type": None,
        "order_source": "www",
        "channel_id": 1,
        "external_source": None,
        "products": {"url": f"{base}/products", "resource": f"/orders/{order_id}/products"},
        "shipping_addresses": {
            "url": f"{base}/shipping_addresses",
            "resource": f"/orders/{order_id}/shipping_addresses",
        },
        "coupons": {"url": f"{base}/coupons", "resource": f"/orders/{order_id}/coupons"},
        "external_id": external_id,
        "external_merchant_id": None,
        "tax_provider_id": "BasicTaxProvider",
        "store_default_currency_code": "GBP",
        "store_default_to_transactional_exchange_rate": "1.0000000000",
        "custom_status": STATUS_NAMES[status_id],
        "customer_locale": "en",
        "external_order_id": "",
    }
    addresses = [
        {
            "id": address_id,
            "order_id": order_id,
            **{k: v for k, v in address(customer).items()},
            "items_total": items,
            "items_shipped": 0,
            "shipping_method": "Royal Mail Tracked 48",
            "base_cost": money(shipping + shipping_tax, "0.0001"),
            "cost_ex_tax": money(shipping, "0.0001"),
            "cost_inc_tax": money(shipping + shipping_tax, "0.0001"),
            "cost_tax": money(shipping_tax, "0.0001"),
            "cost_tax_class_id": 0,
            "base_handling_cost": "0.0000",
            "handling_cost_ex_tax": "0.0000",
            "handling_cost_inc_tax": "0.0000",
            "handling_cost_tax": "0.0000",
            "handling_cost_tax_class_id": 0,
            "shipping_zone_id": 1,
            "shipping_zone_name": "United Kingdom",
            "shipping_quotes": {
                "url": f"{base}/shipping_addresses/{address_id}/shipping_quotes",
                "resource": f"/orders/{order_id}/shipping_addresses/{address_id}/shipping_quotes",
            },
            "form_fields": [],
        }
    ]
    return order, products, addresses


def order_recs(
    store_hash: str, order: dict[str, Any], products: list[Any], addresses: list[Any]
) -> list[Rec]:
    modified = parse_time(order["date_modified"])
    created = parse_time(order["date_created"])
    oid = str(order["id"])
    return [
        Rec(
            V,
            store_hash,
            "order",
            oid,
            dumps(order),
            num=order["id"],
            updated=sortable(modified),
            created=sortable(created),
            owner=str(order["customer_id"]),
            status=str(order["status_id"]),
            lookup=order["billing_address"]["email"].lower(),
        ),
        Rec(V, store_hash, "order_products", oid, dumps(products), num=order["id"]),
        Rec(V, store_hash, "order_addresses", oid, dumps(addresses), num=order["id"]),
    ]


def catalog_docs(
    *, product_id: int, variant_id: int, sku: str, name: str, price: Decimal, stock: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A v3 catalog product and its one (base) variant."""
    variant = {
        "id": variant_id,
        "product_id": product_id,
        "sku": sku,
        "sku_id": variant_id,
        "price": float(price),
        "calculated_price": float(price),
        "sale_price": None,
        "retail_price": None,
        "cost_price": 0,
        "weight": 0.5,
        "width": 0,
        "height": 0,
        "depth": 0,
        "is_free_shipping": False,
        "fixed_cost_shipping_price": None,
        "purchasing_disabled": False,
        "purchasing_disabled_message": "",
        "upc": "",
        "inventory_level": stock,
        "inventory_warning_level": 0,
        "bin_picking_number": "",
        "option_values": [],
    }
    product = {
        "id": product_id,
        "name": name,
        "type": "physical",
        "sku": sku,
        "price": float(price),
        "inventory_level": stock,
        "inventory_tracking": "variant",
        "is_visible": True,
        "base_variant_id": variant_id,
        "date_modified": "",
    }
    return product, variant


def catalog_recs(store_hash: str, product: dict[str, Any], variant: dict[str, Any]) -> list[Rec]:
    return [
        Rec(
            V,
            store_hash,
            "product",
            str(product["id"]),
            dumps(product),
            num=product["id"],
            lookup=product["sku"].lower(),
        ),
        variant_rec(store_hash, variant),
    ]


def variant_rec(store_hash: str, variant: dict[str, Any]) -> Rec:
    return Rec(
        V,
        store_hash,
        "variant",
        str(variant["id"]),
        dumps(variant),
        num=variant["id"],
        parent=str(variant["product_id"]),
        lookup=variant["sku"].lower(),
    )


def inventory_rec(store_hash: str, location_id: int, variant: dict[str, Any], quantity: int) -> Rec:
    doc = {
        "location_id": location_id,
        "variant_id": variant["id"],
        "product_id": variant["product_id"],
        "sku": variant["sku"],
        "quantity": quantity,
    }
    return Rec(
        V,
        store_hash,
        "inventory",
        f"{location_id}:{variant['id']}",
        dumps(doc),
        num=variant["id"],
        parent=str(location_id),
        lookup=variant["sku"].lower(),
    )


def location_doc(location_id: int, code: str, label: str) -> dict[str, Any]:
    """A location as `GET /v3/inventory/locations` lists it (a part of the documented fields)."""
    return {
        "id": location_id,
        "code": code,
        "label": label,
        "description": "",
        "managed_by_external_source": False,
        "type_id": "PHYSICAL",
        "enabled": True,
        "storefront_visibility": True,
    }


def location_rec(store_hash: str, doc: dict[str, Any]) -> Rec:
    return Rec(V, store_hash, "location", str(doc["id"]), dumps(doc), num=doc["id"])


def hook_rec(store_hash: str, doc: dict[str, Any]) -> Rec:
    return Rec(V, store_hash, "hook", str(doc["id"]), dumps(doc), num=doc["id"])

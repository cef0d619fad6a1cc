"""BigCommerce: the storefront (https://api.bigcommerce.com/stores/{store_hash}/v2|v3).

v2 errors are arrays of {status, message}; v3 errors are problem objects {status, title, type}.
Every answer carries the store's X-Rate-Limit-* headers. Webhooks (v3 /hooks) are delivered
with the envelope {scope, store_id, data, hash, created_at, producer}, the custom `headers` set
at registration, and a Standard Webhooks signature (webhook-id, webhook-timestamp,
webhook-signature) made with the app's client secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from connectors.sandbox.core import (
    PROBLEM_JSON,
    Account,
    Request,
    Response,
    Router,
    Vendor,
    dumps,
    empty,
    json_response,
    money,
    parse_time,
    raw_json,
    rfc2822,
    sortable,
    utcnow,
)
from connectors.sandbox.deliveries import Delivery
from connectors.sandbox.state import Rec
from connectors.sandbox.throttle import Hit

V = "bigcommerce"
STATUS_NAMES = {
    0: "Incomplete",
    1: "Pending",
    2: "Shipped",
    3: "Partially Shipped",
    4: "Refunded",
    5: "Cancelled",
    6: "Declined",
    7: "Awaiting Payment",
    8: "Awaiting Pickup",
    9: "Awaiting Shipment",
    10: "Completed",
    11: "Awaiting Fulfillment",
    12: "Manual Verification Required",
    13: "Disputed",
    14: "Partially Refunded",
}
DOCS_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"


def v2_error(status: int, message: str) -> Response:
    return json_response([{"status": status, "message": message}], status)


def v3_error(status: int, title: str, content_type: str = "application/json") -> Response:
    return json_response(
        {"status": status, "title": title, "type": DOCS_TYPE, "errors": {}},
        status,
        content_type=content_type,
    )


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


# --- webhooks ----------------------------------------------------------------------------------


def scope_matches(registered: str, scope: str) -> bool:
    if registered.endswith("/*"):
        return scope.startswith(registered[:-1])
    return registered == scope


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """A Standard Webhooks v1 signature (what BigCommerce's docs say to verify)."""
    key = base64.b64encode(secret.encode())
    digest = hmac.new(
        base64.b64decode(key), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256
    )
    return "v1," + base64.b64encode(digest.digest()).decode()


def fire(
    app: Any, req: Request, account: Account, scope: str, data: dict[str, Any], copies: int = 1
) -> int:
    store = app.store
    hooks = [json.loads(d) for (d,) in store.rows(V, account.code, "hook", columns="data")]
    now = int(time.time())
    envelope = {
        "scope": scope,
        "store_id": account.creds["store_id"],
        "data": data,
        # "The SHA-1 hash of the JSON-encoded payload data": the same event hashes the same.
        "hash": hashlib.sha1(dumps(data).encode()).hexdigest(),
        "created_at": now,
        "producer": f"stores/{account.code}",
    }
    body = dumps(envelope).encode()
    count = 0
    for hook in hooks:
        if not hook.get("is_active") or not scope_matches(hook["scope"], scope):
            continue
        msg_id = f"msg_{uuid.uuid4().hex}"
        headers = {
            "Content-Type": "application/json",
            **{str(k): str(v) for k, v in (hook.get("headers") or {}).items()},
            "webhook-id": msg_id,
            "webhook-timestamp": str(now),
            "webhook-signature": sign(account.creds["client_secret"], msg_id, now, body),
        }

        def give_up(hook_id: int = hook["id"]) -> None:
            # After its last retry BigCommerce deactivates the hook.
            with app.store.transaction(write=True):
                current = app.store.get_json(V, account.code, "hook", hook_id)
                if current:
                    current["is_active"] = False
                    app.store.put(hook_rec(account.code, current))

        delivery = Delivery(
            vendor=V,
            account=account.code,
            event=scope,
            hook_id=str(hook["id"]),
            method="POST",
            url=hook["destination"],
            body=body,
            headers=headers,
            max_attempts=12,
            on_give_up=give_up,
            extra={"resource_id": data.get("id")},
        )
        req.after_commit.append(lambda d=delivery: app.deliverer.enqueue(d, copies))
        count += 1
    return count


def hook_rec(store_hash: str, doc: dict[str, Any]) -> Rec:
    return Rec(V, store_hash, "hook", str(doc["id"]), dumps(doc), num=doc["id"])


# --- the API ---------------------------------------------------------------------------------


class BigCommerce(Vendor):
    name = V
    router = Router()
    route = router.route

    def _parts(self, req: Request) -> tuple[str, str]:
        parts = req.path.split("/", 3)
        if len(parts) < 3 or parts[1] != "stores":
            return "", req.path
        return parts[2], "/" + (parts[3] if len(parts) > 3 else "")

    def _v3(self, req: Request) -> bool:
        return "/v3/" in req.path + "/"

    def bucket(self, req: Request) -> str:
        return self._parts(req)[0] or "-"

    def authenticate(self, req: Request) -> Response | None:
        store_hash, rest = self._parts(req)
        req.path = rest
        account = self.app.accounts.get(V, store_hash)
        token = req.headers.get("X-Auth-Token")
        if account is None or not token or token != account.creds["access_token"]:
            if self._v3(req):
                return v3_error(
                    401,
                    "Unauthorized - the v3 Auth client ID or token in the request are not a "
                    "valid combination for this store.",
                )
            return v2_error(401, "You are not authorized to access this resource.")
        req.account = account
        return None

    def limit_headers(self, req: Request, hit: Hit | None) -> dict[str, str]:
        if hit is None:
            return {}
        quota = hit.limit or 1_000_000
        left = hit.remaining if hit.limit else quota
        return {
            "X-Rate-Limit-Requests-Left": str(left),
            "X-Rate-Limit-Requests-Quota": str(quota),
            "X-Rate-Limit-Time-Reset-Ms": str(hit.reset_ms),
            "X-Rate-Limit-Time-Window-Ms": str(hit.window_ms),
        }

    def throttled(self, req: Request) -> Response:
        if self._v3(req):
            return v3_error(429, "Too many requests")
        return v2_error(429, "Too many requests. Please wait for the rate limit window to reset.")

    def server_error(self, req: Request) -> Response:
        if self._v3(req):
            return v3_error(500, "Internal Server Error")
        return v2_error(500, "Internal Server Error")

    def not_found(self, req: Request) -> Response:
        if self._v3(req):
            return v3_error(404, "The requested resource was not found.")
        return v2_error(404, "The requested resource was not found.")

    def method_not_allowed(self, req: Request) -> Response:
        if self._v3(req):
            return v3_error(405, "Method not allowed")
        return v2_error(405, "The requested method is not supported for this resource.")

    def bad_request(self, req: Request, message: str) -> Response:
        if self._v3(req):
            return v3_error(400, message)
        return v2_error(400, message)

    # --- v2 orders -----------------------------------------------------------------------

    @route("GET", r"/v2/orders")
    def orders_get(self, req: Request) -> Response:
        where, params = [], []
        for name, column in (
            ("min_date_modified", "updated >= ?"),
            ("max_date_modified", "updated <= ?"),
            ("min_date_created", "created >= ?"),
            ("max_date_created", "created <= ?"),
        ):
            value = req.q(name)
            if value:
                try:
                    params.append(sortable(parse_time(value)))
                except ValueError:
                    return v2_error(400, f"The field '{name}' is invalid.")
                where.append(column)
        for name, clause in (("status_id", "status = ?"), ("customer_id", "owner = ?")):
            if req.q(name) is not None:
                where.append(clause)
                params.append(str(req.q(name)))
        if req.q("email"):
            where.append("lookup = ?")
            params.append(req.q("email", "").lower())
        for name, clause in (("min_id", "num >= ?"), ("max_id", "num <= ?")):
            if req.q(name):
                where.append(clause)
                params.append(int(req.q(name) or 0))
        try:
            page = max(int(req.q("page") or 1), 1)
            limit = int(req.q("limit") or 50)
        except ValueError:
            return v2_error(400, "The field 'page' or 'limit' is invalid.")
        if limit > self.app.settings.bigcommerce_page_max:
            return v2_error(
                413, f"The limit may not exceed {self.app.settings.bigcommerce_page_max}."
            )
        order = "num"
        sort = req.q("sort") or ""
        if sort:
            field, _, direction = sort.partition(":")
            column = {"id": "num", "date_modified": "updated", "date_created": "created"}.get(field)
            if column is None:
                return v2_error(400, f"The field 'sort' is invalid: {sort}")
            order = f"{column} {'DESC' if direction.lower() == 'desc' else 'ASC'}, num"
        rows = self.app.store.rows(
            V,
            req.account.code,
            "order",
            " AND ".join(where),
            params,
            "data",
            order,
            limit=limit,
            offset=(page - 1) * limit,
        )
        if not rows:
            return empty(204)  # v2 answers an empty collection with 204 No Content
        return raw_json("[" + ",".join(r[0] for r in rows) + "]")

    @route("GET", r"/v2/orders/count")
    def orders_count(self, req: Request) -> Response:
        return json_response({"count": self.app.store.count(V, req.account.code, "order")})

    @route("GET", r"/v2/orders/(?P<order_id>\d+)")
    def order_get(self, req: Request, order_id: str) -> Response:
        text = self.app.store.get(V, req.account.code, "order", order_id)
        return raw_json(text) if text else v2_error(404, "The requested resource was not found.")

    @route("PUT", r"/v2/orders/(?P<order_id>\d+)")
    def order_put(self, req: Request, order_id: str) -> Response:
        body = req.json()
        if not isinstance(body, dict):
            return v2_error(400, "The request body must be a JSON object.")
        result = self.set_status(req, int(order_id), body.get("status_id"), body)
        if isinstance(result, Response):
            return result
        return json_response(result)

    def set_status(
        self,
        req: Request,
        order_id: int,
        status_id: Any,
        body: dict[str, Any] | None = None,
        copies: int = 1,
    ) -> dict[str, Any] | Response:
        store = self.app.store
        code = req.account.code
        order = store.get_json(V, code, "order", order_id)
        if order is None:
            return v2_error(404, "The requested resource was not found.")
        previous = order["status_id"]
        if status_id is not None:
            if int(status_id) not in STATUS_NAMES:
                return v2_error(400, f"The field 'status_id' is invalid: {status_id}")
            order["status_id"] = int(status_id)
            order["status"] = order["custom_status"] = STATUS_NAMES[int(status_id)]
        for field in ("staff_notes", "customer_message", "external_id"):
            if body and field in body:
                order[field] = body[field]
        order["date_modified"] = rfc2822(utcnow())
        products = store.get_json(V, code, "order_products", order_id)
        addresses = store.get_json(V, code, "order_addresses", order_id)
        store.put_many(order_recs(code, order, products, addresses))
        fire(
            self.app,
            req,
            req.account,
            "store/order/updated",
            {"type": "order", "id": order_id},
            copies,
        )
        if order["status_id"] != previous:
            fire(
                self.app,
                req,
                req.account,
                "store/order/statusUpdated",
                {
                    "type": "order",
                    "id": order_id,
                    "status": {"previous_status_id": previous, "new_status_id": order["status_id"]},
                },
                copies,
            )
        return order

    @route("GET", r"/v2/orders/(?P<order_id>\d+)/products")
    def order_products(self, req: Request, order_id: str) -> Response:
        text = self.app.store.get(V, req.account.code, "order_products", order_id)
        return raw_json(text) if text else v2_error(404, "The requested resource was not found.")

    @route("GET", r"/v2/orders/(?P<order_id>\d+)/shipping_addresses")
    def order_addresses(self, req: Request, order_id: str) -> Response:
        text = self.app.store.get(V, req.account.code, "order_addresses", order_id)
        return raw_json(text) if text else v2_error(404, "The requested resource was not found.")

    @route("GET", r"/v2/orders/(?P<order_id>\d+)/shipments")
    def shipments_get(self, req: Request, order_id: str) -> Response:
        store = self.app.store
        if store.get(V, req.account.code, "order", order_id) is None:
            return v2_error(404, "The requested resource was not found.")
        rows = store.rows(V, req.account.code, "shipment", "parent = ?", (order_id,), "data")
        if not rows:
            return empty(204)
        return raw_json("[" + ",".join(r[0] for r in rows) + "]")

    @route("POST", r"/v2/orders/(?P<order_id>\d+)/shipments")
    def shipments_post(self, req: Request, order_id: str) -> Response:
        store = self.app.store
        code = req.account.code
        order = store.get_json(V, code, "order", order_id)
        if order is None:
            return v2_error(404, "The requested resource was not found.")
        body = req.json()
        if not isinstance(body, dict) or not body.get("order_address_id") or not body.get("items"):
            return v2_error(400, "The required fields order_address_id and items are missing.")
        products = store.get_json(V, code, "order_products", order_id)
        addresses = store.get_json(V, code, "order_addresses", order_id)
        by_id = {p["id"]: p for p in products}
        if int(body["order_address_id"]) not in {a["id"] for a in addresses}:
            return v2_error(
                400, f"The field 'order_address_id' is invalid: {body['order_address_id']}"
            )
        for item in body["items"]:
            product = by_id.get(int(item.get("order_product_id", 0)))
            if product is None:
                return v2_error(
                    400, f"The order product {item.get('order_product_id')} does not exist."
                )
            if product["quantity_shipped"] + int(item.get("quantity", 0)) > product["quantity"]:
                return v2_error(
                    400,
                    f"The quantity to ship for {product['sku']} exceeds the quantity left to ship.",
                )
        for item in body["items"]:
            by_id[int(item["order_product_id"])]["quantity_shipped"] += int(item["quantity"])
        shipped = sum(p["quantity_shipped"] for p in products)
        now = utcnow()
        shipment_id = store.max_num(V, code, ["shipment"]) + 1
        doc = {
            "id": shipment_id,
            "order_id": int(order_id),
            "customer_id": order["customer_id"],
            "order_address_id": int(body["order_address_id"]),
            "date_created": rfc2822(now),
            "tracking_number": body.get("tracking_number", ""),
            "merchant_shipping_cost": "0.0000",
            "shipping_method": body.get("shipping_method", "None"),
            "comments": body.get("comments", ""),
            "shipping_provider": body.get("shipping_provider", ""),
            "tracking_carrier": body.get("tracking_carrier", ""),
            "tracking_link": body.get("tracking_link", ""),
            "billing_address": {
                k: v for k, v in order["billing_address"].items() if k != "form_fields"
            },
            "shipping_address": {
                k: addresses[0][k]
                for k in (
                    "first_name",
                    "last_name",
                    "company",
                    "street_1",
                    "street_2",
                    "city",
                    "state",
                    "zip",
                    "country",
                    "country_iso2",
                    "phone",
                    "email",
                )
            },
            "items": [
                {
                    "order_product_id": int(i["order_product_id"]),
                    "product_id": by_id[int(i["order_product_id"])]["product_id"],
                    "quantity": int(i["quantity"]),
                }
                for i in body["items"]
            ],
            "shipping_provider_display_name": body.get("shipping_provider", "").upper(),
            "generated_tracking_link": "",
        }
        store.put(
            Rec(
                V,
                code,
                "shipment",
                str(shipment_id),
                dumps(doc),
                num=shipment_id,
                parent=str(order_id),
            )
        )
        previous = order["status_id"]
        order["items_shipped"] = shipped
        order["status_id"] = 2 if shipped >= order["items_total"] else 3
        order["status"] = order["custom_status"] = STATUS_NAMES[order["status_id"]]
        order["date_shipped"] = rfc2822(now)
        order["date_modified"] = rfc2822(now)
        addresses[0]["items_shipped"] = shipped
        store.put_many(order_recs(code, order, products, addresses))
        fire(
            self.app,
            req,
            req.account,
            "store/shipment/created",
            {"type": "shipment", "id": shipment_id, "orderId": int(order_id)},
        )
        if previous != order["status_id"]:
            fire(
                self.app,
                req,
                req.account,
                "store/order/statusUpdated",
                {
                    "type": "order",
                    "id": int(order_id),
                    "status": {"previous_status_id": previous, "new_status_id": order["status_id"]},
                },
            )
        return json_response(doc, 201)

    @route("GET", r"/v2/order_statuses")
    def order_statuses(self, req: Request) -> Response:
        return json_response(
            [
                {
                    "id": k,
                    "name": v,
                    "system_label": v,
                    "custom_label": v,
                    "system_description": "",
                    "order": k,
                }
                for k, v in STATUS_NAMES.items()
            ]
        )

    # --- v3 refunds ----------------------------------------------------------------------

    @route("GET", r"/v3/orders/(?P<order_id>\d+)/payment_actions/refunds")
    def refunds_get(self, req: Request, order_id: str) -> Response:
        rows = self.app.store.rows(V, req.account.code, "refund", "parent = ?", (order_id,), "data")
        return raw_json('{"data":[' + ",".join(r[0] for r in rows) + '],"meta":{}}')

    def refund(
        self, req: Request, order_id: int, items: list[dict[str, Any]] | None, copies: int = 1
    ) -> dict[str, Any] | Response:
        """A refund made in the BigCommerce control panel (control API): fires refund/created."""
        store = self.app.store
        code = req.account.code
        order = store.get_json(V, code, "order", order_id)
        if order is None:
            return v2_error(404, "The requested resource was not found.")
        products = store.get_json(V, code, "order_products", order_id)
        by_sku = {p["sku"]: p for p in products}
        refund_items, total = [], Decimal("0")
        for item in items or [{"sku": products[0]["sku"], "quantity": 1}]:
            product = by_sku.get(item.get("sku")) or next(
                (p for p in products if p["id"] == item.get("order_product_id")), None
            )
            if product is None:
                return v2_error(400, f"Order {order_id} has no product {item}")
            quantity = int(item.get("quantity", 1))
            amount = Decimal(product["price_inc_tax"]) * quantity
            total += amount
            product["quantity_refunded"] += quantity
            product["is_refunded"] = True
            refund_items.append(
                {
                    "item_type": "PRODUCT",
                    "item_id": product["id"],
                    "quantity": quantity,
                    "requested_amount": None,
                    "reason": item.get("reason", ""),
                }
            )
        refund_id = store.max_num(V, code, ["refund"]) + 1
        now = utcnow()
        doc = {
            "id": refund_id,
            "order_id": order_id,
            "user_id": 0,
            "created": now.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            "reason": "Customer return",
            "total_amount": float(total),
            "total_tax": float((total / 6).quantize(Decimal("0.01"))),
            "uses_merchant_override_values": False,
            "items": refund_items,
            "payments": [
                {
                    "id": refund_id,
                    "provider_id": "stripe",
                    "amount": float(total),
                    "offline": False,
                    "is_declined": False,
                    "declined_message": "",
                }
            ],
        }
        store.put(
            Rec(V, code, "refund", str(refund_id), dumps(doc), num=refund_id, parent=str(order_id))
        )
        order["refunded_amount"] = money(Decimal(order["refunded_amount"]) + total, "0.0001")
        order["date_modified"] = rfc2822(now)
        addresses = store.get_json(V, code, "order_addresses", order_id)
        store.put_many(order_recs(code, order, products, addresses))
        fire(
            self.app,
            req,
            req.account,
            "store/order/refund/created",
            {"type": "order", "id": order_id, "refund": {"refund_id": refund_id}},
            copies,
        )
        return doc

    # --- v3 catalog and inventory --------------------------------------------------------

    def _catalog(self, req: Request, kind: str) -> Response:
        where, params = [], []
        sku = req.q("sku")
        if sku:
            where.append("lookup = ?")
            params.append(sku.lower())
        sku_in = req.q("sku:in")
        if sku_in:
            skus = [s.strip().lower() for s in sku_in.split(",") if s.strip()]
            where.append(f"lookup IN ({','.join('?' * len(skus))})")
            params.extend(skus)
        ids_in = req.q("id:in") or req.q("id")
        if ids_in:
            ids = [int(i) for i in ids_in.split(",") if i.strip()]
            where.append(f"num IN ({','.join('?' * len(ids))})")
            params.extend(ids)
        if kind == "variant" and req.q("product_id:in"):
            pids = [p.strip() for p in (req.q("product_id:in") or "").split(",") if p.strip()]
            where.append(f"parent IN ({','.join('?' * len(pids))})")
            params.extend(pids)
        page = max(int(req.q("page") or 1), 1)
        limit = min(int(req.q("limit") or 50), 250)
        store = self.app.store
        where_sql = " AND ".join(where)
        total = store.count(V, req.account.code, kind, where_sql, params)
        rows = store.rows(
            V,
            req.account.code,
            kind,
            where_sql,
            params,
            "data",
            "num",
            limit=limit,
            offset=(page - 1) * limit,
        )
        meta = _pagination(total, len(rows), limit, page)
        return raw_json(
            '{"data":[' + ",".join(r[0] for r in rows) + '],"meta":' + dumps(meta) + "}"
        )

    @route("GET", r"/v3/catalog/products")
    def products_get(self, req: Request) -> Response:
        return self._catalog(req, "product")

    @route("GET", r"/v3/catalog/variants")
    def variants_get(self, req: Request) -> Response:
        return self._catalog(req, "variant")

    @route("PUT", r"/v3/catalog/variants")
    def variants_put(self, req: Request) -> Response:
        body = req.json()
        if not isinstance(body, list):
            return v3_error(422, "The request body must be an array of variants.")
        limit = self.app.settings.bigcommerce_variants_max
        if len(body) > limit:
            return json_response(
                {
                    "errors": {},
                    "status": 413,
                    "title": "The request payload is too large. The maximum items allowed in "
                    f"the array is {limit}",
                    "type": "/api-docs/getting-started/api-status-codes",
                },
                413,
            )
        store = self.app.store
        code = req.account.code
        updated, errors = [], []
        for item in body:
            variant = store.get_json(V, code, "variant", item.get("id")) if item.get("id") else None
            if variant is None:
                errors.append(
                    {
                        "status": 422,
                        "title": f"Variant {item.get('id')} was not found",
                        "type": DOCS_TYPE,
                        "errors": {"id": "not found"},
                    }
                )
                continue
            for key, value in item.items():
                if key in variant and key not in ("id", "product_id"):
                    variant[key] = value
            store.put(variant_rec(code, variant))
            updated.append(variant)
        if errors and not updated:
            return json_response({"batch_errors": errors}, 422)
        if errors:
            return json_response({"data": updated, "errors": errors, "meta": {}}, 207)
        return json_response({"data": updated, "meta": {}})

    @route("PUT", r"/v3/inventory/adjustments/absolute")
    def inventory_absolute(self, req: Request) -> Response:
        body = req.json()
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            return v3_error(422, "items is required", PROBLEM_JSON)
        limit = self.app.settings.bigcommerce_inventory_max
        if len(items) > limit:
            # The docs give the limit but not the answer; the sandbox answers 422 problem+json.
            return v3_error(
                422,
                f"The maximum number of items per request is {limit}; got {len(items)}.",
                PROBLEM_JSON,
            )
        store = self.app.store
        code = req.account.code
        resolved = []
        for item in items:
            variant = None
            if item.get("variant_id"):
                variant = store.get_json(V, code, "variant", item["variant_id"])
                identity = f"variant_id {item['variant_id']}"
            elif item.get("sku"):
                found = store.rows(
                    V, code, "variant", "lookup = ?", (str(item["sku"]).lower(),), "data"
                )
                variant = json.loads(found[0][0]) if found else None
                identity = f"sku {item['sku']}"
            elif item.get("product_id"):
                found = store.rows(
                    V, code, "variant", "parent = ?", (str(item["product_id"]),), "data"
                )
                variant = json.loads(found[0][0]) if found else None
                identity = f"product_id {item['product_id']}"
            else:
                return v3_error(
                    422,
                    "Every item needs location_id and one of sku, variant_id or product_id",
                    PROBLEM_JSON,
                )
            quantity = item.get("quantity")
            if variant is None:
                return v3_error(422, f"Items with identity: [{identity}] not found", PROBLEM_JSON)
            if not isinstance(quantity, int) or quantity < 0 or not item.get("location_id"):
                return v3_error(
                    422,
                    f"Item with {identity} has an invalid quantity or location_id",
                    PROBLEM_JSON,
                )
            resolved.append((int(item["location_id"]), variant, quantity))
        for location_id, variant, quantity in resolved:
            store.put(inventory_rec(code, location_id, variant, quantity))
            if location_id == 1:
                variant["inventory_level"] = quantity
                store.put(variant_rec(code, variant))
        return json_response({"transaction_id": str(uuid.uuid4())})

    @route("GET", r"/v3/inventory/items")
    def inventory_items(self, req: Request) -> Response:
        where, params = [], []
        sku_in = req.q("sku:in")
        if sku_in:
            skus = [s.strip().lower() for s in sku_in.split(",") if s.strip()]
            where.append(f"lookup IN ({','.join('?' * len(skus))})")
            params.extend(skus)
        rows = self.app.store.rows(
            V, req.account.code, "inventory", " AND ".join(where), params, "data"
        )
        by_variant: dict[int, dict[str, Any]] = {}
        for (text,) in rows:
            doc = json.loads(text)
            entry = by_variant.setdefault(
                doc["variant_id"],
                {
                    "identity": {
                        "sku": doc["sku"],
                        "variant_id": doc["variant_id"],
                        "product_id": doc["product_id"],
                    },
                    "locations": [],
                },
            )
            entry["locations"].append(
                {
                    "location_id": doc["location_id"],
                    "available_to_sell": doc["quantity"],
                    "total_inventory_onhand": doc["quantity"],
                    "settings": {
                        "safety_stock": 0,
                        "is_in_stock": doc["quantity"] > 0,
                        "warning_level": 0,
                        "bin_picking_number": "",
                    },
                }
            )
        data = list(by_variant.values())
        return json_response(
            {"data": data, "meta": _pagination(len(data), len(data), max(len(data), 1), 1)}
        )

    # --- v3 hooks ------------------------------------------------------------------------

    @route("GET", r"/v3/hooks")
    def hooks_get(self, req: Request) -> Response:
        rows = self.app.store.rows(V, req.account.code, "hook", columns="data")
        hooks = [json.loads(r[0]) for r in rows]
        if req.q("scope"):
            hooks = [h for h in hooks if h["scope"] == req.q("scope")]
        if req.q("is_active") is not None:
            wanted = req.q("is_active") == "true"
            hooks = [h for h in hooks if h["is_active"] == wanted]
        return json_response(
            {
                "data": hooks,
                "meta": {"pagination": _pagination(len(hooks), len(hooks), 50, 1)["pagination"]},
            }
        )

    @route("POST", r"/v3/hooks")
    def hooks_post(self, req: Request) -> Response:
        body = req.json()
        if not isinstance(body, dict) or not body.get("scope") or not body.get("destination"):
            return v3_error(422, "scope and destination are required")
        store = self.app.store
        code = req.account.code
        now = int(time.time())
        hook_id = store.max_num(V, code, ["hook"]) + 1
        doc = {
            "id": hook_id,
            "client_id": req.account.creds["client_id"],
            "store_hash": code,
            "scope": body["scope"],
            "destination": body["destination"],
            "headers": body.get("headers"),
            "is_active": bool(body.get("is_active", True)),
            "created_at": now,
            "updated_at": now,
        }
        store.put(hook_rec(code, doc))
        return json_response({"data": doc, "meta": {}})

    @route("GET", r"/v3/hooks/(?P<hook_id>\d+)")
    def hook_get(self, req: Request, hook_id: str) -> Response:
        text = self.app.store.get(V, req.account.code, "hook", hook_id)
        if text is None:
            return v3_error(404, f"Webhook with id [{hook_id}] not found")
        return raw_json('{"data":' + text + ',"meta":{}}')

    @route("PUT", r"/v3/hooks/(?P<hook_id>\d+)")
    def hook_put(self, req: Request, hook_id: str) -> Response:
        store = self.app.store
        doc = store.get_json(V, req.account.code, "hook", hook_id)
        if doc is None:
            return v3_error(404, f"Webhook with id [{hook_id}] not found")
        body = req.json()
        for key in ("scope", "destination", "is_active", "headers"):
            if isinstance(body, dict) and key in body:
                doc[key] = body[key]
        doc["updated_at"] = int(time.time())
        store.put(hook_rec(req.account.code, doc))
        return json_response({"data": doc, "meta": {}})

    @route("DELETE", r"/v3/hooks/(?P<hook_id>\d+)")
    def hook_delete(self, req: Request, hook_id: str) -> Response:
        store = self.app.store
        text = store.get(V, req.account.code, "hook", hook_id)
        if text is None:
            return v3_error(404, f"Webhook with id [{hook_id}] not found")
        store.delete(V, req.account.code, "hook", hook_id)
        return raw_json('{"data":' + text + ',"meta":{}}')

    # --- back office: a storefront order (control API) --------------------------------------

    def place_order(
        self, req: Request, body: dict[str, Any], copies: int = 1
    ) -> dict[str, Any] | Response:
        """A shopper places an order: {email, first_name, last_name, customer_id, lines:
        [{sku, quantity, price?}], payment_method, status_id}. Fires store/order/created."""
        store = self.app.store
        code = req.account.code
        lines = []
        for line in body.get("lines") or body.get("products") or []:
            found = store.rows(
                V, code, "variant", "lookup = ?", (str(line.get("sku", "")).lower(),), "data"
            )
            variant = json.loads(found[0][0]) if found else None
            product = store.get_json(V, code, "product", variant["product_id"]) if variant else None
            lines.append(
                {
                    "sku": line["sku"],
                    "name": line.get("name") or (product["name"] if product else line["sku"]),
                    "quantity": int(line.get("quantity", 1)),
                    "price": Decimal(
                        str(line.get("price", variant["price"] if variant else "10.00"))
                    ),
                    "product_id": variant["product_id"] if variant else 0,
                    "variant_id": variant["id"] if variant else 0,
                }
            )
        if not lines:
            return v2_error(400, "An order needs at least one line: {sku, quantity}")
        order_id = store.max_num(V, code, ["order"]) + 1
        now = utcnow()
        customer = {
            "id": int(body.get("customer_id", 0)),
            "first_name": body.get("first_name", "Shopper"),
            "last_name": body.get("last_name", f"No{order_id}"),
            "email": body.get("email", f"shopper{order_id}@example.com"),
        }
        order, products, addresses = order_docs(
            store_hash=code,
            order_id=order_id,
            customer=customer,
            lines=lines,
            status_id=int(body.get("status_id", 11)),
            created=now,
            modified=now,
            payment_method=body.get("payment_method", "Stripe"),
        )
        store.put_many(order_recs(code, order, products, addresses))
        fire(
            self.app,
            req,
            req.account,
            "store/order/created",
            {"type": "order", "id": order_id},
            copies,
        )
        return order


def _pagination(total: int, count: int, per_page: int, page: int) -> dict[str, Any]:
    pages = max((total + per_page - 1) // per_page, 1)
    return {
        "pagination": {
            "total": total,
            "count": count,
            "per_page": per_page,
            "current_page": page,
            "total_pages": pages,
            "links": {"current": f"?page={page}&limit={per_page}"},
        }
    }

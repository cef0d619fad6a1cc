"""BigCommerce v2 orders: list, read, status, shipments; a storefront order (control API)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from connectors.bigcommerce.fake.base import BigCommerceBase, route
from connectors.bigcommerce.fake.constants import STATUS_NAMES, V, v2_error
from connectors.bigcommerce.fake.records import order_docs, order_recs
from connectors.bigcommerce.fake.webhooks import fire
from connectors.sandbox.core import (
    Request,
    Response,
    dumps,
    empty,
    json_response,
    parse_time,
    raw_json,
    rfc2822,
    sortable,
    utcnow,
)
from connectors.sandbox.state import Rec


class OrderRoutes(BigCommerceBase):
    """/v2/orders…, /v2/order_statuses, and place_order (back office)."""

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
        store.note_created(V, code, "shipment", shipment_id)
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
        store.note_created(V, code, "order", order_id)
        fire(
            self.app,
            req,
            req.account,
            "store/order/created",
            {"type": "order", "id": order_id},
            copies,
        )
        return order

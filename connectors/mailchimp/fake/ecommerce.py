"""Mailchimp's e-commerce API: stores, customers, products and orders (openapi l.11929-14734).

A customer's `orders_count` and `total_spent` are Mailchimp's own (read-only in the docs'
`E_commerce_Customer`): the fake works them out from the customer's orders, leaving out
cancelled ones (`cancelled_at_foreign` set), which is how the segments read them (a guess:
the docs do not say how a cancelled or refunded order counts). A customer added by the API
that is not yet a member joins the audience as `transactional` unless `opt_in_status` is
true; an existing member's status is never changed (`opt_in_status` "will never overwrite
the opt-in status of a pre-existing Mailchimp list member").
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from connectors.mailchimp.fake.base import MailchimpBase, route
from connectors.mailchimp.fake.records import V, problem, subscriber_hash
from connectors.sandbox.core import (
    Request,
    Response,
    dumps,
    empty,
    iso_seconds,
    json_response,
    utcnow,
)
from connectors.sandbox.state import Rec

ORDER_REQUIRED = ("currency_code", "customer", "id", "lines", "order_total")
LINE_REQUIRED = ("id", "price", "product_id", "product_variant_id", "quantity")


def _key(store_id: str, item_id: str) -> str:
    return f"{store_id}:{item_id}"


class EcommerceRoutes(MailchimpBase):
    """/3.0/ecommerce/stores[/{id}[/customers|products|orders[/{id}]]]."""

    # --- stores -----------------------------------------------------------------------------
    @route("POST", r"/3.0/ecommerce/stores")
    def store_post(self, req: Request) -> Response:
        body = req.json()
        if not isinstance(body, dict) or not all(
            body.get(k) for k in ("id", "list_id", "name", "currency_code")
        ):
            return _invalid("id, list_id, name and currency_code are required.")
        if body["list_id"] != req.account.code:
            return problem("Invalid Resource", 400, "The list_id is not one of this account's.")
        if self.app.store.get(V, req.account.code, "store", body["id"]):
            return problem("Invalid Resource", 400, "A store with the provided ID already exists.")
        now = iso_seconds(utcnow())
        doc = {**body, "created_at": now, "updated_at": now, "_links": []}
        self._put(req, "store", body["id"], doc)
        return json_response(doc)

    @route("GET", r"/3.0/ecommerce/stores/(?P<store_id>[\w-]+)")
    def store_get(self, req: Request, store_id: str) -> Response:
        doc = self.app.store.get_json(V, req.account.code, "store", store_id)
        return json_response(doc) if doc else self.not_found(req)

    # --- products ---------------------------------------------------------------------------
    @route("GET", r"/3.0/ecommerce/stores/(?P<store_id>[\w-]+)/products")
    def products_get(self, req: Request, store_id: str) -> Response:
        if missing := self._store(req, store_id):
            return missing
        count, offset = int(req.q("count") or 10), int(req.q("offset") or 0)
        rows = self.app.store.rows(
            V, req.account.code, "ec_product", "parent = ?", (store_id,), "data"
        )
        page = [json.loads(r[0]) for r in rows[offset : offset + min(count, 1000)]]
        return json_response(
            {"store_id": store_id, "products": page, "total_items": len(rows), "_links": []}
        )

    @route("POST", r"/3.0/ecommerce/stores/(?P<store_id>[\w-]+)/products")
    def product_post(self, req: Request, store_id: str) -> Response:
        if missing := self._store(req, store_id):
            return missing
        body = req.json()
        if not isinstance(body, dict) or not body.get("id") or not body.get("title"):
            return _invalid("id, title and variants are required.")
        if not isinstance(body.get("variants"), list) or not body["variants"]:
            return _invalid("variants: at least one variant is required.")
        if self.app.store.get(V, req.account.code, "ec_product", _key(store_id, body["id"])):
            return problem(
                "Invalid Resource", 400, "A product with the provided ID already exists."
            )
        self._put(req, "ec_product", _key(store_id, body["id"]), body, parent=store_id)
        return json_response(body)

    # --- customers --------------------------------------------------------------------------
    @route("PUT", r"/3.0/ecommerce/stores/(?P<store_id>[\w-]+)/customers/(?P<cid>[^/]+)")
    def customer_put(self, req: Request, store_id: str, cid: str) -> Response:
        if missing := self._store(req, store_id):
            return missing
        body = req.json()
        if not isinstance(body, dict) or "opt_in_status" not in body or not body.get("id"):
            return _invalid("id, email_address and opt_in_status are required.")
        if str(body["id"]) != cid:
            return _invalid("The customer id in the body does not match the URL.")
        return json_response(self._customer_save(req, store_id, body))

    @route("GET", r"/3.0/ecommerce/stores/(?P<store_id>[\w-]+)/customers/(?P<cid>[^/]+)")
    def customer_get(self, req: Request, store_id: str, cid: str) -> Response:
        doc = self.app.store.get_json(V, req.account.code, "ec_customer", _key(store_id, cid))
        return json_response(self._with_totals(req, store_id, doc)) if doc else self.not_found(req)

    def _customer_save(self, req: Request, store_id: str, body: dict[str, Any]) -> dict:
        store, list_id = self.app.store, req.account.code
        key = _key(store_id, str(body["id"]))
        old = store.get_json(V, list_id, "ec_customer", key) or {}
        now = iso_seconds(utcnow())
        doc = {**old, **body, "created_at": old.get("created_at", now), "updated_at": now}
        email = str(doc.get("email_address") or "")
        if not email:
            raise _Refused("email_address is required for a new customer.")
        self._put(req, "ec_customer", key, doc, parent=store_id)
        if not store.get(V, list_id, "member", subscriber_hash(email)):
            # A customer who is not a member joins as transactional (or subscribed if they
            # opted in); an existing member keeps the status they have.
            status = "subscribed" if body.get("opt_in_status") is True else "transactional"
            self._apply(req, list_id, None, {"status": status}, email, source="api")
        return self._with_totals(req, store_id, doc)

    def _with_totals(self, req: Request, store_id: str, doc: dict) -> dict:
        rows = self.app.store.rows(
            V, req.account.code, "ec_order", "parent = ? AND owner = ?", (store_id, doc["id"]),
            "data",
        )  # fmt: skip
        live = [json.loads(r[0]) for r in rows]
        live = [o for o in live if not o.get("cancelled_at_foreign")]
        spent = sum((Decimal(str(o.get("order_total") or 0)) for o in live), Decimal(0))
        return {**doc, "orders_count": len(live), "total_spent": float(spent)}

    # --- orders -----------------------------------------------------------------------------
    @route("POST", r"/3.0/ecommerce/stores/(?P<store_id>[\w-]+)/orders")
    def order_post(self, req: Request, store_id: str) -> Response:
        if missing := self._store(req, store_id):
            return missing
        body = req.json()
        if not isinstance(body, dict) or any(body.get(k) in (None, "") for k in ORDER_REQUIRED):
            return _invalid(", ".join(ORDER_REQUIRED) + " are required.")
        key = _key(store_id, str(body["id"]))
        if self.app.store.get(V, req.account.code, "ec_order", key):
            return problem("Invalid Resource", 400, "An order with the provided ID already exists.")
        customer = body["customer"] if isinstance(body["customer"], dict) else {}
        cid = str(customer.get("id") or "")
        if not cid:
            return _invalid("customer.id is required.")
        if refused := self._lines_refused(req, store_id, body["lines"]):
            return refused
        known = self.app.store.get_json(V, req.account.code, "ec_customer", _key(store_id, cid))
        try:
            if known is None or len(customer) > 1:
                if known is None and "opt_in_status" not in customer:
                    return _invalid("customer.opt_in_status is required for a new customer.")
                self._customer_save(req, store_id, {**(known or {}), **customer})
        except _Refused as exc:
            return _invalid(str(exc))
        now = iso_seconds(utcnow())
        doc = {**body, "customer": {"id": cid}, "store_id": store_id, "_links": []}
        doc.setdefault("processed_at_foreign", now)
        doc.setdefault("updated_at_foreign", now)
        self._put(req, "ec_order", key, doc, parent=store_id, owner=cid)
        return json_response(doc)

    @route("PATCH", r"/3.0/ecommerce/stores/(?P<store_id>[\w-]+)/orders/(?P<oid>[^/]+)")
    def order_patch(self, req: Request, store_id: str, oid: str) -> Response:
        key = _key(store_id, oid)
        doc = self.app.store.get_json(V, req.account.code, "ec_order", key)
        if doc is None:
            return self.not_found(req)
        body = req.json()
        if not isinstance(body, dict):
            return _invalid("The body must be a JSON object.")
        if "lines" in body and (refused := self._lines_refused(req, store_id, body["lines"])):
            return refused
        body.pop("customer", None)  # an order's customer is fixed once it is made
        doc.update(body)
        self._put(req, "ec_order", key, doc, parent=store_id, owner=doc["customer"]["id"])
        return json_response(doc)

    @route("GET", r"/3.0/ecommerce/stores/(?P<store_id>[\w-]+)/orders/(?P<oid>[^/]+)")
    def order_get(self, req: Request, store_id: str, oid: str) -> Response:
        doc = self.app.store.get_json(V, req.account.code, "ec_order", _key(store_id, oid))
        return json_response(doc) if doc else self.not_found(req)

    @route("DELETE", r"/3.0/ecommerce/stores/(?P<store_id>[\w-]+)/orders/(?P<oid>[^/]+)")
    def order_delete(self, req: Request, store_id: str, oid: str) -> Response:
        gone = self.app.store.delete(V, req.account.code, "ec_order", _key(store_id, oid))
        return empty(204) if gone else self.not_found(req)

    # --- helpers ----------------------------------------------------------------------------
    def _store(self, req: Request, store_id: str) -> Response | None:
        if not self.app.store.get(V, req.account.code, "store", store_id):
            return self.not_found(req)
        return None

    def _lines_refused(self, req: Request, store_id: str, lines: Any) -> Response | None:
        if not isinstance(lines, list):
            return _invalid("lines must be an array.")
        for line in lines:
            if not isinstance(line, dict) or any(line.get(k) in (None, "") for k in LINE_REQUIRED):
                return _invalid("Each line needs " + ", ".join(LINE_REQUIRED) + ".")
            key = _key(store_id, str(line["product_id"]))
            if not self.app.store.get(V, req.account.code, "ec_product", key):
                return problem(
                    "Invalid Resource",
                    400,
                    "A product with the provided ID does not exist in the account for this list.",
                )
        return None

    def _put(
        self, req: Request, kind: str, key: str, doc: dict, *, parent: str = "", owner: str = ""
    ) -> None:
        self.app.store.put(
            Rec(V, req.account.code, kind, key, dumps(doc), parent=parent, owner=owner or None)
        )


class _Refused(Exception):
    pass


def _invalid(detail: str) -> Response:
    return problem("Invalid Resource", 400, detail)

"""Mailchimp's e-commerce API: the store, its customers, products and orders.

Purchases reach Mailchimp as e-commerce orders (not member events): an order carries the
customer, its total, when it was processed and when it was cancelled
(`cancelled_at_foreign`), it can be updated (PATCH) when it is refunded, and Mailchimp keeps
each customer's `orders_count` and `total_spent` from the orders. Segments such as "bought
in the last 7 days" and "total spent" read these. Member events (POST
/lists/{id}/members/{hash}/events) can be neither updated nor cancelled.

Shapes: `openapi.yaml` (Marketing API 3.0.55) `E_commerce_Store_1`, `E_commerce_Customer_1`
(PUT add-or-update), `E_commerce_Order_1` (POST) and `E_commerce_Order_2` (PATCH); the
product a line names must exist in the store first (E_commerce_Product_1).
"""

from __future__ import annotations

import json
from typing import Any

from connectors.errors import NotFoundError, RejectedError
from connectors.http import BatchResult, RecordError
from connectors.mailchimp.common import _problem_text

# Mailchimp's answer to a POST of an order id the store has already: the order is there
# (a resend after a lost answer), so it is updated instead. Matched loosely: the docs give
# no exact text for it (a guess, listed in the fake's README).
_EXISTS = "already exists"


class Ecommerce:
    """Mixed into the Mailchimp connector: the store and its orders."""

    @property
    def store_id(self) -> str:
        # One store per audience by default; a connection may name an existing store.
        return str(self.settings.get("store_id") or f"console-{self.settings['list_id']}")

    @property
    def store_path(self) -> str:
        return f"/ecommerce/stores/{self.store_id}"

    def store_ensure(self, *, name: str, currency: str) -> None:
        """The store exists, tied to the audience (created once; a store's list_id cannot
        change, so an existing store is left as it is)."""
        try:
            self.http.json("GET", self.store_path, params={"fields": "id,list_id"})
            return
        except NotFoundError:
            pass
        self._post_once(
            "/ecommerce/stores",
            {
                "id": self.store_id,
                "list_id": self.settings["list_id"],
                "name": name,
                "currency_code": currency or "GBP",
            },
        )

    def products_ensure(self, products: dict[str, str]) -> None:
        """Products named by order lines exist in the store ({product id: title}). Known ids
        are read once per connector (one page of ids, then kept)."""
        known: set[str] = self.__dict__.setdefault("_known_products", set())
        if not known and products:
            offset = 0
            while True:
                body = self.http.json(
                    "GET",
                    f"{self.store_path}/products",
                    params={"fields": "products.id,total_items", "count": 1000, "offset": offset},
                )
                page = (body or {}).get("products") or []
                known.update(str(p.get("id")) for p in page)
                offset += len(page)
                if not page or offset >= int((body or {}).get("total_items") or 0):
                    break
        for product_id, title in sorted(products.items()):
            if product_id in known:
                continue
            self._post_once(
                f"{self.store_path}/products",
                {
                    "id": product_id,
                    "title": title or product_id,
                    "variants": [{"id": product_id, "title": title or product_id}],
                },
            )
            known.add(product_id)

    def customer_put(self, customer: dict[str, Any]) -> None:
        """Add or update the store's customer (idempotent). `opt_in_status` is always false:
        it "will never overwrite the opt-in status of a pre-existing Mailchimp list member",
        and a new one is added as transactional, so a purchase never subscribes anyone."""
        body = {**customer, "opt_in_status": False}
        self.http.json(
            "PUT", f"{self.store_path}/customers/{customer['id']}", json_body=body, idempotent=True
        )

    def customer_get(self, customer_id: str) -> dict | None:
        try:
            return self.http.json("GET", f"{self.store_path}/customers/{customer_id}")
        except NotFoundError:
            return None

    def order_upsert(self, order: dict[str, Any]) -> RecordError | None:
        """POST the order; one the store has already (a resend) is PATCHed instead. Returns
        the refusal, if Mailchimp refused it (it fails alone)."""
        reply = self.http.request(
            "POST",
            f"{self.store_path}/orders",
            json_body=order,
            # Safe to send again: a second POST of one id is refused as existing, then PATCHed.
            idempotent=True,
            ok_statuses=(400,),
        )
        if reply.status < 400:
            return None
        code, message = _problem_text(reply.body)
        if _EXISTS not in message.lower():
            return RecordError(code or "HTTP 400", message)
        patch = {k: v for k, v in order.items() if k not in ("id", "customer")}
        reply = self.http.request(
            "PATCH",
            f"{self.store_path}/orders/{order['id']}",
            json_body=patch,
            idempotent=True,
            ok_statuses=(400,),
        )
        if reply.status < 400:
            return None
        return RecordError(*_problem_text(reply.body))

    def orders_upsert_batched(
        self, orders: list[dict[str, Any]], customers: list[dict[str, Any]]
    ) -> BatchResult:
        """A backfill's orders by batch operations (POST /batches), keyed by order id: first
        the buyers (a PUT each, add or update, `opt_in_status` false), then the orders (a POST
        each; one the store has already is PATCHed in one more batch). A handful of requests
        for hundreds of orders, where order_upsert costs two or three an order. An order whose
        buyer Mailchimp refused fails with the buyer's reason; the others go."""
        result = BatchResult()
        buyers = self._operations(
            customers, self._customer_operation, 1, key=lambda c: str(c["id"])
        )
        ready = []
        for order in orders:
            refused = buyers.failed.get(str(order["customer"]["id"]))
            if refused is None:
                ready.append(order)
            else:
                result.failed[str(order["id"])] = refused
        posted = self._operations(ready, self._order_operation, 1, key=lambda o: str(o["id"]))
        result.ok.extend(posted.ok)
        there = []
        by_id = {str(o["id"]): o for o in ready}
        for order_id, error in posted.failed.items():
            if _EXISTS in error.message.lower():
                there.append(by_id[order_id])  # sent before (a resend, a reconcile): PATCH
            else:
                result.failed[order_id] = error
        if there:
            result.merge(self._operations(there, self._order_patch, 1, key=lambda o: str(o["id"])))
        return result

    def _customer_operation(self, customer: dict[str, Any], op_id: str) -> dict:
        body = {**customer, "opt_in_status": False}
        return {
            "method": "PUT",
            "path": f"{self.store_path}/customers/{customer['id']}",
            "operation_id": op_id,
            "body": json.dumps(body, separators=(",", ":")),
        }

    def _order_operation(self, order: dict[str, Any], op_id: str) -> dict:
        return {
            "method": "POST",
            "path": f"{self.store_path}/orders",
            "operation_id": op_id,
            "body": json.dumps(order, separators=(",", ":")),
        }

    def _order_patch(self, order: dict[str, Any], op_id: str) -> dict:
        patch = {k: v for k, v in order.items() if k not in ("id", "customer")}
        return {
            "method": "PATCH",
            "path": f"{self.store_path}/orders/{order['id']}",
            "operation_id": op_id,
            "body": json.dumps(patch, separators=(",", ":")),
        }

    def order_get(self, order_id: str) -> dict | None:
        try:
            return self.http.json("GET", f"{self.store_path}/orders/{order_id}")
        except NotFoundError:
            return None

    def _post_once(self, path: str, body: dict[str, Any]) -> None:
        """Create a store or product: an "already exists" answer is as good as made."""
        reply = self.http.request("POST", path, json_body=body, idempotent=True, ok_statuses=(400,))
        if reply.status >= 400:
            code, message = _problem_text(reply.body)
            if _EXISTS not in message.lower():
                raise RejectedError(message, vendor="mailchimp", code=code, status=reply.status)

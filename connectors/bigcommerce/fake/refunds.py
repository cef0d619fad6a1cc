"""BigCommerce v3 refunds and transactions: read them, and a refund made in the control panel
(control API)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.bigcommerce.fake.base import BigCommerceBase, route
from connectors.bigcommerce.fake.constants import V, v2_error
from connectors.bigcommerce.fake.records import order_recs
from connectors.bigcommerce.fake.webhooks import fire
from connectors.sandbox.core import (
    Request,
    Response,
    dumps,
    empty,
    json_response,
    money,
    raw_json,
    rfc2822,
    utcnow,
)
from connectors.sandbox.state import Rec

# Statuses in which no money has been taken (Incomplete, Declined, Awaiting Payment), and the
# methods paid away from the checkout page.
UNPAID = {0, 6, 7}
OFFSITE = {"paypal", "klarna", "amazon"}


def parse_rfc2822(value: str):
    from email.utils import parsedate_to_datetime

    return parsedate_to_datetime(value)


class RefundRoutes(BigCommerceBase):
    """/v3/orders/{id}/payment_actions/refunds and refund (back office)."""

    # --- v3 refunds ----------------------------------------------------------------------

    @route("GET", r"/v3/orders/(?P<order_id>\d+)/payment_actions/refunds")
    def refunds_get(self, req: Request, order_id: str) -> Response:
        rows = self.app.store.rows(V, req.account.code, "refund", "parent = ?", (order_id,), "data")
        return raw_json('{"data":[' + ",".join(r[0] for r in rows) + '],"meta":{}}')

    @route("GET", r"/v3/orders/(?P<order_id>\d+)/transactions")
    def transactions_get(self, req: Request, order_id: str) -> Response:
        """The order's payment transactions: one purchase for an order paid at checkout
        (made from the order itself: the fake keeps no gateway), none (204) for one unpaid."""
        order = self.app.store.get_json(V, req.account.code, "order", order_id)
        if order is None:
            return v2_error(404, "The requested resource was not found.")
        if order["status_id"] in UNPAID or order.get("payment_status") in ("", "declined"):
            return empty(204)
        method = str(order.get("payment_method") or "")
        created = parse_rfc2822(order["date_created"]).strftime("%Y-%m-%dT%H:%M:%S+00:00")
        doc = {
            "id": int(order_id) * 10 + 1,
            "order_id": str(order_id),
            "event": "purchase",
            "method": "offsite" if method.lower() in OFFSITE else "credit_card",
            "amount": float(order["total_inc_tax"]),
            "currency": order["currency_code"],
            "gateway": method.lower().replace(" ", ""),
            "gateway_transaction_id": f"txn_{order_id}",
            "date_created": created,
            "test": False,
            "status": "ok",
            "fraud_review": False,
            "reference_transaction_id": None,
            "offline": None,
            "custom": None,
        }
        return json_response({"data": [doc], "meta": {}})

    def refund(
        self, req: Request, order_id: int, items: list[dict[str, Any]] | None, copies: int = 1
    ) -> dict[str, Any] | Response:
        """A refund made in the BigCommerce control panel (control API): fires refund/created.
        `items`: goods [{sku, quantity}] and amounts [{item_type: SHIPPING|HANDLING|
        GIFT_WRAPPING|ORDER, amount}]."""
        store = self.app.store
        code = req.account.code
        order = store.get_json(V, code, "order", order_id)
        if order is None:
            return v2_error(404, "The requested resource was not found.")
        products = store.get_json(V, code, "order_products", order_id)
        by_sku = {p["sku"]: p for p in products}
        refund_items, total = [], Decimal("0")
        addresses = store.get_json(V, code, "order_addresses", order_id)
        for item in items or [{"sku": products[0]["sku"], "quantity": 1}]:
            kind = str(item.get("item_type") or "PRODUCT").upper()
            if kind != "PRODUCT":
                # An amount refunded that is not goods (RefundItem in orders.v3.yml): its
                # item_id is the order address (SHIPPING, HANDLING) or the order (ORDER).
                amount = Decimal(str(item.get("amount") or 0)).quantize(Decimal("0.01"))
                if amount <= 0 or kind not in ("SHIPPING", "HANDLING", "GIFT_WRAPPING", "ORDER"):
                    return v2_error(400, f"Cannot refund {item}")
                total += amount
                refund_items.append(
                    {
                        "item_type": kind,
                        "item_id": order_id
                        if kind == "ORDER"
                        else (addresses[0]["id"] if addresses else 0),
                        "quantity": None,
                        "requested_amount": str(amount),
                        "reason": item.get("reason", ""),
                    }
                )
                continue
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
        store.put_many(order_recs(code, order, products, addresses))
        store.note_created(V, code, "refund", refund_id)
        fire(
            self.app,
            req,
            req.account,
            "store/order/refund/created",
            {"type": "order", "id": order_id, "refund": {"refund_id": refund_id}},
            copies,
        )
        return doc

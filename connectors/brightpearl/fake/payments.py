"""Brightpearl's customer payments (accounting service): record one, and search them.

https://api-docs.brightpearl.com/accounting/customer-payment/post.html and
https://api-docs.brightpearl.com/accounting/customer-payment/search.html (the 14 columns).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.brightpearl.fake.base import BrightpearlBase, route
from connectors.brightpearl.fake.columns import Col
from connectors.brightpearl.fake.constants import JSON_UTF8, V, errors
from connectors.sandbox.core import (
    Request,
    Response,
    dumps,
    iso_ms,
    json_response,
    parse_time,
    sortable,
    utcnow,
)
from connectors.sandbox.state import Rec

PAYMENT_TYPES = ("AUTH", "CAPTURE", "PAYMENT", "RECEIPT", "VOID")
# The documented columns, in the page's order.
PAYMENT_COLUMNS = (
    Col("paymentId", "IDSET", "num"),
    Col("transactionRef", "STRING", "lookup"),
    Col("transactionCode", "STRING"),
    Col("paymentMethodCode", "STRING", "type"),
    Col("paymentType", "STRING", "status"),
    Col("orderId", "IDSET", "parent"),
    Col("currencyId", "IDSET"),
    Col("currencyCode", "STRING"),
    Col("amountAuthorized", "STRING"),
    Col("amountPaid", "STRING"),
    Col("expires", "PERIOD"),
    Col("paymentDate", "PERIOD"),
    Col("createdOn", "PERIOD", "created"),
    Col("journalId", "IDSET"),
)
CURRENCY_IDS = {"GBP": 1, "EUR": 2, "USD": 3}


class PaymentRoutes(BrightpearlBase):
    """/accounting-service/customer-payment and its search."""

    @route("POST", r"/accounting-service/customer-payment")
    def customer_payment_post(self, req: Request) -> Response:
        body = req.json()
        if not isinstance(body, dict):
            return errors("CMNC-400", "The request body must be a JSON object", 400)
        result = self.record_payment(req, body)
        if isinstance(result, Response):
            return result
        return json_response({"response": result["paymentId"]}, content_type=JSON_UTF8)

    @route("GET", r"/accounting-service/customer-payment-search")
    def customer_payment_search(self, req: Request) -> Response:
        return self._search(req, "customer_payment", PAYMENT_COLUMNS)

    def record_payment(self, req: Request, body: dict[str, Any]) -> dict[str, Any] | Response:
        """Validate as the POST page lists; a repeated (transactionRef, paymentMethodCode)
        is refused ("a check of the uniqueness of transactionRef AND paymentMethodCode")."""
        code = req.account.code
        store = self.app.store
        for field in ("paymentMethodCode", "paymentType", "orderId", "currencyIsoCode"):
            if body.get(field) in (None, ""):
                return errors("ACCC-001", f"{field} is required", 400)
        method = str(body["paymentMethodCode"])
        if len(method) > 36:
            return errors("ACCC-002", "paymentMethodCode may be at most 36 characters", 400)
        if body["paymentType"] not in PAYMENT_TYPES:
            return errors("ACCC-003", f"paymentType must be one of {', '.join(PAYMENT_TYPES)}", 400)
        currency = str(body["currencyIsoCode"])
        if len(currency) != 3:
            return errors("ACCC-004", "currencyIsoCode must be length 3", 400)
        if body["paymentType"] != "AUTH" and not body.get("paymentDate"):
            return errors("ACCC-001", "paymentDate is required", 400)
        try:
            amount = Decimal(str(body.get("amountPaid", 0)))
        except InvalidOperation:
            return errors("ACCC-005", "amountPaid must be a number", 400)
        order_id = int(body["orderId"])
        if store.get(V, code, "order", order_id) is None:
            return errors("ACCC-006", f"Order {order_id} does not exist", 400)
        ref = str(body.get("transactionRef") or "")
        if len(ref) > 64:
            return errors("ACCC-002", "transactionRef may be at most 64 characters", 400)
        if ref and store.rows(
            V, code, "customer_payment", "lookup = ? AND type = ?", (ref.lower(), method), "id"
        ):
            return errors(
                "ACCC-007",
                f"A payment with transactionRef {ref} and paymentMethodCode {method} exists",
                400,
            )
        payment_id = store.max_num(V, code, ["customer_payment"]) + 1
        now = utcnow()
        paid_on = parse_time(str(body["paymentDate"])) if body.get("paymentDate") else now
        doc = {
            "paymentId": payment_id,
            "transactionRef": ref,
            "transactionCode": str(body.get("transactionCode") or ""),
            "paymentMethodCode": method,
            "paymentType": body["paymentType"],
            "orderId": order_id,
            "currencyId": CURRENCY_IDS.get(currency.upper()),
            "currencyCode": currency.upper(),
            "amountAuthorized": "0.00",
            "amountPaid": f"{amount:.2f}",
            "expires": None,
            "paymentDate": iso_ms(paid_on),
            "createdOn": iso_ms(now),
            "journalId": None,
        }
        store.put(
            Rec(
                V,
                code,
                "customer_payment",
                str(payment_id),
                dumps(doc),
                num=payment_id,
                created=sortable(now),
                parent=str(order_id),
                status=doc["paymentType"],
                type=method,
                lookup=ref.lower() or None,
                row=dumps([doc[c.name] for c in PAYMENT_COLUMNS]),
            )
        )
        store.note_created(V, code, "customer_payment", payment_id)
        return doc

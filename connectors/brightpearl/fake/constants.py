"""Brightpearl's fixed vocabulary: the vendor key, content type, type and status codes, errors."""

from __future__ import annotations

from connectors.sandbox.core import Response, json_response

V = "brightpearl"
JSON_UTF8 = "application/json;charset=UTF-8"
BRIGHTPEARL_VERSION = "2.0.0"  # what ${brightpearl-version} renders to; unconfirmed

ORDER_TYPE_IDS = {"SO": 1, "PO": 2, "SC": 3, "PC": 4}
ORDER_TYPE_NAMES = {
    "1": "SALES_ORDER",
    "2": "PURCHASE_ORDER",
    "3": "SALES_CREDIT",
    "4": "PURCHASE_CREDIT",
}
# The search columns carry ids for these codes; the ids are the sandbox's (unconfirmed).
PAYMENT_STATUS_IDS = {"PAID": 1, "UNPAID": 2, "PARTIALLY_PAID": 3, "NOT_APPLICABLE": 5}
SHIPPING_STATUS_IDS = {"NST": 1, "SNS": 2, "SPS": 3, "ASS": 4}
SHIPPING_STATUS_NAMES = {
    "1": "No stock tracked products on order",
    "2": "Not shipped",
    "3": "Partially shipped",
    "4": "All shipped",
}
STOCK_STATUS_IDS = {"SON": 1, "SPA": 2, "SOA": 3}
STOCK_STATUS_NAMES = {"1": "Not fulfilled", "2": "Part fulfilled", "3": "Fulfilled", "13": "Unset"}


def errors(code: str, message: str, status: int) -> Response:
    return json_response(
        {"errors": [{"code": code, "message": message}]}, status, content_type=JSON_UTF8
    )

"""BigCommerce's vendor key, order statuses, v2 and v3 error shapes and v3 pagination."""

from __future__ import annotations

from typing import Any

from connectors.sandbox.core import Response, json_response

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


def pagination(total: int, count: int, per_page: int, page: int) -> dict[str, Any]:
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

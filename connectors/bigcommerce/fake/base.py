"""The BigCommerce fake's base: its router, auth, rate headers and v2/v3 error answers."""

from __future__ import annotations

import re

from connectors.bigcommerce.fake.constants import V, v2_error, v3_error
from connectors.sandbox.core import Request, Response, Router, Vendor
from connectors.sandbox.throttle import Hit

router = Router()
route = router.route


class BigCommerceBase(Vendor):
    """What every BigCommerce route shares: store hash, auth, rate headers, v2/v3 errors."""

    name = V
    router = router

    def _parts(self, req: Request) -> tuple[str, str]:
        parts = req.path.split("/", 3)
        if len(parts) < 3 or parts[1] != "stores":
            return "", req.path
        return parts[2], "/" + (parts[3] if len(parts) > 3 else "")

    def _v3(self, req: Request) -> bool:
        return "/v3/" in req.path + "/"

    def bucket(self, req: Request) -> str:
        return self._parts(req)[0] or "-"

    def write_keys(self, req: Request) -> list[str]:
        """The order a write names ("order:<id>": an order's status, its shipments)."""
        found = re.match(r"/stores/[^/]+/v2/orders/(\d+)(?:/|$)", req.sent_path)
        return [f"order:{found.group(1)}"] if found else []

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

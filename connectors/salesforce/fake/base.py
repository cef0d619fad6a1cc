"""The Salesforce fake's base: ids, errors, tokens, its router, auth and the API allocation."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from connectors.sandbox.core import (
    Account,
    Request,
    Response,
    Router,
    Vendor,
    json_object,
    json_response,
)
from connectors.sandbox.throttle import Hit

V = "salesforce"
PREFIXES = {
    "Account": "001",
    "Contact": "003",
    "Opportunity": "006",
    "Lead": "00Q",
    "Product2": "01t",
    "Pricebook2": "01s",
    "PricebookEntry": "01u",
    "Order": "801",
    "OrderItem": "802",
}
CHECKSUM_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
# Where the fields clients upsert by are remembered (vendor "sandbox": not Salesforce data).
EXTERNAL_ID_KIND = "salesforce_external_id"
OBJECT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def sf_id(object_type: str, number: int) -> str:
    """An 18-character Salesforce id: key prefix, pod, counter, then the case checksum."""
    prefix = PREFIXES.get(object_type, "a0" + chr(ord("A") + len(object_type) % 26))
    base = f"{prefix}5g{number:010d}"[:15]
    suffix = ""
    for start in range(0, 15, 5):
        bits = sum(1 << i for i, char in enumerate(base[start : start + 5]) if char.isupper())
        suffix += CHECKSUM_CHARS[bits]
    return base + suffix


def sf_error(status: int, message: str, code: str, fields: list[str] | None = None) -> Response:
    entry: dict[str, Any] = {"message": message, "errorCode": code}
    if fields is not None:
        entry["fields"] = fields
    return json_response([entry], status)


def access_token(account: Account) -> str:
    """Deterministic per org and token generation, so tokens survive a sandbox restart."""
    seed = f"{account.creds['client_id']}:{account.creds.get('token_generation', '0')}"
    return f"{account.code}!AQ" + hashlib.sha256(seed.encode()).hexdigest()[:60]


router = Router()
route = router.route


class SalesforceBase(Vendor):
    """What every Salesforce route shares: bearer auth, the daily allocation, errors."""

    name = V
    router = router

    def _token(self, req: Request) -> str:
        return (req.headers.get("Authorization") or "").removeprefix("Bearer ").strip()

    def bucket(self, req: Request) -> str:
        account = self.app.accounts.find(V, "access_token", self._token(req))
        return account.code if account else "-"

    def counts_toward_limit(self, req: Request) -> bool:
        # The OAuth endpoint is not an API call against the daily allocation.
        return req.path.startswith("/services/data")

    def is_write(self, req: Request) -> bool:
        # Getting a token writes nothing: it is neither logged nor lost as a write.
        return super().is_write(req) and not req.sent_path.startswith("/services/oauth2/")

    def write_keys(self, req: Request) -> list[str]:
        """The records an upsert names, as "<Object>.<ExternalIdField>:<value>"."""
        one = re.match(r"/services/data/v[\d.]+/sobjects/(\w+)/(\w+)/([^/]+)$", req.sent_path)
        if one:
            return [f"{one.group(1)}.{one.group(2)}:{one.group(3)}"]
        many = re.match(r"/services/data/v[\d.]+/composite/sobjects/(\w+)/(\w+)$", req.sent_path)
        if not many:
            return []
        obj, field = many.groups()
        records = json_object(req).get("records") or []
        return [
            f"{obj}.{field}:{r[field]}"
            for r in records
            if isinstance(r, dict) and r.get(field) not in (None, "")
        ]

    def authenticate(self, req: Request) -> Response | None:
        if req.path.startswith("/services/oauth2/"):
            return None
        account = self.app.accounts.find(V, "access_token", self._token(req))
        if account is None:
            return sf_error(401, "Session expired or invalid", "INVALID_SESSION_ID")
        req.account = account
        return None

    def limit_headers(self, req: Request, hit: Hit | None) -> dict[str, str]:
        if hit is None or not req.path.startswith("/services/data"):
            return {}
        limit = hit.limit or self.app.limits.salesforce_daily or 100_000
        return {"Sforce-Limit-Info": f"api-usage={hit.count}/{limit}"}

    def throttled(self, req: Request) -> Response:
        if req.path.startswith("/services/oauth2/"):
            # The sign-in is not an API call (no allocation, no concurrency count): a storm
            # there answers as a busy server would. A guess: the docs give no rate answer
            # for the token endpoint.
            return json_response(
                {"error": "unavailable", "error_description": "Service temporarily unavailable"},
                503,
            )
        if getattr(req, "fault", "") == "throttle_storm":
            # A storm is the concurrent-request limit (short-lived), not the day's allocation.
            return sf_error(
                403,
                "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
                "REQUEST_LIMIT_EXCEEDED",
            )
        return sf_error(403, "TotalRequests Limit exceeded.", "REQUEST_LIMIT_EXCEEDED")

    def server_error(self, req: Request) -> Response:
        return sf_error(
            500,
            "An unexpected error occurred. Please include this ErrorId if you contact support: "
            "1105446297-17032 (-1203498410)",
            "UNKNOWN_EXCEPTION",
        )

    def not_found(self, req: Request) -> Response:
        return sf_error(404, "The requested resource does not exist", "NOT_FOUND")

    def method_not_allowed(self, req: Request) -> Response:
        return sf_error(
            405,
            f"HTTP Method '{req.method}' not allowed. Allowed are GET,PATCH",
            "METHOD_NOT_ALLOWED",
        )

    def bad_request(self, req: Request, message: str) -> Response:
        return sf_error(400, message, "JSON_PARSER_ERROR")

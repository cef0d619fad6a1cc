"""The Mailchimp fake's base: its router, API-key auth, problem+json answers, the batch runner."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from connectors.mailchimp.fake.batches import BatchRunner
from connectors.mailchimp.fake.records import V, normal_hash, problem, subscriber_hash
from connectors.sandbox.core import Request, Response, Router, Vendor, json_object

if TYPE_CHECKING:
    from connectors.sandbox.server import App


router = Router()
route = router.route


class MailchimpBase(Vendor):
    """What every Mailchimp route shares: API key auth, problem+json errors, the batch runner."""

    name = V
    router = router

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.batches = BatchRunner(app, self)
        # A sandbox restarted on kept data picks up the batches it had not finished.
        if self.batches.unfinished():
            self.batches.wake()

    def close(self) -> None:
        self.batches.stop()

    def _api_key(self, req: Request) -> str:
        header = req.headers.get("Authorization") or ""
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip()).decode()
            except (ValueError, UnicodeDecodeError):
                return ""
            return decoded.partition(":")[2]
        if scheme.lower() in ("bearer", "apikey"):
            return value.strip()
        return ""

    def bucket(self, req: Request) -> str:
        account = self.app.accounts.find(V, "api_key", self._api_key(req))
        return account.code if account else "-"

    def write_keys(self, req: Request) -> list[str]:
        """The members a write names, as "member:<subscriber hash>": from the path, the body's
        email_address, a batch subscribe's members, or a /batches operation's path or body."""
        path = req.sent_path.removeprefix("/3.0")
        body = json_object(req)
        segments = path.strip("/").split("/")
        if path.rstrip("/") == "/batches":
            keys = []
            for op in body.get("operations") or []:
                if not isinstance(op, dict):
                    continue
                op_segments = str(op.get("path", "")).removeprefix("/3.0").strip("/").split("/")
                found = _member_hash(op_segments, _op_body(op))
                keys += [f"{_what(op_segments)}:{found}"] if found else []
            return list(dict.fromkeys(keys))
        if len(segments) == 2 and segments[0] == "lists":  # batch subscribe
            emails = [m.get("email_address") for m in body.get("members") or []]
            return [f"member:{subscriber_hash(e)}" for e in emails if isinstance(e, str) and e]
        found = _member_hash(segments, body)
        return [f"{_what(segments)}:{found}"] if found else []

    def authenticate(self, req: Request) -> Response | None:
        key = self._api_key(req)
        account = self.app.accounts.find(V, "api_key", key) if key else None
        if account is None:
            return problem(
                "API Key Invalid",
                401,
                "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
            )
        req.account = account
        return None

    def throttled(self, req: Request) -> Response:
        return problem(
            "Too Many Requests",
            429,
            "You have exceeded the limit of 10 simultaneous connections.",
        )

    def server_error(self, req: Request) -> Response:
        return problem("Internal Server Error", 500, "An unexpected internal error has occurred.")

    def not_found(self, req: Request) -> Response:
        return problem("Resource Not Found", 404, "The requested resource could not be found.")

    def method_not_allowed(self, req: Request) -> Response:
        return problem(
            "Method Not Allowed", 405, "The requested method and resource are not compatible."
        )

    def bad_request(self, req: Request, message: str) -> Response:
        return problem("JSON Schema Validation Failed", 400, message)

    def _list(self, req: Request, list_id: str) -> Response | None:
        if list_id != req.account.code:
            return self.not_found(req)
        return None


def _member_hash(segments: list[str], body: dict[str, Any]) -> str | None:
    """lists/{id}/members/{hash or email}[/...], or lists/{id}/members with an email_address."""
    if len(segments) < 3 or segments[0] != "lists" or segments[2] != "members":
        return None
    if len(segments) > 3:
        return normal_hash(segments[3])
    email = body.get("email_address")
    return subscriber_hash(email) if isinstance(email, str) and email else None


def _what(segments: list[str]) -> str:
    """A member's tags are written apart from the member ("tags:<hash>"), so a count of the
    member's writes is not swelled by its tags."""
    return "tags" if segments[-1:] == ["tags"] else "member"


def _op_body(op: dict[str, Any]) -> dict[str, Any]:
    """A batch operation's body: a JSON string, as Mailchimp takes it."""
    try:
        body = json.loads(op.get("body") or "null")
    except (TypeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}

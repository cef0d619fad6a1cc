"""Mailchimp, the email platform and the master of consent.

Members are keyed by the md5 of the lowercased email. Mailchimp decides who is
subscribed: the console only ever sets `status_if_new`, so a push from Brightpearl never
re-subscribes someone who left. More than 10 connections at once gets 429, so every
process shares a cap of 8.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from datetime import datetime

import httpx

from connectors.errors import AuthError, ConnectorError, RejectedError, ThrottledError
from connectors.http import BatchResult, RecordError, chunks, retry_after_seconds
from connectors.vendors.base import Connector, error_text, safe_json
from connectors.vendors.fields import Field

# Mailchimp's own errors that no retry will ever fix.
_PERMANENT = ("compliance state", "forgotten email", "looks fake or invalid", "permanently deleted")


def subscriber_hash(email: str) -> str:
    return hashlib.md5(email.strip().lower().encode()).hexdigest()


class Mailchimp(Connector):
    system = "mailchimp"
    label = "Mailchimp"
    default_base_url = "https://us1.api.mailchimp.com"
    credential_fields = (
        Field("api_key", "API key", "Ends in the data centre, for example …-us14."),
    )
    setting_fields = (Field("list_id", "Audience (list) id"),)
    batch_size = 500
    # No request-rate limit is published; the cap that matters is concurrency.
    default_limit = 100_000
    default_window = 60.0
    default_concurrency = 8

    def api_base(self) -> str:
        base = self.connection.base_url.rstrip("/")
        # The real API lives in the key's data centre: abc123-us14 -> us14.api.mailchimp.com.
        match = re.search(r"-([a-z]+\d+)$", self.creds["api_key"])
        if match and re.match(r"https://[a-z0-9]+\.api\.mailchimp\.com$", base):
            base = f"https://{match.group(1)}.api.mailchimp.com"
        return f"{base}/3.0"

    def auth(self) -> httpx.Auth:
        return httpx.BasicAuth("console", self.creds["api_key"])

    @property
    def list_path(self) -> str:
        return f"/lists/{self.settings['list_id']}"

    def classify(self, response: httpx.Response) -> ConnectorError | None:
        if response.status_code < 400:
            return None
        body = safe_json(response) or {}
        title = str(body.get("title", "")) if isinstance(body, dict) else ""
        detail = str(body.get("detail", "")) if isinstance(body, dict) else ""
        message = f"{title}: {detail}".strip(": ") or error_text(body)[1]
        kw = {
            "vendor": self.system,
            "status": response.status_code,
            "code": title,
            "vendor_message": message,
        }
        if any(p in message.lower() for p in _PERMANENT):
            return RejectedError("Mailchimp will not accept changes to this member.", **kw)
        if response.status_code == 429:
            return ThrottledError(
                "Mailchimp refused: too many connections at once.",
                retry_after=retry_after_seconds(response) or 1.0,
                **kw,
            )
        if response.status_code == 401:
            return AuthError("Mailchimp did not accept the API key.", **kw)
        return None

    def check(self) -> str:
        self.http.json("GET", "/ping")
        audience = self.http.json("GET", self.list_path)
        name = (audience or {}).get("name", self.settings["list_id"])
        return f"Signed in to Mailchimp: audience “{name}”."

    # --- members ---------------------------------------------------------------------
    @staticmethod
    def _member_body(member: dict) -> dict:
        """Never a `status`: an existing member's consent is Mailchimp's, not ours."""
        body = {k: v for k, v in member.items() if k not in ("status", "tags")}
        body.setdefault("status_if_new", "subscribed")
        return body

    def _new_member(self, member: dict) -> dict:
        body = self._member_body(member)
        body["status"] = body.pop("status_if_new")
        return body

    def upsert_members(self, members: Iterable[dict]) -> BatchResult:
        """Create or update members 500 a call, keyed by email.

        The batch call would overwrite an existing member's status if asked to update
        existing members, so it only creates; members that already exist are updated one
        by one with `status_if_new`, which leaves their consent alone.
        """
        result = BatchResult()
        for batch in chunks(list(members), self.batch_size):
            by_email = {m["email_address"].lower(): m for m in batch}
            payload = {"members": [self._new_member(m) for m in batch], "update_existing": False}
            body = (
                self.http.json("POST", self.list_path, json_body=payload, batch_size=len(batch))
                or {}
            )
            failed: dict[str, RecordError] = {}
            existing: list[dict] = []
            for err in body.get("errors") or []:
                email = str(err.get("email_address", "")).lower()
                if err.get("error_code") == "ERROR_CONTACT_EXISTS" and email in by_email:
                    existing.append(by_email[email])
                else:
                    failed[email] = RecordError(
                        str(err.get("error_code", "")), str(err.get("error", ""))
                    )
            for member in existing:
                try:
                    self.upsert_member(member)
                except RejectedError as exc:
                    failed[member["email_address"].lower()] = RecordError(
                        exc.code, exc.vendor_message
                    )
            result.failed.update(failed)
            result.ok.extend(e for e in by_email if e not in failed)
        return result

    def upsert_member(self, member: dict) -> dict:
        email = member["email_address"]
        return self.http.json(
            "PUT",
            f"{self.list_path}/members/{subscriber_hash(email)}",
            json_body=self._member_body(member),
        )

    def set_tags(
        self, email: str, active: Iterable[str] = (), inactive: Iterable[str] = ()
    ) -> None:
        tags = [{"name": t, "status": "active"} for t in active]
        tags += [{"name": t, "status": "inactive"} for t in inactive]
        self.http.request(
            "POST",
            f"{self.list_path}/members/{subscriber_hash(email)}/tags",
            json_body={"tags": tags},
            idempotent=True,
        )

    def unsubscribed_since(
        self, since: datetime | None = None, page_size: int = 1000
    ) -> Iterator[dict]:
        offset = 0
        while True:
            params = {"status": "unsubscribed", "count": page_size, "offset": offset}
            if since:
                params["since_last_changed"] = since.isoformat(timespec="seconds")
            body = self.http.json("GET", f"{self.list_path}/members", params=params) or {}
            members = body.get("members") or []
            yield from members
            offset += len(members)
            if not members or offset >= int(body.get("total_items", 0)):
                return

    def register_webhook(self, url: str) -> str:
        for hook in (self.http.json("GET", f"{self.list_path}/webhooks") or {}).get("webhooks", []):
            if hook.get("url") == url:
                return str(hook["id"])
        body = self.http.json(
            "POST",
            f"{self.list_path}/webhooks",
            json_body={
                "url": url,
                "events": {
                    "unsubscribe": True,
                    "cleaned": True,
                    "profile": False,
                    "subscribe": False,
                },
                "sources": {"user": True, "admin": True, "api": False},
            },
            idempotent=False,
        )
        return str(body["id"])

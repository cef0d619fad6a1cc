"""Mailchimp audience webhooks: registration, and an unsubscribe (control API) firing them."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlencode

import httpx

from connectors.mailchimp.fake.base import MailchimpBase, route
from connectors.mailchimp.fake.records import V, member_rec, problem, subscriber_hash
from connectors.sandbox.core import (
    Request,
    Response,
    dumps,
    empty,
    iso_seconds,
    json_response,
    raw_json,
    utcnow,
)
from connectors.sandbox.deliveries import Delivery
from connectors.sandbox.state import Rec


class WebhookRoutes(MailchimpBase):
    """/3.0/lists/{id}/webhooks, and unsubscribe (back office)."""

    @route("GET", r"/3.0/lists/(?P<list_id>\w+)/webhooks")
    def webhooks_get(self, req: Request, list_id: str) -> Response:
        if missing := self._list(req, list_id):
            return missing
        rows = self.app.store.rows(V, list_id, "webhook", columns="data")
        text = (
            '{"webhooks":['
            + ",".join(r[0] for r in rows)
            + f'],"list_id":"{list_id}","total_items":{len(rows)},"_links":[]}}'
        )
        return raw_json(text)

    @route("POST", r"/3.0/lists/(?P<list_id>\w+)/webhooks")
    def webhooks_post(self, req: Request, list_id: str) -> Response:
        """Register a webhook; like Mailchimp, first check that the URL answers a GET with 200."""
        if missing := self._list(req, list_id):
            return missing
        body = req.json()
        url = body.get("url") if isinstance(body, dict) else None
        if not url:
            return problem("Invalid Resource", 400, "url is required.")
        try:
            answer = httpx.get(url, timeout=self.app.settings.webhook_timeout_seconds)
            reachable = answer.status_code == 200
        except httpx.HTTPError:
            reachable = False
        if not reachable:
            return problem(
                "Invalid Resource",
                400,
                "The resource submitted could not be validated. For field-specific details, "
                "see the 'errors' array.",
                errors=[
                    {
                        "field": "url",
                        "message": "We couldn't verify the URL is working. Please double "
                        "check and try again.",
                    }
                ],
            )
        store = self.app.store
        number = store.max_num(V, list_id, ["webhook"]) + 1
        hook_id = hashlib.md5(f"{list_id}:{number}".encode(), usedforsecurity=False).hexdigest()[
            :10
        ]
        events = {
            "subscribe": False,
            "unsubscribe": False,
            "profile": False,
            "cleaned": False,
            "upemail": False,
            "campaign": False,
            **(body.get("events") or {}),
        }
        sources = {"user": False, "admin": False, "api": False, **(body.get("sources") or {})}
        doc = {
            "id": hook_id,
            "url": url,
            "events": events,
            "sources": sources,
            "list_id": list_id,
            "_links": [],
        }
        store.put(Rec(V, list_id, "webhook", hook_id, dumps(doc), num=number))
        return json_response(doc)

    @route("DELETE", r"/3.0/lists/(?P<list_id>\w+)/webhooks/(?P<hook_id>\w+)")
    def webhooks_delete(self, req: Request, list_id: str, hook_id: str) -> Response:
        if missing := self._list(req, list_id):
            return missing
        if not self.app.store.delete(V, list_id, "webhook", hook_id):
            return self.not_found(req)
        return empty(204)

    # --- back-office changes (control API) ------------------------------------------------

    def unsubscribe(
        self,
        req: Request,
        email: str,
        reason: str = "manual",
        source: str = "user",
        copies: int = 1,
    ) -> dict[str, Any] | None:
        """A member unsubscribes (source "user") or is unsubscribed ("admin"); fire webhooks."""
        account = req.account
        list_id = account.code
        store = self.app.store
        digest = subscriber_hash(email)
        found = store.rows(V, list_id, "member", "id = ?", (digest,), "data, type")
        if not found:
            return None
        doc = json.loads(found[0][0])
        now = utcnow()
        old = doc["status"]
        doc["status"] = "unsubscribed"
        doc["unsubscribe_reason"] = reason
        doc["last_changed"] = iso_seconds(now)
        store.put(member_rec(list_id, doc, found[0][1] == "compliance"))
        self._log_status(list_id, doc, old, "unsubscribed", source)
        form = [
            ("type", "unsubscribe"),
            ("fired_at", now.strftime("%Y-%m-%d %H:%M:%S")),
            ("data[action]", "unsub"),
            ("data[reason]", reason),
            ("data[id]", doc["unique_email_id"]),
            ("data[list_id]", list_id),
            ("data[email]", doc["email_address"]),
            ("data[email_type]", doc["email_type"]),
            ("data[merges][EMAIL]", doc["email_address"]),
            ("data[merges][FNAME]", doc["merge_fields"].get("FNAME", "")),
            ("data[merges][LNAME]", doc["merge_fields"].get("LNAME", "")),
            ("data[merges][INTERESTS]", ""),
            ("data[ip_opt]", doc.get("ip_opt", "")),
            ("data[campaign_id]", ""),
        ]
        self._fire(req, "unsubscribe", form, source, doc["email_address"], copies)
        return doc

    def clean(
        self, req: Request, email: str, reason: str = "hard", copies: int = 1
    ) -> dict[str, Any] | None:
        """Mailchimp cleans a bouncing address (status "cleaned"); fire the `cleaned` webhooks.
        The callback: type=cleaned&fired_at=…&data[list_id]&data[campaign_id]&data[reason]
        (hard or abuse)&data[email] (the legacy webhooks sample, apidocs.mailchimp.com)."""
        list_id = req.account.code
        store = self.app.store
        found = store.rows(V, list_id, "member", "id = ?", (subscriber_hash(email),), "data, type")
        if not found:
            return None
        doc = json.loads(found[0][0])
        now = utcnow()
        old = doc["status"]
        doc["status"] = "cleaned"
        doc.pop("unsubscribe_reason", None)
        doc["last_changed"] = iso_seconds(now)
        store.put(member_rec(list_id, doc, found[0][1] == "compliance"))
        self._log_status(list_id, doc, old, "cleaned", "admin")
        form = [
            ("type", "cleaned"),
            ("fired_at", now.strftime("%Y-%m-%d %H:%M:%S")),
            ("data[list_id]", list_id),
            ("data[campaign_id]", ""),
            ("data[reason]", reason),
            ("data[email]", doc["email_address"]),
        ]
        # Mailchimp cleans the address itself: sent to hooks that take any source.
        self._fire(req, "cleaned", form, "", doc["email_address"], copies)
        return doc

    def _fire(
        self, req: Request, event: str, form: list, source: str, email: str, copies: int
    ) -> None:
        list_id = req.account.code
        body = urlencode(form).encode()
        for (text,) in self.app.store.rows(V, list_id, "webhook", columns="data"):
            hook = json.loads(text)
            if not hook["events"].get(event):
                continue
            if source and not hook["sources"].get(source):
                continue
            delivery = Delivery(
                vendor=V,
                account=list_id,
                event=event,
                hook_id=hook["id"],
                method="POST",
                url=hook["url"],
                body=body,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "User-Agent": "MailChimp",
                },
                # Mailchimp retries for about 75 minutes.
                max_attempts=20,
                extra={"email": email},
            )
            req.after_commit.append(lambda d=delivery: self.app.deliverer.enqueue(d, copies))

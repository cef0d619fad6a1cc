"""Brightpearl webhooks: registration (integration-service) and firing an event after a change."""

from __future__ import annotations

import json
from typing import Any

from connectors.brightpearl.fake.base import BrightpearlBase, route
from connectors.brightpearl.fake.constants import BRIGHTPEARL_VERSION, JSON_UTF8, V, errors
from connectors.brightpearl.fake.records import simple_rec
from connectors.sandbox.core import (
    Account,
    BadRequest,
    Request,
    Response,
    iso_ms,
    json_response,
    parse_idset,
    raw_json,
    utcnow,
)
from connectors.sandbox.deliveries import Delivery

# --- webhooks -----------------------------------------------------------------------------


def subscribes(subscribe_to: str, event: str) -> bool:
    """'goods-out-note' takes every goods-out-note event; 'order.modified' takes its specifiers."""
    return event == subscribe_to or event.startswith(subscribe_to + ".")


def fire(
    app: Any, req: Request, account: Account, event: str, resource_id: int, copies: int = 1
) -> int:
    """Queue the account's matching webhooks for after the transaction; returns how many."""
    resource_type, _, rest = event.partition(".")
    lifecycle = rest.split(".")[0] if rest else ""
    raised_on = iso_ms(utcnow())
    values = {
        "account-code": account.code,
        "resource-type": resource_type,
        "resource-id": str(resource_id),
        "lifecycle-event": lifecycle,
        "full-event": event,
        "raised-on": raised_on,
        "brightpearl-version": BRIGHTPEARL_VERSION,
    }

    def render(template: str) -> str:
        for key, value in values.items():
            template = template.replace("${" + key + "}", value)
        return template

    hooks = [json.loads(d) for (d,) in app.store.rows(V, account.code, "webhook", columns="data")]
    count = 0
    for hook in hooks:
        if not subscribes(hook["subscribeTo"], event):
            continue
        method = hook.get("httpMethod", "POST").upper()
        body = render(hook.get("bodyTemplate") or "") if method in ("POST", "PUT") else ""
        headers = {"Content-Type": hook.get("contentType") or "application/json"} if body else {}
        delivery = Delivery(
            vendor=V,
            account=account.code,
            event=event,
            hook_id=str(hook["id"]),
            method=method,
            url=render(hook["uriTemplate"]),
            body=body.encode(),
            headers=headers,
            # qualityOfService 1 is at least once (retried); 0 is at most once.
            max_attempts=10 if hook.get("qualityOfService", 1) else 1,
            extra={"resource_id": resource_id},
        )
        req.after_commit.append(lambda d=delivery: app.deliverer.enqueue(d, copies))
        count += 1
    return count


class WebhookRoutes(BrightpearlBase):
    """/integration-service/webhook: register, list and delete webhooks."""

    # --- integration service: webhooks -------------------------------------------------------

    @route("GET", r"/integration-service/webhook(?:/(?P<ids>[^/]*))?")
    def webhook_get(self, req: Request, ids: str | None = None) -> Response:
        rows = self.app.store.rows(V, req.account.code, "webhook")
        if ids:
            wanted = {str(i) for i in parse_idset(ids)}
            rows = [r for r in rows if r[0] in wanted]
        if not rows and (empty := self._nothing_found("webhook", ids or "")):
            return empty
        return raw_json(
            '{"response":[' + ",".join(d for _, d in rows) + "]}", content_type=JSON_UTF8
        )

    @route("POST", r"/integration-service/webhook")
    def webhook_post(self, req: Request) -> Response:
        body = req.json()
        if not isinstance(body, dict):
            raise BadRequest("The body must be a JSON object")
        for field in ("subscribeTo", "httpMethod", "uriTemplate"):
            if not body.get(field):
                return errors("INTC-001", f"{field} is required", 400)
        if body["httpMethod"].upper() not in ("GET", "POST", "PUT", "DELETE"):
            return errors("INTC-002", "httpMethod must be GET, POST, PUT or DELETE", 400)
        store = self.app.store
        code = req.account.code
        hook_id = store.max_num(V, code, ["webhook"]) + 1
        doc = {
            "id": hook_id,
            "subscribeTo": body["subscribeTo"],
            "httpMethod": body["httpMethod"].upper(),
            "uriTemplate": body["uriTemplate"],
            "bodyTemplate": body.get("bodyTemplate", ""),
            "contentType": body.get("contentType", "application/json"),
            "idSetAccepted": bool(body.get("idSetAccepted", False)),
            "qualityOfService": int(body.get("qualityOfService", 1)),
        }
        store.put(simple_rec(code, "webhook", hook_id, doc))
        return json_response({"response": hook_id}, content_type=JSON_UTF8)

    @route("DELETE", r"/integration-service/webhook/(?P<hook_id>\d+)")
    def webhook_delete(self, req: Request, hook_id: str) -> Response:
        if not self.app.store.delete(V, req.account.code, "webhook", hook_id):
            return errors("INTC-404", f"Webhook {hook_id} does not exist", 404)
        return raw_json("{}", content_type=JSON_UTF8)

"""BigCommerce webhooks: registration (v3 /hooks), and firing a scope after a change."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from connectors.bigcommerce.fake.base import BigCommerceBase, route
from connectors.bigcommerce.fake.constants import V, pagination, v3_error
from connectors.bigcommerce.fake.records import hook_rec
from connectors.sandbox.core import Account, Request, Response, dumps, json_response, raw_json
from connectors.sandbox.deliveries import Delivery

# --- webhooks ----------------------------------------------------------------------------------


def scope_matches(registered: str, scope: str) -> bool:
    if registered.endswith("/*"):
        return scope.startswith(registered[:-1])
    return registered == scope


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """A Standard Webhooks v1 signature (what BigCommerce's docs say to verify)."""
    key = base64.b64encode(secret.encode())
    digest = hmac.new(
        base64.b64decode(key), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256
    )
    return "v1," + base64.b64encode(digest.digest()).decode()


def fire(
    app: Any, req: Request, account: Account, scope: str, data: dict[str, Any], copies: int = 1
) -> int:
    store = app.store
    hooks = [json.loads(d) for (d,) in store.rows(V, account.code, "hook", columns="data")]
    now = int(time.time())
    envelope = {
        "scope": scope,
        "store_id": account.creds["store_id"],
        "data": data,
        # "The SHA-1 hash of the JSON-encoded payload data": the same event hashes the same.
        "hash": hashlib.sha1(dumps(data).encode(), usedforsecurity=False).hexdigest(),
        "created_at": now,
        "producer": f"stores/{account.code}",
    }
    body = dumps(envelope).encode()
    count = 0
    for hook in hooks:
        if not hook.get("is_active") or not scope_matches(hook["scope"], scope):
            continue
        msg_id = f"msg_{uuid.uuid4().hex}"
        headers = {
            "Content-Type": "application/json",
            **{str(k): str(v) for k, v in (hook.get("headers") or {}).items()},
            "webhook-id": msg_id,
            "webhook-timestamp": str(now),
            "webhook-signature": sign(account.creds["client_secret"], msg_id, now, body),
        }

        def give_up(hook_id: int = hook["id"]) -> None:
            # After its last retry BigCommerce deactivates the hook.
            with app.store.transaction(write=True):
                current = app.store.get_json(V, account.code, "hook", hook_id)
                if current:
                    current["is_active"] = False
                    app.store.put(hook_rec(account.code, current))

        delivery = Delivery(
            vendor=V,
            account=account.code,
            event=scope,
            hook_id=str(hook["id"]),
            method="POST",
            url=hook["destination"],
            body=body,
            headers=headers,
            max_attempts=12,
            on_give_up=give_up,
            extra={"resource_id": data.get("id")},
        )
        req.after_commit.append(lambda d=delivery: app.deliverer.enqueue(d, copies))
        count += 1
    return count


class HookRoutes(BigCommerceBase):
    """/v3/hooks: register, list, read, change and delete hooks."""

    # --- v3 hooks ------------------------------------------------------------------------

    @route("GET", r"/v3/hooks")
    def hooks_get(self, req: Request) -> Response:
        rows = self.app.store.rows(V, req.account.code, "hook", columns="data")
        hooks = [json.loads(r[0]) for r in rows]
        if req.q("scope"):
            hooks = [h for h in hooks if h["scope"] == req.q("scope")]
        if req.q("is_active") is not None:
            wanted = req.q("is_active") == "true"
            hooks = [h for h in hooks if h["is_active"] == wanted]
        return json_response(
            {
                "data": hooks,
                "meta": {"pagination": pagination(len(hooks), len(hooks), 50, 1)["pagination"]},
            }
        )

    @route("POST", r"/v3/hooks")
    def hooks_post(self, req: Request) -> Response:
        body = req.json()
        if not isinstance(body, dict) or not body.get("scope") or not body.get("destination"):
            return v3_error(422, "scope and destination are required")
        store = self.app.store
        code = req.account.code
        now = int(time.time())
        hook_id = store.max_num(V, code, ["hook"]) + 1
        doc = {
            "id": hook_id,
            "client_id": req.account.creds["client_id"],
            "store_hash": code,
            "scope": body["scope"],
            "destination": body["destination"],
            "headers": body.get("headers"),
            "is_active": bool(body.get("is_active", True)),
            "created_at": now,
            "updated_at": now,
        }
        store.put(hook_rec(code, doc))
        return json_response({"data": doc, "meta": {}})

    @route("GET", r"/v3/hooks/(?P<hook_id>\d+)")
    def hook_get(self, req: Request, hook_id: str) -> Response:
        text = self.app.store.get(V, req.account.code, "hook", hook_id)
        if text is None:
            return v3_error(404, f"Webhook with id [{hook_id}] not found")
        return raw_json('{"data":' + text + ',"meta":{}}')

    @route("PUT", r"/v3/hooks/(?P<hook_id>\d+)")
    def hook_put(self, req: Request, hook_id: str) -> Response:
        store = self.app.store
        doc = store.get_json(V, req.account.code, "hook", hook_id)
        if doc is None:
            return v3_error(404, f"Webhook with id [{hook_id}] not found")
        body = req.json()
        for key in ("scope", "destination", "is_active", "headers"):
            if isinstance(body, dict) and key in body:
                doc[key] = body[key]
        doc["updated_at"] = int(time.time())
        store.put(hook_rec(req.account.code, doc))
        return json_response({"data": doc, "meta": {}})

    @route("DELETE", r"/v3/hooks/(?P<hook_id>\d+)")
    def hook_delete(self, req: Request, hook_id: str) -> Response:
        store = self.app.store
        text = store.get(V, req.account.code, "hook", hook_id)
        if text is None:
            return v3_error(404, f"Webhook with id [{hook_id}] not found")
        store.delete(V, req.account.code, "hook", hook_id)
        return raw_json('{"data":' + text + ',"meta":{}}')

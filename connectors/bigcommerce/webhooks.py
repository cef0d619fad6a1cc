"""BigCommerce's webhooks: a thin JSON envelope, proven by a header the console chose.

The callback body is `{scope, store_id, data{type, id, …}, hash, created_at, producer}`
(vendors/bigcommerce/webhook-events-index.mdx; `producer` "will always follow the pattern
stores/store_hash"). It names the record, never its contents: the order is read afterwards.

Authentication, two layers (https-webhook-overview.mdx, "Security"):
- the custom `headers` given when the hook is created (`POST /v3/hooks` with {scope,
  destination, is_active, headers}) come back on every callback. The console registers one
  header whose value is derived from the connection's secret and this console's SECRET_KEY,
  so the address alone (which proxies and logs may keep) does not let anyone post events;
- a Standard Webhooks signature (`webhook-id`, `webhook-timestamp`, `webhook-signature`:
  "v1,<base64 HMAC-SHA256 of id.timestamp.body>"), keyed with the app's OAuth client secret
  (the docs' samples hand base64(client secret) to the Standard Webhooks library, which
  decodes it back). It is checked when the connection has the client secret: a store-level
  API account has none, and the docs do not say such hooks are signed.

Retries (for about 48 hours) resend the same body, and "if a hook fires twice for the same
event, both request bodies rely on the same hash".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.crypto import salted_hmac

from connectors.webhooks import (
    Inbound,
    InboundEvent,
    Registration,
    VendorWebhooks,
    WebhookRefused,
    as_id,
    canonical,
    is_stale,
    json_object,
)

if TYPE_CHECKING:
    from connectors.bigcommerce.client import BigCommerce
    from connectors.models import Connection

# The custom header the console registers with every hook and expects back.
SECRET_HEADER = "X-Console-Webhook-Token"
_SALT = "connectors.bigcommerce.webhooks"
# How far a signature's timestamp may be from now: the Standard Webhooks libraries' default.
SIGNATURE_TOLERANCE_SECONDS = 5 * 60


def header_token(connection: Connection, secret_key: str | None = None) -> str:
    """The value of SECRET_HEADER for this connection."""
    return salted_hmac(
        _SALT, connection.webhook_secret, secret=secret_key, algorithm="sha256"
    ).hexdigest()


def _token_fits(connection: Connection, given: str) -> bool:
    # Also under the previous SECRET_KEYs, so rotating the key does not refuse every event
    # until the hooks are registered again (registering updates the header).
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(_same(header_token(connection, key), given) for key in keys)


def _same(expected: str, given: str) -> bool:
    """A constant-time comparison of header values. As bytes: compare_digest refuses str
    with characters beyond ASCII, and a header can carry any (a 500 before)."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogateescape"))


def signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    """A Standard Webhooks v1 signature: "v1," + base64(HMAC-SHA256(key, id.timestamp.body)).

    The key is the client secret's bytes; a secret in the Standard Webhooks form
    ("whsec_" + base64) is decoded first."""
    if secret.startswith("whsec_"):
        key = base64.b64decode(secret.removeprefix("whsec_"))
    else:
        key = secret.encode()
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class BigCommerceWebhooks(VendorWebhooks):
    system = "bigcommerce"
    label = "BigCommerce"

    def parse(self, connection: Connection, inbound: Inbound) -> list[InboundEvent]:
        given = inbound.header(SECRET_HEADER)
        if not given or not _token_fits(connection, given):
            raise WebhookRefused(
                f"The {SECRET_HEADER} header is missing or wrong: this console registers its "
                "BigCommerce webhooks with it. Register the webhooks again from the console.",
                status=401,
            )
        client_secret = _client_secret(connection)
        if client_secret:
            self._verify_signature(client_secret, inbound)
        body = json_object(inbound, self.label)
        scope, data, digest = body.get("scope"), body.get("data"), body.get("hash")
        if not isinstance(scope, str) or not scope or not isinstance(digest, str) or not digest:
            raise WebhookRefused("The body needs “scope” and “hash”, as BigCommerce sends them.")
        if not isinstance(data, dict) or data.get("id") in (None, ""):
            raise WebhookRefused("The body needs “data” with the “id” of the record.")
        self._check_store(connection, body)
        record = as_id(data["id"])
        return [
            InboundEvent(
                event=scope,
                resource_ids=[record],
                body=body,
                # The hash repeats on a redelivery, but it is the hash of `data` alone, and
                # store/order/updated sends the same data ({type, id}) for every change to
                # an order: with the scope and created_at (both repeated on a redelivery)
                # a later change is its own event, not a duplicate.
                dedupe_key=canonical([scope, digest, record, body.get("created_at")]),
            )
        ]

    def _verify_signature(self, client_secret: str, inbound: Inbound) -> None:
        msg_id = inbound.header("webhook-id")
        stamp = inbound.header("webhook-timestamp")
        signed = inbound.header("webhook-signature")
        if not (msg_id and stamp and signed):
            raise WebhookRefused(
                "The delivery is not signed (webhook-id, webhook-timestamp and "
                "webhook-signature), and this connection has a client secret to check it with.",
                status=401,
            )
        try:
            age = abs(time.time() - int(stamp))
        except ValueError:
            raise WebhookRefused("webhook-timestamp is not a Unix time.", status=401) from None
        if age > SIGNATURE_TOLERANCE_SECONDS:
            # A replay of an old delivery, or a clock far out.
            raise WebhookRefused(
                "The signature's timestamp is more than 5 minutes from now.", status=401
            )
        try:
            expected = signature(client_secret, msg_id, stamp, inbound.body)
        except (binascii.Error, ValueError):
            raise WebhookRefused(
                "The connection's client secret cannot be read to check the signature.",
                status=401,
            ) from None
        # The header may hold several signatures, separated by spaces (key rotation).
        if not any(_same(expected, s) for s in signed.split()):
            raise WebhookRefused(
                "The signature does not match: the body was changed, or it was not signed "
                "with this connection's client secret.",
                status=401,
            )

    def _check_store(self, connection: Connection, body: dict[str, Any]) -> None:
        settings_ = connection.settings or {}
        store_hash = str(settings_.get("store_hash", ""))
        store_id = str(settings_.get("store_id", ""))
        producer = str(body.get("producer") or "")
        if not producer and not body.get("store_id"):
            raise WebhookRefused("The body names no store (“producer” or “store_id”).")
        if producer and store_hash and producer != f"stores/{store_hash}":
            raise WebhookRefused(
                f"This address takes the events of BigCommerce store {store_hash}, "
                f"not of “{producer.removeprefix('stores/')}”."
            )
        if store_id and body.get("store_id") and str(body["store_id"]) != store_id:
            raise WebhookRefused(
                f"This address takes the events of BigCommerce store id {store_id}, "
                f"not of “{body['store_id']}”."
            )

    def matches(self, event: str, declared: tuple[str, ...]) -> bool:
        # BigCommerce's own wildcard: store/order/* covers store/order/created.
        return any(event == d or (d.endswith("/*") and event.startswith(d[:-1])) for d in declared)

    def register(
        self, connector: BigCommerce, *, url: str, events: list[str], ours: str, live: set[str]
    ) -> Registration:
        """One hook per scope (BigCommerce creates "only one webhook at a time"), each with
        the secret header; an existing hook keeps its id and gets the header and
        is_active back if they drifted (BigCommerce deactivates a hook after 48 hours of
        failed deliveries)."""
        done = Registration(events=list(events))
        headers = {SECRET_HEADER: header_token(connector.connection)}
        present: set[str] = set()
        for hook in _hooks(connector):
            address, scope = str(hook.get("destination", "")), str(hook.get("scope", ""))
            unwanted = address == url and (scope not in events or scope in present)
            if is_stale(address, ours=ours, live=live) or unwanted:
                connector.http.request("DELETE", f"/v3/hooks/{int(hook['id'])}")
                done.removed.append(scope)
                continue
            if address != url:
                continue
            present.add(scope)
            if hook.get("headers") != headers or not hook.get("is_active"):
                connector.http.json(
                    "PUT",
                    f"/v3/hooks/{int(hook['id'])}",
                    json_body={"headers": headers, "is_active": True},
                )
        for scope in events:
            if scope not in present:
                connector.http.json(
                    "POST",
                    "/v3/hooks",
                    json_body={
                        "scope": scope,
                        "destination": url,
                        "is_active": True,
                        "headers": headers,
                    },
                    idempotent=False,
                )
        return done


def _client_secret(connection: Connection) -> str:
    return str(connection.credentials.get("client_secret") or "")


def _hooks(connector: BigCommerce) -> list[dict[str, Any]]:
    """Every hook of the store's app, all pages (`GET /v3/hooks`, meta.pagination)."""
    found: dict[int, dict[str, Any]] = {}
    page = 1
    while True:
        body = connector.http.json("GET", "/v3/hooks", params={"page": page, "limit": 250}) or {}
        data = body.get("data") or []
        for hook in data:
            found[int(hook["id"])] = hook
        pages = ((body.get("meta") or {}).get("pagination") or {}).get("total_pages") or 1
        if not data or page >= int(pages):
            return list(found.values())
        page += 1

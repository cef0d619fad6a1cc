"""Inbound webhooks: the one small interface every vendor that calls the console back shares.

Each vendor's package has a `webhooks.py` with one `VendorWebhooks` subclass that knows its
vendor's contract:

- `parse` checks that a delivery is genuine and for this connection (a header secret, a
  signature, the account, store or list it names) and reads it into `InboundEvent`s: the
  event's name in the vendor's own words, the ids of the records it is about, the body to
  keep, and a key that is the same when the vendor delivers the same event again.
  Anything wrong raises `WebhookRefused` with a reason in plain English.
- `handshake` answers a vendor's check that the address works (Mailchimp's GET).
- `register` makes the vendor's subscriptions match the events wanted, through its API.
- `matches` says whether an event is one a flow declared, in the vendor's naming scheme.

What is parsed is `Inbound`, plain data (method, body bytes, content type, headers), not a
Django request: this layer knows nothing of the web framework, and the view that builds it
lives in `syncs`. No method here calls a vendor except `register`, so a delivery is answered
without waiting on anyone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from connectors.base import Connector
    from connectors.models import Connection


@dataclass(frozen=True)
class Inbound:
    """One HTTP delivery, as plain data."""

    method: str
    body: bytes = b""
    content_type: str = ""
    # Header names lower-cased.
    headers: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str:
        return str(self.headers.get(name.lower(), ""))


@dataclass(frozen=True)
class InboundEvent:
    """One event a delivery carries."""

    event: str  # the vendor's own name: order.modified.order-status, store/order/created…
    resource_ids: list[int | str]
    body: dict[str, Any]
    # The same for a redelivery of this event, different for any other event.
    dedupe_key: str


@dataclass
class Registration:
    """What `register` left at the vendor: the events subscribed, and what it removed."""

    events: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


class WebhookRefused(Exception):
    """A delivery the console will not store, with the reason the sender is told.

    400: the body is not what the vendor sends, or it is for another account, store or
    list; 401: it is not proven to come from the vendor; 404: no such address; 405: a
    method the address does not take.
    """

    def __init__(self, reason: str, *, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class VendorWebhooks:
    system: ClassVar[str]
    label: ClassVar[str]
    # The vendor's API registers webhooks, so `webhooks_register` calls `register`.
    registers: ClassVar[bool] = True
    # Set (in plain English) for a vendor whose changes are not received by webhook: its
    # address answers 404 with this reason.
    closed: ClassVar[str] = ""

    def handshake(self, connection: Connection, inbound: Inbound) -> bool:
        """True if this request is the vendor checking the address (answered 200, stored
        nothing)."""
        return False

    def parse(self, connection: Connection, inbound: Inbound) -> list[InboundEvent]:
        raise NotImplementedError

    def matches(self, event: str, declared: tuple[str, ...]) -> bool:
        return event in declared

    def register(
        self, connector: Connector, *, url: str, events: list[str], ours: str, live: set[str]
    ) -> Registration:
        """Make the vendor's hooks at `url` exactly `events`, and remove this console's stale
        ones: hooks under `ours` (this console's address for the vendor) whose address is not
        in `live` (a console rebuilt, a secret rotated: every event sent there is refused).
        Hooks of other apps, and of this console's other connections, are left alone."""
        raise NotImplementedError


# --- small helpers the vendors share -------------------------------------------------------
def json_object(inbound: Inbound, vendor: str) -> dict[str, Any]:
    try:
        body = json.loads(inbound.body or b"")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise WebhookRefused(f"The body is not JSON, as {vendor} sends it.") from None
    if not isinstance(body, dict):
        raise WebhookRefused("The body must be a JSON object.")
    return body


def canonical(value: Any) -> str:
    """One text for one value, whatever the order of its keys."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def is_stale(address: str, *, ours: str, live: set[str]) -> bool:
    """This console's address for the vendor, with a secret no connection has any more."""
    return address.startswith(ours) and address not in live


def as_id(value: Any) -> int | str:
    text = str(value).strip()
    return int(text) if text.isdigit() else text

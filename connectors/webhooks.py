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
import math
from collections.abc import Iterator, Mapping, Sequence
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


# One id, or the range [first, last] of an id set ("1-5" is [1, 5]): a range is kept as its two
# ends, never expanded, so ten thousand ids cost a few bytes (see ids_count, ids_expand).
IdItem = int | str | list[int]


@dataclass(frozen=True)
class InboundEvent:
    """One event a delivery carries."""

    event: str  # the vendor's own name: order.modified.order-status, store/order/created…
    # The records it is about, compact (IdItem): ids and [first, last] ranges.
    resource_ids: list[IdItem]
    body: dict[str, Any]
    # The same for a redelivery of this event, different for any other event.
    dedupe_key: str

    @property
    def size(self) -> int:
        return ids_count(self.resource_ids)


@dataclass
class Registration:
    """What `register` left at the vendor: the events subscribed, and what it removed."""

    events: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


class WebhookRefused(Exception):
    """A delivery the console will not store, with the reason the sender is told.

    400: the body is not what the vendor sends, or it is for another account, store or
    list, or names more ids than one event may; 401: it is not proven to come from the
    vendor; 404: no such address; 405: a method the address does not take; 413: the body is
    too large to read; 429: the source is refused for a while (`retry_after` seconds).
    """

    def __init__(self, reason: str, *, status: int = 400, retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


class VendorWebhooks:
    system: ClassVar[str]
    label: ClassVar[str]
    # The vendor's API registers webhooks, so `webhooks_register` calls `register`.
    registers: ClassVar[bool] = True
    # Set (in plain English) for a vendor whose changes are not received by webhook: its
    # address answers 404 with this reason.
    closed: ClassVar[str] = ""
    # The vendor can say cheaply which of an event's ids exist (`known`). BigCommerce and
    # Mailchimp name one record an event, which costs one read anyway.
    checks_ids: ClassVar[bool] = False

    def handshake(self, connection: Connection, inbound: Inbound) -> bool:
        """True if this request is the vendor checking the address (answered 200, stored
        nothing)."""
        return False

    def parse(self, connection: Connection, inbound: Inbound) -> list[InboundEvent]:
        raise NotImplementedError

    def matches(self, event: str, declared: tuple[str, ...]) -> bool:
        return event in declared

    def known(
        self, connector: Connector, events: Sequence[tuple[str, list[IdItem]]]
    ) -> list[set[str] | None]:
        """For each (event, ids), which of the ids the vendor has, asked in as few lookups as
        it can (at most one per id set that turns out unknown), so a sender naming ids that
        do not exist costs the brand's allowance almost nothing. None for an event the vendor
        cannot check cheaply: all its ids are read. Calls the vendor (from the task queue,
        never from a request)."""
        return [None] * len(events)

    def register(
        self, connector: Connector, *, url: str, events: list[str], ours: str, live: set[str]
    ) -> Registration:
        """Make the vendor's hooks at `url` exactly `events`, and remove this console's stale
        ones: hooks under `ours` (this console's address for the vendor) whose address is not
        in `live` (a console rebuilt, a secret rotated: every event sent there is refused).
        Hooks of other apps, and of this console's other connections, are left alone."""
        raise NotImplementedError


# --- ids: compact, counted and expanded without building the whole list ------------------
def ids_count(items: Sequence[IdItem]) -> int:
    """How many ids the items name, a range counting what it expands to."""
    return sum(item[1] - item[0] + 1 if isinstance(item, list) else 1 for item in items)


def ids_expand(items: Sequence[IdItem]) -> Iterator[int | str]:
    """Every id the items name, one at a time (a caller bounds how many it takes)."""
    for item in items:
        if isinstance(item, list):
            yield from range(item[0], item[1] + 1)
        else:
            yield item


# --- small helpers the vendors share -------------------------------------------------------
# No vendor nests its webhook bodies more than a few levels; a deeper body is refused before
# anything walks it (a deep one crashed the JSON decoder, and could crash the encoder that
# stores it).
MAX_DEPTH = 32


def json_object(inbound: Inbound, vendor: str) -> dict[str, Any]:
    try:
        body = json.loads(inbound.body or b"", parse_float=_finite, parse_constant=_refused)
    except RecursionError:
        raise WebhookRefused(_TOO_DEEP) from None
    except ValueError:
        # Not JSON, not UTF-8, NaN or Infinity (JSON has neither, and no database stores
        # them), or an integer too long for Python to read.
        raise WebhookRefused(f"The body is not JSON, as {vendor} sends it.") from None
    if not isinstance(body, dict):
        raise WebhookRefused("The body must be a JSON object.")
    if depth(body) > MAX_DEPTH:
        raise WebhookRefused(_TOO_DEEP)
    if not storable(body):
        # JSON may spell a lone UTF-16 surrogate or a NUL in an escape; no database
        # stores either as text.
        raise WebhookRefused(UNSTORABLE)
    return body


UNSTORABLE = (
    "The body holds text that cannot be stored: a lone UTF-16 surrogate or a NUL character."
)
_TOO_DEEP = f"The body is nested more than {MAX_DEPTH} levels deep; no vendor sends that."


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e999
        raise ValueError(text)
    return number


def _refused(name: str) -> Any:
    raise ValueError(name)  # NaN, Infinity, -Infinity


def depth(value: Any) -> int:
    """How deeply lists and objects nest in a value, walked without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in item)
    return deepest


def storable(value: Any) -> bool:
    """True if every string in the value (keys too) can be stored as text: valid Unicode (no
    lone surrogate, which UTF-8 cannot encode) and no NUL character (PostgreSQL's text and
    jsonb refuse it). Walked without recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return False
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


def canonical(value: Any) -> str:
    """One text for one value, whatever the order of its keys."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def is_stale(address: str, *, ours: str, live: set[str]) -> bool:
    """This console's address for the vendor, with a secret no connection has any more."""
    return address.startswith(ours) and address not in live


def as_id(value: Any) -> int | str:
    text = str(value).strip()
    return int(text) if text.isdigit() else text

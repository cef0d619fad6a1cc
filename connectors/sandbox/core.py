"""The small pieces every simulated vendor shares: request and response, routing, JSON, clocks.

Kept free of any vendor knowledge so that each vendor module reads as "the vendor's rules".
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs

if TYPE_CHECKING:
    from connectors.sandbox.server import App

APPLICATION_JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
# Methods that change nothing at any vendor; every other one is a write (the write log and the
# lost-write fault go by this, unless a vendor says otherwise: Vendor.is_write).
READ_METHODS = ("GET", "HEAD", "OPTIONS")


class BadRequest(Exception):
    """Raised by a handler when the body is not what the vendor accepts; the vendor shapes it."""


@dataclass
class Account:
    """One vendor account: a brand's Brightpearl account, Mailchimp audience, BigCommerce store…"""

    vendor: str
    code: str  # the id a vendor puts in its paths or tokens: account code, store hash, list id…
    brand: str  # the sandbox brand key ("demo", "second", …) that groups one account per vendor
    creds: dict[str, str]


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str | None = APPLICATION_JSON
    headers: dict[str, str] = field(default_factory=dict)


_ENCODER = json.JSONEncoder(separators=(",", ":"))


def dumps(data: Any) -> str:
    """Compact JSON, with one shared encoder (the seed serialises hundreds of thousands)."""
    return _ENCODER.encode(data)


def json_response(
    data: Any, status: int = 200, content_type: str = APPLICATION_JSON, **headers: str
) -> Response:
    body = dumps(data).encode()
    return Response(status, body, content_type, dict(headers))


def raw_json(text: str, status: int = 200, content_type: str = APPLICATION_JSON) -> Response:
    """A response from JSON text that is already serialised (stored records are served as is)."""
    return Response(status, text.encode(), content_type)


def empty(status: int = 204) -> Response:
    return Response(status, b"", None)


class Request:
    """One inbound call, with the vendor-relative path and what the pipeline learned about it."""

    def __init__(
        self,
        app: App,
        method: str,
        path: str,
        query: str,
        headers: Any,
        body: bytes,
        base_url: str,
    ) -> None:
        self.app = app
        self.method = method
        self.path = path  # the vendor-relative path; a vendor's auth may strip its account part
        self.sent_path = path  # as the client sent it (after the vendor prefix), never changed
        self.query = parse_qs(query, keep_blank_values=True)
        self.headers = headers  # case-insensitive .get(), like http.client.HTTPMessage
        self.body = body
        self.base_url = base_url  # scheme://host:port the client used, for links and discovery
        self.account: Account | None = None
        self.hit: Any = None  # the rate-limit window this request was counted in, if any
        self.fault: str | None = None  # the fault that shaped the answer (stats' names)
        # Work to run once the request's transaction has committed (webhook deliveries).
        self.after_commit: list[Callable[[], None]] = []
        self._json: Any = None

    def q(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        if self._json is None:
            try:
                self._json = json.loads(self.body or b"null")
            except ValueError as exc:
                raise BadRequest(f"The body is not valid JSON: {exc}") from exc
        return self._json


def json_object(req: Request) -> dict[str, Any]:
    """The body if it is a JSON object, else {}; never raises (the write log reads refused
    writes' bodies too)."""
    try:
        body = req.json()
    except BadRequest:
        return {}
    return body if isinstance(body, dict) else {}


Handler = Callable[..., Response]


class Router:
    """Regex routes: `@router.route("GET", r"/order-service/order/(?P<ids>[^/]+)")`."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        def add(fn: Handler) -> Handler:
            self.routes.append((method, re.compile(pattern + r"/?$"), fn))
            return fn

        return add

    def match(self, method: str, path: str) -> tuple[Handler | None, dict[str, str], bool]:
        """The handler and its path parameters, and whether the path exists for another method."""
        path_known = False
        for route_method, regex, fn in self.routes:
            found = regex.match(path)
            if found:
                if route_method == method:
                    return fn, found.groupdict(), True
                path_known = True
        return None, {}, path_known


class Vendor:
    """One simulated vendor. Subclasses add routes and say how the vendor answers each failure."""

    name: ClassVar[str]
    router: ClassVar[Router]

    def __init__(self, app: App) -> None:
        self.app = app

    # --- identity, before auth: which account's budget a request spends -----------------
    def bucket(self, req: Request) -> str:
        raise NotImplementedError

    # --- the vendor's answers -----------------------------------------------------------
    def authenticate(self, req: Request) -> Response | None:
        """Set req.account, or return the vendor's own 401."""
        raise NotImplementedError

    def throttled(self, req: Request) -> Response:
        raise NotImplementedError

    def server_error(self, req: Request) -> Response:
        raise NotImplementedError

    def not_found(self, req: Request) -> Response:
        raise NotImplementedError

    def bad_request(self, req: Request, message: str) -> Response:
        raise NotImplementedError

    def limit_headers(self, req: Request, hit: Any) -> dict[str, str]:
        """Headers the vendor puts on every answer about the caller's rate budget."""
        return {}

    def counts_toward_limit(self, req: Request) -> bool:
        return True

    def is_write(self, req: Request) -> bool:
        """Whether the call may change the vendor's data (the write log, lost-write faults)."""
        return req.method not in READ_METHODS

    def write_keys(self, req: Request) -> list[str]:
        """The natural keys a write names, e.g. "externalRef:101" or "member:<md5>", so a test
        can count the writes per record. Read from the path and body as sent: it runs for
        refused writes too. Unknown shapes give no keys."""
        return []

    def handle(self, req: Request) -> Response:
        fn, params, path_known = self.router.match(req.method, req.path)
        if fn is None:
            if path_known:
                return self.method_not_allowed(req)
            return self.not_found(req)
        try:
            return fn(self, req, **params)
        except BadRequest as exc:
            return self.bad_request(req, str(exc))

    def method_not_allowed(self, req: Request) -> Response:
        return self.not_found(req)

    def close(self) -> None:
        """Stop any background work of the vendor's own (the sandbox is shutting down)."""


# --- time -----------------------------------------------------------------------------


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso_ms(moment: datetime) -> str:
    """Brightpearl's timestamp form: 2020-03-31T15:57:21.000+00:00 (always UTC here)."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds")


def iso_seconds(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def rfc2822(moment: datetime) -> str:
    """BigCommerce v2's timestamp form: Tue, 05 Mar 2019 21:40:11 +0000."""
    return moment.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


def parse_time(text: str) -> datetime:
    """ISO-8601 (date or datetime, any offset) or RFC-2822. A naive time is taken as UTC.

    A '+' in an unencoded query string arrives as a space, so a space before an offset is
    read as '+'.
    """
    text = text.strip()
    moment = None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        if re.search(r"T[\d:.]+ \d\d:?\d\d$", text):
            with suppress(ValueError):
                moment = datetime.fromisoformat(text[::-1].replace(" ", "+", 1)[::-1])
    if moment is None:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError) as exc:
            raise ValueError(f"not a date: {text!r}") from exc
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)


def sortable(moment: datetime) -> str:
    """The form stored in index columns: fixed-width UTC, so text order is time order."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds")


# --- money ------------------------------------------------------------------------------

CENT = Decimal("0.01")


_QUANTA: dict[str, Decimal] = {}


def money(value: Decimal | float | int | str, places: str = "0.01") -> str:
    quantum = _QUANTA.get(places)
    if quantum is None:
        quantum = _QUANTA[places] = Decimal(places)
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return str(value.quantize(quantum, rounding=ROUND_HALF_UP))


# --- Brightpearl id sets, also used by the control API's ?id= filters --------------------


def parse_idset(text: str) -> list[int]:
    """'1-3,7,10-11' -> [1, 2, 3, 7, 10, 11], in the order given, without duplicates."""
    ids: list[int] = []
    seen: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            low_text, _, high_text = part.partition("-")
            low, high = int(low_text), int(high_text)
            if low > high:
                raise ValueError(f"descending range {part}")
            if high - low > 1_000_000:
                raise ValueError(f"range {part} is too large")
            numbers: Iterable[int] = range(low, high + 1)
        else:
            numbers = (int(part),)
        for number in numbers:
            if number not in seen:
                seen.add(number)
                ids.append(number)
    return ids


def idset_size(text: str) -> int:
    """How many ids a set names, without expanding ranges (a huge range is cheap to refuse)."""
    total = 0
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            low_text, _, high_text = part.partition("-")
            total += int(high_text) - int(low_text) + 1
        elif part:
            total += 1
    return total


def compress_ids(ids: list[int]) -> str:
    """[1, 2, 3, 7] -> '1-3,7', the form Brightpearl's OPTIONS answers use."""
    parts: list[str] = []
    ids = sorted(ids)
    start = prev = None
    for number in ids:
        if start is None:
            start = prev = number
        elif number == prev + 1:
            prev = number
        else:
            parts.append(f"{start}-{prev}" if prev != start else str(start))
            start = prev = number
    if start is not None:
        parts.append(f"{start}-{prev}" if prev != start else str(start))
    return ",".join(parts)

"""The one careful HTTP layer under every vendor connector.

Each call: takes a unit of the brand's shared budget, sends with httpx, logs one redacted
line, turns the answer into data or into a `ConnectorError` subclass, and retries with
tenacity only what can pass (connection errors, timeouts, 5xx, 429, Brightpearl's 503).
"""

from __future__ import annotations

import functools
import json
import logging
import random
import re
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from connectors.budget import Budget, BudgetHint
from connectors.errors import (
    AuthError,
    ConnectorError,
    NotFoundError,
    RejectedError,
    ThrottledError,
    TransientError,
)

logger = logging.getLogger("connectors.http")

T = TypeVar("T")

_SECRET_PARAM = re.compile(r"(token|key|secret|password|auth|signature|code|email)", re.I)


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Split any iterable into lists of at most `size` (the vendor's batch maximum)."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def redact_query(params: dict[str, Any] | None) -> str:
    if not params:
        return ""
    shown = [f"{k}={'***' if _SECRET_PARAM.search(k) else v}" for k, v in params.items()]
    return "?" + "&".join(shown)


@dataclass
class CallStats:
    """What a connector did, so a run can report API calls and throttle waits."""

    calls: int = 0
    retries: int = 0
    throttle_waits: int = 0
    waited_seconds: float = 0.0
    # Records in requests sent again after they may have reached the vendor (the answer was
    # lost, or a 5xx): an upsert does no harm twice; a one-off notification may.
    resent: int = 0


@dataclass
class RecordError:
    code: str
    message: str
    # False when the answer was lost: the vendor may have written the record anyway, so a
    # create must be looked up before it is sent again.
    definite: bool = True
    # The ticket it raises when not the general "refused by the target" (a Salesforce external
    # id matching several records: a duplicate for ops), with what the ticket shows.
    ticket_type: str = ""
    snapshot: dict[str, Any] | None = None


@dataclass
class BatchResult:
    """Per-record outcome of a batch write: one bad record never fails its neighbours."""

    ok: list[str] = field(default_factory=list)
    failed: dict[str, RecordError] = field(default_factory=dict)
    # Anything the vendor handed back per record (Salesforce ids, Ometria request ids).
    info: dict[str, Any] = field(default_factory=dict)
    # Records created by this write: the id the target gave each.
    created: dict[str, str] = field(default_factory=dict)

    def merge(self, other: BatchResult) -> None:
        self.ok.extend(other.ok)
        self.failed.update(other.failed)
        self.info.update(other.info)
        self.created.update(other.created)

    def for_owners(self, owners: dict[str, list[str]]) -> BatchResult:
        """This result, keyed by the vendor's key (a SKU), told again per record that sent
        it (`owners`: key -> the records' ids): a key refused fails every one of them."""
        out = BatchResult()
        for key, ids in owners.items():
            failure = self.failed.get(key)
            for record_id in ids:
                if failure is not None:
                    out.failed[record_id] = failure
                else:
                    out.ok.append(record_id)
        return out


@dataclass
class Reply:
    """A vendor's answer, already checked: a success status and a parsed body."""

    status: int
    headers: httpx.Headers
    body: Any


# Errors httpx raises before the request reached the vendor: always safe to send again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def wire_problem(exc: httpx.TransportError) -> str:
    """What went wrong on the wire, in words: the messages reach tickets and connection
    pages, where httpx's class names mean nothing. The class name stays in the log line."""
    if isinstance(exc, httpx.PoolTimeout):
        return "the console had too many calls to it open at once"
    if isinstance(exc, httpx.TimeoutException):
        return "it did not answer in time"
    if isinstance(exc, httpx.ConnectError):
        return "the connection was refused, or its address could not be found"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "it closed the connection without a complete answer"
    return "the network connection broke"


class VendorHTTP:
    """An httpx client bound to one connection, its budget and its vendor's rules."""

    def __init__(
        self,
        *,
        vendor: str,
        base_url: str,
        budget: Budget,
        headers: dict[str, str] | None = None,
        auth: httpx.Auth | None = None,
        transport: httpx.BaseTransport | None = None,
        classify: Callable[[httpx.Response], ConnectorError | None],
        read_budget: Callable[[httpx.Response], BudgetHint | None] = lambda r: None,
        priority: bool = False,
        max_attempts: int = 6,
        timeout: float = 30.0,
        max_backoff: float = 30.0,
        brand_label: str = "",
        secrets: list[str] | None = None,
    ) -> None:
        self.vendor = vendor
        # Values that must never leave this object in an error: some vendors echo the
        # token back ("Invalid instance token: …").
        self.secrets = [s for s in (secrets or []) if s]
        self.budget = budget
        self.classify = classify
        self.read_budget = read_budget
        self.priority = priority
        self.max_attempts = max_attempts
        self.max_backoff = max_backoff
        self.brand_label = brand_label
        self.stats = CallStats()
        # Told before a request that may have reached the vendor is sent again (how many
        # records it carries): a caller sending one-off notifications records it at once.
        self.on_resend: Callable[[int], None] | None = None
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"),
            verify=tls_context(),
            headers={"Accept": "application/json", **(headers or {})},
            auth=auth,
            transport=transport,
            timeout=timeout,
        )

    def close(self) -> None:
        self.budget.flush()
        self.client.close()

    # --- the one entry point ---------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        batch_size: int | None = None,
        idempotent: bool | None = None,
        ok_statuses: Sequence[int] = (),
    ) -> Reply:
        """Send, retrying what can pass. Returns the answer or raises ConnectorError.

        `idempotent` says whether the request may be sent again after it may have reached
        the vendor (a lost answer). Reads and upserts may; a create must not, or a lost
        answer could create the record twice.
        """
        if idempotent is None:
            idempotent = method.upper() in ("GET", "HEAD", "OPTIONS", "PUT", "DELETE")

        def can_retry(exc: BaseException) -> bool:
            if not isinstance(exc, ConnectorError) or not exc.retryable:
                return False
            return idempotent or getattr(exc, "not_sent", False)

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception(can_retry),
            reraise=True,
            before_sleep=self._count_retry,
        )
        return retrying(
            self._send_once,
            method,
            path,
            params=params,
            json_body=json_body,
            data=data,
            headers=headers,
            batch_size=batch_size,
            ok_statuses=ok_statuses,
        )

    def json(self, method: str, path: str, **kwargs) -> Any:
        """`request`, then only the parsed body."""
        return self.request(method, path, **kwargs).body

    # --- internals -------------------------------------------------------------
    def _scrub(self, error: ConnectorError) -> None:
        def clean(text: str) -> str:
            for secret in self.secrets:
                text = text.replace(secret, "***")
            return text

        error.message = clean(error.message)
        error.args = (error.message,)
        error.vendor_message = clean(error.vendor_message)
        if error.details is not None:
            error.details = json.loads(clean(json.dumps(error.details)))

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        # Exponential backoff with full jitter, so that many workers do not retry in step.
        backoff = random.uniform(0, min(self.max_backoff, 0.25 * 2 ** (state.attempt_number - 1)))
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            # The vendor said when: wait that long, plus a little jitter.
            return min(retry_after, 300.0) + random.uniform(0, 0.1)
        return backoff

    def _count_retry(self, state: RetryCallState) -> None:
        self.stats.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientError) and not getattr(exc, "not_sent", False):
            records = state.kwargs.get("batch_size") or 1
            self.stats.resent += records
            if self.on_resend:
                self.on_resend(records)
        if self.budget.on_wait:
            self.budget.on_wait()

    def _send_once(
        self,
        method: str,
        path: str,
        *,
        params,
        json_body,
        data,
        headers,
        batch_size,
        ok_statuses,
    ) -> Reply:
        waited = self.budget.acquire(priority=self.priority)
        if waited:
            self.stats.throttle_waits += 1
            self.stats.waited_seconds += waited
        lease = self.budget.lease(priority=self.priority)
        started = time.monotonic()
        status: int | str = "-"
        observed = False
        try:
            try:
                response = self.client.request(
                    method, path, params=params, json=json_body, data=data, headers=headers
                )
            except _NOT_SENT as exc:
                status = type(exc).__name__
                err = TransientError(
                    f"Could not connect to {vendor_name(self.vendor)}: {wire_problem(exc)}.",
                    vendor=self.vendor,
                    method=method,
                    path=path,
                )
                err.not_sent = True  # type: ignore[attr-defined]
                raise err from None
            except httpx.TransportError as exc:
                status = type(exc).__name__
                raise TransientError(
                    f"The connection to {vendor_name(self.vendor)} failed before an answer arrived "
                    f"({wire_problem(exc)}).",
                    vendor=self.vendor,
                    method=method,
                    path=path,
                ) from None
            status = response.status_code
            self.stats.calls += 1
            hint = self.read_budget(response)
            if hint is not None:
                self.budget.observe(hint)
                observed = True
            error = self.classify(response)
            if (
                error is None
                and response.status_code >= 400
                and response.status_code not in ok_statuses
            ):
                error = default_classify(self.vendor, response)
            if error is not None:
                error.method, error.path = method, path
                if error.details is None:
                    error.details = _safe_body(response)
                self._scrub(error)
                if isinstance(error, ThrottledError):
                    self.budget.exhausted(error.retry_after)
                raise error
            body = _parse_json(self.vendor, response, method, path)
            return Reply(response.status_code, response.headers, body)
        finally:
            if not observed:
                self.budget.settle()
            self.budget.release(lease)
            logger.info(
                "vendor=%s brand=%s %s %s%s status=%s ms=%d batch=%s budget_left=%s",
                self.vendor,
                self.brand_label,
                method,
                path,
                redact_query(params),
                status,
                (time.monotonic() - started) * 1000,
                batch_size if batch_size is not None else "-",
                self.budget.last_remaining,
            )


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every client: building one loads the CA bundle, about
    25 ms, and a run opens a client per connection."""
    return httpx.create_ssl_context()


def _parse_json(vendor: str, response: httpx.Response, method: str, path: str) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        # A truncated or garbled body: the next attempt usually gets a whole one.
        raise TransientError(
            f"{vendor_name(vendor)} answered {response.status_code} with a body that is not "
            "valid JSON.",
            vendor=vendor,
            status=response.status_code,
            method=method,
            path=path,
        ) from None


def _safe_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500] or None


# How people write the vendors' names (their codes are lower case).
VENDOR_NAMES = {"bigcommerce": "BigCommerce"}


def vendor_name(code: str) -> str:
    return VENDOR_NAMES.get(code, code.title())


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def default_classify(
    vendor: str, response: httpx.Response, code: str = "", message: str = ""
) -> ConnectorError:
    """The error class for an HTTP status, when the vendor module has nothing better."""
    status = response.status_code
    kwargs = {"vendor": vendor, "status": status, "code": code, "vendor_message": message}
    if status in (401, 403):
        return AuthError(
            f"{vendor_name(vendor)} refused the credentials (HTTP {status}).", **kwargs
        )
    if status == 404:
        return NotFoundError(
            f"{vendor_name(vendor)} has no such record or address (HTTP 404).", **kwargs
        )
    if status == 429:
        return ThrottledError(
            f"{vendor_name(vendor)} throttled the request (HTTP 429).",
            retry_after=retry_after_seconds(response),
            **kwargs,
        )
    if status in (408, 425) or status >= 500:
        return TransientError(
            f"{vendor_name(vendor)} had a temporary failure (HTTP {status}).", **kwargs
        )
    return RejectedError(f"{vendor_name(vendor)} rejected the request (HTTP {status}).", **kwargs)

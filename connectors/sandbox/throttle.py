"""Rate limits, the time scale, the tunable facts, and the request statistics.

A "minute" (or a BigCommerce 30 s window, an Ometria second, a Salesforce day) lasts 1/X of
real time at time scale X, and every rate header is expressed in real milliseconds, so a client
that honours the headers behaves the same at any scale.

Windows are fixed, not sliding: a window opens with the first request after the previous one
closed and lasts its whole length. This is what Brightpearl's recordings show
(`brightpearl-requests-remaining: 199` straight after a reset, with
`brightpearl-next-throttle-period` counting down from there), and it is how BigCommerce
describes its 30-second quota.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from dataclasses import asdict, dataclass, field, fields
from typing import Any

# How long each vendor's window is, in unscaled seconds.
WINDOW_SECONDS = {
    "brightpearl": 60.0,
    "bigcommerce": 30.0,
    "ometria": 1.0,
    "salesforce": 86_400.0,
}


@dataclass
class Limits:
    """Requests per window per account; 0 or None means unlimited."""

    brightpearl_per_minute: int | None = 200
    bigcommerce_per_window: int | None = 150
    ometria_per_second: int | None = 8
    mailchimp_concurrency: int | None = 10
    salesforce_daily: int | None = 100_000

    def for_vendor(self, vendor: str) -> int | None:
        return getattr(self, LIMIT_FIELDS[vendor]) or None


# Each vendor's limit, by its name in Limits (and in `limits` and `account_limits` of the
# config).
LIMIT_FIELDS = {
    "brightpearl": "brightpearl_per_minute",
    "bigcommerce": "bigcommerce_per_window",
    "ometria": "ometria_per_second",
    "mailchimp": "mailchimp_concurrency",
    "salesforce": "salesforce_daily",
}


@dataclass
class Settings:
    """Facts the vendors README marks unconfirmed, and the sandbox's own knobs.

    Each lives here once so a test or a later finding changes one value, not the code.
    """

    brightpearl_idset_max: int = 200  # order, contact, product, sales credit GETs
    brightpearl_gon_idset_max: int = 500  # goods-out notes
    brightpearl_max_page_size: int = 500  # unconfirmed: public clients use 500
    brightpearl_default_page_size: int = 500
    # A GET by id set that finds none of its ids: 404 CMNC-404, as Brightpearl's help page
    # "Empty list response codes" says (and as a contact GET was recorded in 2025); False
    # answers `200 {"response":[]}`, as an order GET was recorded in 2022.
    brightpearl_empty_get_404: bool = True
    # The life of an OAuth access token (expires_in). Recorded: 604800 for a new grant.
    brightpearl_oauth_expires_in: int = 604_800
    ometria_max_records: int = 100
    # Ometria's queue of pushed records waiting to be processed: past 50,000, push answers 429
    # (documented). How fast it drains is the sandbox's own (records per second of the
    # sandbox's clock); `ometria_queue_backlog` is a standing backlog (another app's records)
    # a test can set to fill the queue.
    ometria_queue_limit: int = 50_000
    ometria_queue_drain_per_second: float = 10_000
    ometria_queue_backlog: int = 0
    ometria_max_record_bytes: int = 60 * 1024
    # How long after a push a validation error becomes visible at /v2/push/_errors (real ms).
    ometria_error_delay_ms: int = 100
    mailchimp_batch_max: int = 500
    mailchimp_page_max: int = 1000
    # Batch operations (POST /3.0/batches): how many may wait unfinished per API key before
    # a new one gets 429 (documented), how long a batch stays "pending" before it starts and
    # how long each operation takes (unscaled ms, divided by the time scale; the sandbox's
    # own pace), and how many results go in each JSON file of the archive (unconfirmed).
    mailchimp_batches_pending_max: int = 500
    mailchimp_batch_start_ms: float = 300
    mailchimp_batch_ms_per_operation: float = 0
    mailchimp_batch_results_per_file: int = 1000
    bigcommerce_inventory_max: int = 2000
    bigcommerce_variants_max: int = 50
    bigcommerce_page_max: int = 250
    salesforce_batch_max: int = 200
    # Required fields per Salesforce object (README: Order.AccountId, OrderItem.PricebookEntryId;
    # Account.Name and Contact.LastName from secondary sources).
    salesforce_required: dict[str, list[str]] = field(
        default_factory=lambda: {
            "Account": ["Name"],
            "Contact": ["LastName"],
            "Order": ["AccountId"],
            "OrderItem": ["PricebookEntryId"],
        }
    )
    # Webhook retries: delays in unscaled seconds between attempts (divided by the time scale).
    webhook_retry_seconds: list[float] = field(
        default_factory=lambda: [1, 5, 15, 60, 180, 300, 600, 900, 1800, 3600]
    )
    webhook_timeout_seconds: float = 10.0
    # The sandbox's own: how many write requests GET /_sandbox/state/sandbox/writes keeps (the
    # newest; older ones are counted as "forgotten").
    write_log_max: int = 50_000

    def update(self, values: dict[str, Any]) -> None:
        known = {f.name for f in fields(self)}
        for key, value in values.items():
            if key not in known:
                raise ValueError(f"unknown setting {key!r}")
            setattr(self, key, value)


@dataclass
class Hit:
    """What one request learned about its window."""

    allowed: bool
    limit: int | None
    count: int  # requests in this window, this one included
    remaining: int
    reset_ms: int  # real milliseconds until the window closes
    window_ms: int  # the window's real length


class _Window:
    __slots__ = ("count", "ends", "length", "limit", "opened_at")

    def __init__(self) -> None:
        self.count = 0
        self.ends = 0.0
        self.length = 0.0  # real seconds
        self.limit: int | None = None
        self.opened_at = 0.0  # epoch seconds, for the history

    def record(self, vendor: str, bucket: str) -> dict[str, Any]:
        refused = max(self.count - self.limit, 0) if self.limit else 0
        return {
            "vendor": vendor,
            "account": bucket,
            "opened_at": self.opened_at,
            "closes_at": self.opened_at + self.length,
            "limit": self.limit,
            "answered": self.count - refused,
            "refused": refused,
        }


# How many closed windows the history keeps (the newest): a day of Brightpearl minutes for one
# account, hours for several. A bench reads it to see how much of each window was spent.
HISTORY_MAX = 2000


class Throttle:
    """Per-account windows and in-flight counts, plus the peaks the stats report."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], _Window] = {}
        self._in_flight: dict[tuple[str, str], int] = defaultdict(int)
        self.peak: dict[str, dict[str, int]] = defaultdict(dict)  # vendor -> bucket -> max
        self._history: deque[dict[str, Any]] = deque(maxlen=HISTORY_MAX)

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
            self._in_flight.clear()
            self.peak.clear()
            self._history.clear()

    def forget_history(self) -> None:
        with self._lock:
            self._history.clear()

    def windows(self, vendor: str | None = None) -> list[dict[str, Any]]:
        """Each rate window's requests, answered and refused: the closed ones kept, oldest
        first, then those still open (`open`: true)."""
        with self._lock:
            closed = [w for w in self._history if vendor in (None, w["vendor"])]
            now = time.monotonic()
            current = [
                {**w.record(v, b), "open": now < w.ends}
                for (v, b), w in self._windows.items()
                if vendor in (None, v) and w.count
            ]
        return [*closed, *sorted(current, key=lambda w: w["opened_at"])]

    def hit(self, vendor: str, bucket: str, limit: int | None, time_scale: float) -> Hit:
        length = WINDOW_SECONDS[vendor] / time_scale
        now = time.monotonic()
        with self._lock:
            window = self._windows.get((vendor, bucket))
            if window is None:
                window = self._windows[(vendor, bucket)] = _Window()
            if now >= window.ends:
                if window.count:
                    self._history.append(window.record(vendor, bucket))
                window.count = 0
                window.ends = now + length
                window.length = length
                window.opened_at = time.time()
            window.limit = limit
            window.count += 1
            count = window.count
            peaks = self.peak[vendor]
            if count > peaks.get(bucket, 0):
                peaks[bucket] = count
            reset_ms = max(int((window.ends - now) * 1000), 0)
        allowed = limit is None or count <= limit
        remaining = 0 if limit is None else max(limit - count, 0)
        return Hit(allowed, limit, count, remaining, reset_ms, int(length * 1000))

    def enter(self, vendor: str, bucket: str, limit: int | None) -> tuple[bool, int]:
        """Count one more request in flight; refuse it past the limit (Mailchimp)."""
        with self._lock:
            key = (vendor, bucket)
            self._in_flight[key] += 1
            current = self._in_flight[key]
            peaks = self.peak[vendor]
            if current > peaks.get(bucket, 0):
                peaks[bucket] = current
        return (limit is None or current <= limit), current

    def leave(self, vendor: str, bucket: str) -> None:
        with self._lock:
            key = (vendor, bucket)
            self._in_flight[key] = max(self._in_flight[key] - 1, 0)


VENDORS = ("brightpearl", "ometria", "mailchimp", "bigcommerce", "salesforce")


class Stats:
    """Counts per vendor, so a test can prove what a client did (and did not) do."""

    def __init__(self, throttle: Throttle) -> None:
        self._lock = threading.Lock()
        self._throttle = throttle
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests: dict[str, int] = defaultdict(int)
            self.by_method: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            self.by_status: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            self.throttled: dict[str, int] = defaultdict(int)
            self.faults: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self._throttle.peak.clear()

    def request(self, vendor: str, method: str) -> None:
        with self._lock:
            self.requests[vendor] += 1
            self.by_method[vendor][method] += 1

    def answered(self, vendor: str, status: int | str) -> None:
        with self._lock:
            self.by_status[vendor][str(status)] += 1

    def throttle(self, vendor: str) -> None:
        with self._lock:
            self.throttled[vendor] += 1

    def fault(self, vendor: str, kind: str) -> None:
        with self._lock:
            self.faults[vendor][kind] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            out = {}
            for vendor in VENDORS:
                peaks = dict(self._throttle.peak.get(vendor, {}))
                out[vendor] = {
                    "requests": self.requests.get(vendor, 0),
                    "by_method": dict(self.by_method.get(vendor, {})),
                    "by_status": dict(self.by_status.get(vendor, {})),
                    "throttled": self.throttled.get(vendor, 0),
                    "faults": dict(self.faults.get(vendor, {})),
                    # The most requests seen in any one throttle window (for Mailchimp: the
                    # most in flight at once), overall and per account.
                    "max_in_window": max(peaks.values(), default=0),
                    "max_in_window_by_account": peaks,
                }
            return out


def limits_dict(limits: Limits) -> dict[str, Any]:
    return asdict(limits)

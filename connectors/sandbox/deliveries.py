"""Outbound webhook delivery, asynchronous and at least once, as the vendors do it.

A change made through the control API enqueues one delivery per matching registration (and
per requested copy). Worker threads send them with httpx; a non-2xx answer or a network error
is retried after the configured delays (divided by the time scale) until the vendor's attempt
budget runs out. Every attempt is written to the `log` table (kind "delivery"), which
`GET /_sandbox/webhooks/deliveries` lists.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from connectors.sandbox.core import iso_ms, utcnow

if TYPE_CHECKING:
    from connectors.sandbox.server import App

logger = logging.getLogger(__name__)


@dataclass
class Delivery:
    vendor: str
    account: str
    event: str  # the vendor's event or scope name
    hook_id: str
    method: str
    url: str
    body: bytes
    headers: dict[str, str]
    max_attempts: int
    # Called once if the last attempt fails (BigCommerce deactivates the hook).
    on_give_up: Callable[[], None] | None = None
    delivery_id: str = ""
    attempt: int = 0
    generation: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class Deliverer:
    def __init__(self, app: App, workers: int = 4) -> None:
        self.app = app
        self._heap: list[tuple[float, int, Delivery]] = []
        self._counter = itertools.count()
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._busy = 0
        self._stopping = False
        self._generation = 0
        self._threads = [
            threading.Thread(target=self._work, name=f"sandbox-webhooks-{n}", daemon=True)
            for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def enqueue(self, delivery: Delivery, copies: int = 1) -> None:
        with self._cond:
            for _ in range(max(copies, 1)):
                copy = Delivery(**{**delivery.__dict__})
                copy.delivery_id = copy.delivery_id or f"d{next(self._ids)}"
                copy.generation = self._generation
                heapq.heappush(self._heap, (time.monotonic(), next(self._counter), copy))
            self._cond.notify_all()

    def pending(self) -> int:
        with self._cond:
            return len(self._heap) + self._busy

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is queued, retrying or in flight; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
            return True

    def drop_all(self) -> None:
        """Forget queued deliveries (a reset); ones in flight finish but are not retried."""
        with self._cond:
            self._heap.clear()
            self._generation += 1
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._heap.clear()
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=2)

    # --- workers -------------------------------------------------------------------------

    def _work(self) -> None:
        # One client per worker: connection pools are cheap, and nothing is shared.
        client = httpx.Client()
        try:
            self._loop(client)
        finally:
            client.close()

    def _loop(self, client: httpx.Client) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    if self._heap and self._heap[0][0] <= time.monotonic():
                        break
                    wait = self._heap[0][0] - time.monotonic() if self._heap else 0.5
                    self._cond.wait(max(min(wait, 0.5), 0.001))
                if self._stopping:
                    return
                _, _, delivery = heapq.heappop(self._heap)
                self._busy += 1
            try:
                self._attempt(client, delivery)
            except Exception:  # a bug here must not kill the worker
                logger.exception("webhook delivery crashed")
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _attempt(self, client: httpx.Client, delivery: Delivery) -> None:
        delivery.attempt += 1
        status: int | None = None
        error = ""
        started = time.monotonic()
        try:
            response = client.request(
                delivery.method,
                delivery.url,
                content=delivery.body if delivery.method in ("POST", "PUT", "PATCH") else None,
                headers=delivery.headers,
                timeout=self.app.settings.webhook_timeout_seconds,
            )
            status = response.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        ok = status is not None and 200 <= status < 300
        self._record(delivery, status, error, time.monotonic() - started)
        if ok:
            return
        with self._cond:
            stale = delivery.generation != self._generation or self._stopping
        if stale:
            return
        if delivery.attempt >= delivery.max_attempts:
            if delivery.on_give_up:
                delivery.on_give_up()
            return
        delays = self.app.settings.webhook_retry_seconds or [1]
        delay = delays[min(delivery.attempt - 1, len(delays) - 1)] / self.app.time_scale
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._counter), delivery))
            self._cond.notify_all()

    def _record(self, delivery: Delivery, status: int | None, error: str, took: float) -> None:
        try:
            body_text = delivery.body.decode()
        except UnicodeDecodeError:
            body_text = repr(delivery.body)
        entry = {
            "delivery_id": delivery.delivery_id,
            "vendor": delivery.vendor,
            "account": delivery.account,
            "event": delivery.event,
            "hook_id": delivery.hook_id,
            "attempt": delivery.attempt,
            "method": delivery.method,
            "url": delivery.url,
            "headers": delivery.headers,
            "body": body_text,
            "status": status,
            "error": error,
            "ok": status is not None and 200 <= status < 300,
            "seconds": round(took, 4),
            **delivery.extra,
        }
        with self.app.store.transaction(write=True):
            self.app.store.log(
                delivery.vendor,
                delivery.account,
                "delivery",
                delivery.delivery_id,
                iso_ms(utcnow()),
                json.dumps(entry, separators=(",", ":")),
            )

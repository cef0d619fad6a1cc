"""Ometria, the marketing platform.

`POST /v2/push` takes a JSON array of at most 100 records of one `@type`, each at most
60 KB. "OK" only means queued: validation is asynchronous, and rejected records are
listed later at `GET /v2/push/_errors`. Pushes are paced at the connection's `rate_limit` a
second (8 by default: docs.ometria.com/docs/ometria-data-api-introduction; an older version of
that page says 4), and held back while Ometria's queue is full or nearly (backlog.py).
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from connectors.base import Connector
from connectors.budget import BudgetPolicy
from connectors.errors import AuthError, ConfigurationError, ConnectorError, ThrottledError
from connectors.fields import Field
from connectors.http import BatchResult, RecordError, Reply, chunks, retry_after_seconds
from connectors.ometria.backlog import QUEUE_SIZE, Backlog, queue_room
from connectors.ometria.readback import push_shape

MAX_RECORD_BYTES = 60 * 1024


class Ometria(Connector):
    system = "ometria"
    label = "Ometria"
    default_base_url = "https://api.ometria.com"
    credential_fields = (Field("api_key", "API key", "Sent as X-Ometria-Auth."),)
    setting_fields = (
        Field(
            "rate_limit",
            "Pushes a second",
            "How many pushes a second Ometria takes from this account. Leave blank for 8, "
            "the default on Ometria's API introduction "
            "(https://docs.ometria.com/docs/ometria-data-api-introduction; an older version "
            "of that page said 4, and Ometria may have set another for your plan).",
            required=False,
        ),
    )
    batch_size = 100
    # Push: 8 requests a second (an older document says 4; the setting decides).
    default_limit = 8
    default_window = 1.0
    smooth_rate = True
    # Told what each push carried (see push): the flows remember it (syncs/pushlog.py).
    on_push: Callable[[dict[str, Any]], None] | None = None

    def __init__(self, connection, **options) -> None:
        try:
            self.backlog = Backlog.from_settings(dict(connection.settings or {}))
        except (TypeError, ValueError):
            raise ConfigurationError(
                "An Ometria queue setting (queue_low_water, queue_easing_seconds, "
                "backlog_wait_seconds, backlog_longest_wait_seconds, backlog_patience_seconds) "
                "is not a number.",
                vendor="ometria",
            ) from None
        # Pushes that waited for Ometria's queue, for the run's log.
        self.backlog_waits = 0
        super().__init__(connection, **options)

    def policy(self) -> BudgetPolicy:
        try:
            return super().policy()
        except (TypeError, ValueError):
            raise ConfigurationError(
                "The Ometria connection's “Pushes a second” is not a number: enter one, "
                "such as 8, or leave it blank.",
                vendor="ometria",
            ) from None

    def auth_headers(self) -> dict[str, str]:
        return {"X-Ometria-Auth": self.creds["api_key"]}

    def classify(self, response: httpx.Response) -> ConnectorError | None:
        answer = self.error_answer(response)
        if answer is None:
            return None
        if answer.status in (401, 403):
            return AuthError("Ometria did not accept the API key.", **answer.kw)
        if answer.status == 429 and self.backlog.is_full(response):
            # Not retried by the HTTP layer's few attempts: push() waits for the queue.
            full = ThrottledError(
                f"Ometria's queue of records waiting to be processed is full (it holds about "
                f"{QUEUE_SIZE:,}); the console waits for it to go down.",
                retry_after=retry_after_seconds(response) or self.backlog.full_wait(),
                retryable=False,
                **answer.kw,
            )
            full.backlog = True  # type: ignore[attr-defined]
            return full
        if answer.status == 429:
            return ThrottledError(
                "Ometria's push rate limit was reached.",
                retry_after=retry_after_seconds(response) or 1.0,
                **answer.kw,
            )
        return None

    def check(self) -> str:
        self.push_errors()
        return "Signed in to Ometria: the API key is accepted."

    def push(self, records: Iterable[dict]) -> BatchResult:
        """Push any number of records; they are grouped by @type and sent 100 at a time.

        A record over 60 KB is refused here, before sending, so it cannot sink its batch.
        `ok` lists the ids Ometria queued; rejections found later come from push_errors().
        """
        result = BatchResult()
        by_type: dict[str, list[dict]] = defaultdict(list)
        for record in records:
            size = len(json.dumps(record, separators=(",", ":")).encode())
            if size > MAX_RECORD_BYTES:
                result.failed[str(record.get("id"))] = RecordError(
                    "too_large", f"The record is {size // 1024} KB; Ometria takes at most 60 KB."
                )
                continue
            by_type[record["@type"]].append(record)
        for batch_type, items in by_type.items():
            for batch in chunks(items, self.batch_size):
                reply = self._send(batch)
                body = reply.body or {}
                ids = [str(r["id"]) for r in batch]
                result.ok.extend(ids)
                result.info.setdefault("request_ids", []).append(body.get("request_id"))
                if self.on_push:
                    # What this push carried, told as soon as Ometria took it (a later batch
                    # may fail): Ometria's errors name only a field, matched against this.
                    self.on_push(
                        {
                            "request_id": str(body.get("request_id") or ""),
                            "type": batch_type,
                            "ids": ids,
                            **push_shape(batch),
                        }
                    )
                result.info["rejected"] = result.info.get("rejected", 0) + int(
                    body.get("rejected") or 0
                )
                result.info.setdefault("types", set()).add(batch_type)
        return result

    def _send(self, batch: list[dict]) -> Reply:
        """One push, sent again for as long as Ometria's queue is full (within patience).

        Each full answer has already held every push of the brand back (the HTTP layer hands
        a throttle's wait to the shared budget), so sending again waits there first."""
        started = time.monotonic()
        while True:
            try:
                reply = self.http.request(
                    "POST", "/v2/push", json_body=batch, batch_size=len(batch), idempotent=True
                )
            except ThrottledError as exc:
                if not getattr(exc, "backlog", False):
                    raise
                self.backlog_waits += 1
                waited = time.monotonic() - started
                if waited + (exc.retry_after or 0) > self.backlog.patience:
                    raise ThrottledError(
                        f"Ometria's queue stayed full for {waited / 60:.0f} minutes; these "
                        "records go on the next run.",
                        vendor="ometria",
                        status=429,
                        retry_after=exc.retry_after,
                    ) from exc
                continue
            pause = self.backlog.easing_pause(queue_room(reply.headers))
            if pause:
                # Room is running out: space every push of the brand a little wider.
                self.budget.exhausted(pause, refused=False)
            return reply

    def push_errors(self) -> list[dict]:
        body = self.http.json("GET", "/v2/push/_errors")
        if isinstance(body, dict):
            for key in ("errors", "response", "data"):
                if isinstance(body.get(key), list):
                    return body[key]
            return []
        return body or []

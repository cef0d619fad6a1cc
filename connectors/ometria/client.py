"""Ometria, the marketing platform.

`POST /v2/push` takes a JSON array of at most 100 records of one `@type`, each at most
60 KB. "OK" only means queued: validation is asynchronous, and rejected records are
listed later at `GET /v2/push/_errors`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from connectors.base import Connector
from connectors.errors import AuthError, ConnectorError, ThrottledError
from connectors.fields import Field
from connectors.http import BatchResult, RecordError, chunks, retry_after_seconds
from connectors.ometria.readback import push_shape

MAX_RECORD_BYTES = 60 * 1024


class Ometria(Connector):
    system = "ometria"
    label = "Ometria"
    default_base_url = "https://api.ometria.com"
    credential_fields = (Field("api_key", "API key", "Sent as X-Ometria-Auth."),)
    batch_size = 100
    # Push: 8 requests a second (an older document says 4; the setting decides).
    default_limit = 8
    default_window = 1.0
    smooth_rate = True
    # Told what each push carried (see push): the flows remember it (syncs/pushlog.py).
    on_push: Callable[[dict[str, Any]], None] | None = None

    def auth_headers(self) -> dict[str, str]:
        return {"X-Ometria-Auth": self.creds["api_key"]}

    def classify(self, response: httpx.Response) -> ConnectorError | None:
        answer = self.error_answer(response)
        if answer is None:
            return None
        if answer.status in (401, 403):
            return AuthError("Ometria did not accept the API key.", **answer.kw)
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
                reply = self.http.request(
                    "POST", "/v2/push", json_body=batch, batch_size=len(batch), idempotent=True
                )
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

    def push_errors(self) -> list[dict]:
        body = self.http.json("GET", "/v2/push/_errors")
        if isinstance(body, dict):
            for key in ("errors", "response", "data"):
                if isinstance(body.get(key), list):
                    return body[key]
            return []
        return body or []

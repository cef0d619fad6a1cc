"""Mailchimp's batch operations (POST /batches): a few thousand member PUTs in one request,
run by Mailchimp in the background, polled, and read back from a results archive
(https://mailchimp.com/developer/marketing/api/batch-operations/). The Mailchimp connector
updates existing members this way, so a steady-state sync costs a handful of requests."""

from __future__ import annotations

import io
import json
import logging
import tarfile
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from connectors.errors import TransientError
from connectors.http import BatchResult, RecordError, chunks, tls_context, wire_problem
from connectors.mailchimp.common import (
    _MAX_ARCHIVE_BYTES,
    subscriber_hash,
)

logger = logging.getLogger("connectors.mailchimp")


def _operation_error(status: int, response: Any) -> RecordError:
    """A batch operation's failure, from its problem+json (a JSON string in the archive)."""
    body = response
    if isinstance(response, str):
        try:
            body = json.loads(response) if response else {}
        except ValueError:
            body = {"detail": response[:500]}
    if not isinstance(body, dict):
        body = {}
    title = str(body.get("title") or "")
    detail = str(body.get("detail") or "")
    fields = [
        f"{e.get('field')}: {e.get('message')}"
        for e in body.get("errors") or []
        if isinstance(e, dict) and e.get("field")
    ]
    message = f"{title}: {detail}".strip(": ") or f"HTTP {status}"
    if fields:
        message += f" ({'; '.join(fields)})"
    return RecordError(title or f"HTTP {status}", message)


def _answered_status(response: Any) -> str:
    """The `status` of the member a batch operation answered with, if it did."""
    try:
        body = json.loads(response) if isinstance(response, str) and response else response
    except ValueError:
        return ""
    return str(body.get("status") or "") if isinstance(body, dict) else ""


@dataclass
class _Batch:
    """One batch operation we started: its id and which member each operation is for."""

    id: str
    emails: dict[str, str]  # operation_id (the subscriber hash) -> lowercased email
    members: dict[str, dict]  # lowercased email -> the member as given (for a re-send)
    started: float
    total: int = 0
    seen: set[str] = field(default_factory=set)  # emails the results have answered for


class BatchOperations:
    """Mixed into the Mailchimp connector: its member updates by batch operations."""

    def update_existing_members(self, members: list[dict], round_no: int = 1) -> BatchResult:
        """PUT members (`status_if_new`, never `status`) by batch operations; per-member outcomes.

        Operations that failed for a passing reason (429, 5xx) are sent again in a new batch,
        up to `batch_retry_rounds` times; a member Mailchimp refuses (compliance state, an
        invalid address) fails alone and is not re-sent.
        """
        members, unknown = self._consent_unknown(members)
        result = BatchResult(failed=unknown)
        result.merge(self._operations(members, self._put_operation, round_no))
        return result

    def update_member_tags(self, changes: list[dict], round_no: int = 1) -> BatchResult:
        """Tags of many members by batch operations: each change is {email_address, active:
        [names], inactive: [names]}, one POST /lists/{id}/members/{hash}/tags each (204)."""
        return self._operations(changes, self._tags_operation, round_no)

    def _put_operation(self, member: dict, digest: str) -> dict:
        return {
            "method": "PUT",
            "path": f"{self.list_path}/members/{digest}",
            "operation_id": digest,
            "body": json.dumps(self._member_body(member), separators=(",", ":")),
        }

    def _tags_operation(self, change: dict, digest: str) -> dict:
        tags = [{"name": t, "status": "active"} for t in change.get("active") or ()]
        tags += [{"name": t, "status": "inactive"} for t in change.get("inactive") or ()]
        return {
            "method": "POST",
            "path": f"{self.list_path}/members/{digest}/tags",
            "operation_id": digest,
            "body": json.dumps({"tags": tags}, separators=(",", ":")),
        }

    def _operations(
        self,
        members: list[dict],
        build: Callable[[dict, str], dict],
        round_no: int,
        key: Callable[[dict], str] | None = None,
    ) -> BatchResult:
        """Operations built by `build`, one per item, by /batches; per-item outcomes keyed by
        `key` (a member's lowercased email unless said: an e-commerce order's id)."""
        result = BatchResult()
        again: dict[str, dict] = {}
        last_error: dict[str, RecordError] = {}
        running: deque[_Batch] = deque()

        def settle(batch: _Batch) -> None:
            outcome, transient = self._finish_batch(batch)
            result.merge(outcome)
            for email, error in transient.items():
                again[email] = batch.members[email]
                last_error[email] = error

        for group in chunks(members, self.batch_operations_size):
            while len(running) >= self.max_pending_batches:
                settle(running.popleft())
            running.append(self._start_batch(group, build, key))
        while running:
            settle(running.popleft())
        if again:
            if round_no <= self._setting("batch_retry_rounds", self.batch_retry_rounds):
                result.merge(self._operations(list(again.values()), build, round_no + 1, key))
            else:
                result.failed.update(last_error)
        return result

    def _start_batch(
        self,
        members: list[dict],
        build: Callable[[dict, str], dict],
        key: Callable[[dict], str] | None = None,
    ) -> _Batch:
        emails: dict[str, str] = {}
        by_email: dict[str, dict] = {}
        operations = []
        for member in members:
            email = key(member) if key else member["email_address"].strip().lower()
            # The operation id: a member's subscriber hash; another item's key as it is.
            digest = subscriber_hash(email) if key is None else email
            emails[digest] = email
            by_email[email] = member
            operations.append(build(member, digest))
        # Every operation is an upsert, so a batch sent twice (a lost answer, a 429 for too
        # many pending batches) changes nothing twice: safe to retry.
        body = self.http.json(
            "POST",
            "/batches",
            json_body={"operations": operations},
            batch_size=len(operations),
            idempotent=True,
        )
        if not isinstance(body, dict) or not body.get("id"):
            raise TransientError(
                "Mailchimp accepted a batch but did not say its id.",
                vendor=self.system,
                details=body,
            )
        return _Batch(str(body["id"]), emails, by_email, self._clock(), len(operations))

    def _finish_batch(self, batch: _Batch) -> tuple[BatchResult, dict[str, RecordError]]:
        """Wait for a batch, read its results: (outcomes, members to send again)."""
        status = self._wait_for(batch)
        url = str(status.get("response_body_url") or "")
        if not url:
            raise TransientError(
                f"Mailchimp finished batch {batch.id} but gave no results address.",
                vendor=self.system,
                details=status,
            )
        entries = self._results(batch, url)
        result = BatchResult()
        transient: dict[str, RecordError] = {}
        for entry in entries:
            email = batch.emails.get(str(entry.get("operation_id", "")))
            if email is None or email in batch.seen:
                continue
            batch.seen.add(email)
            code = int(entry.get("status_code") or 0)
            if 200 <= code < 300:
                result.ok.append(email)
                # The member's status as Mailchimp answered it (a PUT answers the member).
                status = _answered_status(entry.get("response"))
                if status:
                    result.info[email] = {"new": False, "status": status}
                continue
            error = _operation_error(code, entry.get("response"))
            if code == 429 or code >= 500 or code == 0:
                transient[email] = error
            else:
                result.failed[email] = error
        for email in batch.emails.values():
            if email not in batch.seen:
                # Not in the archive: we cannot know it was applied, so it goes again.
                transient[email] = RecordError(
                    "NO_RESULT", f"Mailchimp's results for batch {batch.id} did not include it."
                )
        return result, transient

    def _wait_for(self, batch: _Batch) -> dict:
        """Poll GET /batches/{id} with a gentle backoff until finished, or time out."""
        timeout = float(self._setting("batch_timeout_seconds", self.batch_timeout_seconds))
        delay = float(self._setting("batch_poll_seconds", self.batch_poll_seconds))
        ceiling = float(self._setting("batch_poll_max_seconds", self.batch_poll_max_seconds))
        deadline = batch.started + timeout
        next_look = batch.started + delay
        while True:
            pause = next_look - self._clock()
            if pause > 0:
                self._sleep(pause)
            status = self.http.json("GET", f"/batches/{batch.id}") or {}
            if status.get("status") == "finished":
                return status
            now = self._clock()
            if now >= deadline:
                raise TransientError(
                    f"Mailchimp had not finished batch {batch.id} after {timeout:.0f} seconds "
                    f"(status “{status.get('status', '?')}”, "
                    f"{status.get('finished_operations', 0)} of "
                    f"{status.get('total_operations', batch.total)} operations done). Its "
                    "members will be sent again on the next attempt; updates are idempotent.",
                    vendor=self.system,
                    code="BATCH_TIMEOUT",
                    details={
                        k: status.get(k)
                        for k in ("id", "status", "total_operations", "finished_operations")
                    },
                )
            delay = min(delay * 1.5, ceiling)
            next_look = min(now + delay, deadline)

    def _results(self, batch: _Batch, url: str) -> list[dict]:
        """The batch's results: every JSON file of the gzipped tar at response_body_url."""
        content = self._download(batch, url)
        entries: list[dict] = []
        try:
            with tarfile.open(fileobj=io.BytesIO(content), mode="r:gz") as tar:
                # Only read, never extracted to disk: names in the archive cannot go anywhere.
                for info in tar:
                    if not info.isfile() or not info.name.endswith(".json"):
                        continue
                    handle = tar.extractfile(info)
                    if handle is None:
                        continue
                    data = json.load(handle)
                    if isinstance(data, list):
                        entries.extend(e for e in data if isinstance(e, dict))
        except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
            logger.warning("mailchimp batch %s: results unreadable: %r", batch.id, exc)
            raise TransientError(
                f"Mailchimp's results for batch {batch.id} could not be read (the archive is "
                "damaged or not in the form Mailchimp sends).",
                vendor=self.system,
            ) from None
        return entries

    def _download(self, batch: _Batch, url: str) -> bytes:
        """GET the results archive with no credentials.

        The address may be absolute and on another host: Mailchimp's is a pre-signed S3 URL,
        which needs no auth (and S3 refuses one that also carries an Authorization header).
        So it never goes through the API client, and the API key never leaves for that host.
        """
        if self._results_client is None:
            self._results_client = httpx.Client(
                transport=self._transport,
                timeout=120.0,
                follow_redirects=True,
                verify=tls_context(),
            )
        parts = urlsplit(url)
        shown = f"{parts.scheme}://{parts.netloc}{parts.path}"  # never the signature
        problem = ""
        for attempt in range(1, 4):
            started = self._clock()
            status: int | str = "-"
            try:
                response = self._results_client.get(url)
                status = response.status_code
                if response.status_code == 200:
                    if len(response.content) > _MAX_ARCHIVE_BYTES:
                        problem = "the archive is too large"
                        break
                    return response.content
                problem = f"HTTP {response.status_code}"
                if response.status_code < 500 and response.status_code != 429:
                    break  # expired or refused: asking again will not help
            except httpx.TransportError as exc:
                # The class name for the log line below; words for the error.
                status, problem = type(exc).__name__, wire_problem(exc)
            finally:
                logger.info(
                    "vendor=mailchimp results batch=%s GET %s status=%s ms=%d",
                    batch.id,
                    shown,
                    status,
                    (self._clock() - started) * 1000,
                )
            if attempt < 3:
                self._sleep(min(0.5 * 2**attempt, 5.0))
        raise TransientError(
            f"Could not download the results of Mailchimp batch {batch.id} ({problem}). Its "
            "members will be sent again on the next attempt; updates are idempotent.",
            vendor=self.system,
            path=parts.path,
        )

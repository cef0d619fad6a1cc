"""Mailchimp, the email platform and the master of consent.

Members are keyed by the md5 of the lowercased email. Mailchimp decides who is
subscribed: the console only ever sets `status_if_new`, so a push from Brightpearl never
re-subscribes someone who left. More than 10 connections at once gets 429, so every
process shares a cap of 8.

Members that already exist are updated by batch operations (POST /batches): a few thousand
PUTs in one request, run by Mailchimp in the background, polled, and read back from a
results archive, so a steady-state sync costs a handful of requests, not one per member.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import tarfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

import httpx

from connectors.base import Connector, error_text
from connectors.errors import (
    AuthError,
    ConnectorError,
    RejectedError,
    ThrottledError,
    TransientError,
)
from connectors.fields import Field
from connectors.http import BatchResult, RecordError, chunks, retry_after_seconds, tls_context

if TYPE_CHECKING:
    from connectors.models import Connection

logger = logging.getLogger("connectors.mailchimp")

# Mailchimp's own errors that no retry will ever fix.
_PERMANENT = ("compliance state", "forgotten email", "looks fake or invalid", "permanently deleted")
# A member sent without `status_if_new`: whether they agreed to emails is not known.
CONSENT_UNKNOWN = "consent_unknown"
CONSENT_UNKNOWN_MESSAGE = (
    "Not sent: it is not known whether this person agreed to receive emails (no "
    "status_if_new was given). The console never guesses consent; say subscribed, pending, "
    "unsubscribed or transactional."
)
# A results archive bigger than this is not Mailchimp's (2,000 members make a few MB).
_MAX_ARCHIVE_BYTES = 512 * 1024 * 1024


def subscriber_hash(email: str) -> str:
    return hashlib.md5(email.strip().lower().encode()).hexdigest()


def _problem_text(body: Any) -> tuple[str, str]:
    """(code, message) of Mailchimp's problem+json: its title, and "title: detail"."""
    body = body or {}
    title = str(body.get("title", "")) if isinstance(body, dict) else ""
    detail = str(body.get("detail", "")) if isinstance(body, dict) else ""
    return title, f"{title}: {detail}".strip(": ") or error_text(body)[1]


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


@dataclass
class _Batch:
    """One batch operation we started: its id and which member each operation is for."""

    id: str
    emails: dict[str, str]  # operation_id (the subscriber hash) -> lowercased email
    members: dict[str, dict]  # lowercased email -> the member as given (for a re-send)
    started: float
    total: int = 0
    seen: set[str] = field(default_factory=set)  # emails the results have answered for


class Mailchimp(Connector):
    system = "mailchimp"
    label = "Mailchimp"
    default_base_url = "https://us1.api.mailchimp.com"
    credential_fields = (
        Field("api_key", "API key", "Ends in the data centre, for example …-us14."),
    )
    setting_fields = (Field("list_id", "Audience (list) id"),)
    batch_size = 500
    # Existing members are updated by batch operations of at most this many PUTs. Mailchimp
    # publishes no per-batch maximum; 2,000 keeps the request body under ~1 MB and the
    # results archive at a few MB, and since Mailchimp runs an account's batches one after
    # another, several of these finish no later than one huge batch, while a batch lost to a
    # timeout costs 2,000 idempotent re-sends rather than the whole audience.
    batch_operations_size: ClassVar[int] = 2000
    # Our unfinished batches at one time. Mailchimp refuses a 501st pending batch (429) and
    # counts every app on the account, so we keep well under it.
    max_pending_batches: ClassVar[int] = 10
    # Polling GET /batches/{id}: first look after this long, then 1.5x longer each time up to
    # the maximum (a connection's settings may override both, and the timeout).
    batch_poll_seconds: ClassVar[float] = 1.0
    batch_poll_max_seconds: ClassVar[float] = 15.0
    # A batch unfinished this long after it was started fails the call (TransientError).
    batch_timeout_seconds: ClassVar[float] = 900.0
    # Rounds of re-sending the operations that failed for a passing reason (429, 5xx).
    batch_retry_rounds: ClassVar[int] = 2
    # No request-rate limit is published; the cap that matters is concurrency.
    default_limit = 100_000
    default_window = 60.0
    default_concurrency = 8

    def __init__(
        self,
        connection: Connection,
        *,
        transport: httpx.BaseTransport | None = None,
        **options: Any,
    ) -> None:
        # Kept for the results download, which needs a client of its own (see _download).
        self._transport = transport
        self._results_client: httpx.Client | None = None
        self._sleep: Callable[[float], None] = time.sleep
        self._clock: Callable[[], float] = time.monotonic
        super().__init__(connection, transport=transport, **options)

    def close(self) -> None:
        if self._results_client is not None:
            self._results_client.close()
        super().close()

    def api_base(self) -> str:
        base = self.connection.base_url.rstrip("/")
        # The real API lives in the key's data centre: abc123-us14 -> us14.api.mailchimp.com.
        match = re.search(r"-([a-z]+\d+)$", self.creds["api_key"])
        if match and re.match(r"https://[a-z0-9]+\.api\.mailchimp\.com$", base):
            base = f"https://{match.group(1)}.api.mailchimp.com"
        return f"{base}/3.0"

    def auth(self) -> httpx.Auth:
        return httpx.BasicAuth("console", self.creds["api_key"])

    @property
    def list_path(self) -> str:
        return f"/lists/{self.settings['list_id']}"

    def classify(self, response: httpx.Response) -> ConnectorError | None:
        answer = self.error_answer(response, read=_problem_text)
        if answer is None:
            return None
        if any(p in answer.message.lower() for p in _PERMANENT):
            return RejectedError("Mailchimp will not accept changes to this member.", **answer.kw)
        if answer.status == 429:
            return ThrottledError(
                "Mailchimp refused: too many connections at once.",
                retry_after=retry_after_seconds(response) or 1.0,
                **answer.kw,
            )
        if answer.status == 401:
            return AuthError("Mailchimp did not accept the API key.", **answer.kw)
        return None

    def check(self) -> str:
        self.http.json("GET", "/ping")
        audience = self.http.json("GET", self.list_path)
        name = (audience or {}).get("name", self.settings["list_id"])
        return f"Signed in to Mailchimp: audience “{name}”."

    # --- members ---------------------------------------------------------------------
    @staticmethod
    def _member_body(member: dict) -> dict:
        """Never a `status`: an existing member's consent is Mailchimp's, not ours. And no
        default `status_if_new` either: callers say it (see `_consent_unknown`)."""
        return {k: v for k, v in member.items() if k not in ("status", "tags")}

    @staticmethod
    def _consent_unknown(members: Iterable[dict]) -> tuple[list[dict], dict[str, RecordError]]:
        """(members that say their consent, failures for those that do not). Never guessed:
        subscribing someone who did not agree breaks the law and the brand's sender
        reputation, so such a member fails alone and its neighbours still go."""
        known: list[dict] = []
        failed: dict[str, RecordError] = {}
        for member in members:
            if member.get("status_if_new"):
                known.append(member)
            else:
                failed[member["email_address"].strip().lower()] = RecordError(
                    CONSENT_UNKNOWN, CONSENT_UNKNOWN_MESSAGE
                )
        return known, failed

    def _new_member(self, member: dict) -> dict:
        body = self._member_body(member)
        body["status"] = body.pop("status_if_new")
        return body

    def upsert_members(self, members: Iterable[dict]) -> BatchResult:
        """Create or update members, keyed by email; one outcome per member.

        New members are created 500 a call (`update_existing: false`, so the call can never
        touch an existing member's status). The members it reports as existing are updated
        by batch operations: one PUT each with `status_if_new` and never `status`, so their
        consent stays Mailchimp's, a few thousand PUTs per request.
        """
        known, unknown = self._consent_unknown(members)
        by_email: dict[str, dict] = {}
        for member in known:
            by_email[member["email_address"].strip().lower()] = member
        result = BatchResult(failed=unknown)
        existing: list[dict] = []
        for batch in chunks(list(by_email.values()), self.batch_size):
            payload = {"members": [self._new_member(m) for m in batch], "update_existing": False}
            body = (
                self.http.json("POST", self.list_path, json_body=payload, batch_size=len(batch))
                or {}
            )
            emails = [m["email_address"].strip().lower() for m in batch]
            exists: set[str] = set()
            for err in body.get("errors") or []:
                email = str(err.get("email_address", "")).strip().lower()
                if err.get("error_code") == "ERROR_CONTACT_EXISTS" and email in by_email:
                    exists.add(email)
                else:
                    result.failed[email] = RecordError(
                        str(err.get("error_code", "")), str(err.get("error", ""))
                    )
            existing.extend(by_email[e] for e in emails if e in exists)
            result.ok.extend(e for e in emails if e not in exists and e not in result.failed)
        if existing:
            result.merge(self.update_existing_members(existing))
        return result

    # --- batch operations -------------------------------------------------------------
    def update_existing_members(self, members: list[dict], round_no: int = 1) -> BatchResult:
        """PUT members (`status_if_new`, never `status`) by batch operations; per-member outcomes.

        Operations that failed for a passing reason (429, 5xx) are sent again in a new batch,
        up to `batch_retry_rounds` times; a member Mailchimp refuses (compliance state, an
        invalid address) fails alone and is not re-sent.
        """
        members, unknown = self._consent_unknown(members)
        result = BatchResult(failed=unknown)
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
            running.append(self._start_batch(group))
        while running:
            settle(running.popleft())
        if again:
            if round_no <= self._setting("batch_retry_rounds", self.batch_retry_rounds):
                result.merge(self.update_existing_members(list(again.values()), round_no + 1))
            else:
                result.failed.update(last_error)
        return result

    def _start_batch(self, members: list[dict]) -> _Batch:
        emails: dict[str, str] = {}
        by_email: dict[str, dict] = {}
        operations = []
        for member in members:
            email = member["email_address"].strip().lower()
            digest = subscriber_hash(email)
            emails[digest] = email
            by_email[email] = member
            operations.append(
                {
                    "method": "PUT",
                    "path": f"{self.list_path}/members/{digest}",
                    "operation_id": digest,
                    "body": json.dumps(self._member_body(member), separators=(",", ":")),
                }
            )
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
            raise TransientError(
                f"Mailchimp's results for batch {batch.id} could not be read "
                f"({type(exc).__name__}).",
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
                status = problem = type(exc).__name__
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

    def _setting(self, name: str, default: Any) -> Any:
        value = self.settings.get(name)
        return default if value in (None, "") else type(default)(value)

    def upsert_member(self, member: dict) -> dict:
        email = member["email_address"]
        if not member.get("status_if_new"):
            raise RejectedError(CONSENT_UNKNOWN_MESSAGE, vendor=self.system, code=CONSENT_UNKNOWN)
        return self.http.json(
            "PUT",
            f"{self.list_path}/members/{subscriber_hash(email)}",
            json_body=self._member_body(member),
        )

    def set_tags(
        self, email: str, active: Iterable[str] = (), inactive: Iterable[str] = ()
    ) -> None:
        tags = [{"name": t, "status": "active"} for t in active]
        tags += [{"name": t, "status": "inactive"} for t in inactive]
        self.http.request(
            "POST",
            f"{self.list_path}/members/{subscriber_hash(email)}/tags",
            json_body={"tags": tags},
            idempotent=True,
        )

    def unsubscribed_since(
        self, since: datetime | None = None, page_size: int = 1000
    ) -> Iterator[dict]:
        offset = 0
        while True:
            params = {"status": "unsubscribed", "count": page_size, "offset": offset}
            if since:
                params["since_last_changed"] = since.isoformat(timespec="seconds")
            body = self.http.json("GET", f"{self.list_path}/members", params=params) or {}
            members = body.get("members") or []
            yield from members
            offset += len(members)
            if not members or offset >= int(body.get("total_items", 0)):
                return

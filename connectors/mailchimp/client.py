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

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

from connectors.base import Connector
from connectors.errors import (
    AuthError,
    ConnectorError,
    NotFoundError,
    RejectedError,
    ThrottledError,
)
from connectors.fields import Field
from connectors.http import BatchResult, RecordError, chunks, retry_after_seconds
from connectors.mailchimp.batches import BatchOperations
from connectors.mailchimp.common import (
    _PERMANENT,
    CONSENT_UNKNOWN,
    CONSENT_UNKNOWN_MESSAGE,
    _problem_text,
    subscriber_hash,
)
from connectors.mailchimp.ecommerce import Ecommerce

if TYPE_CHECKING:
    from connectors.models import Connection

logger = logging.getLogger("connectors.mailchimp")


class Mailchimp(Ecommerce, BatchOperations, Connector):
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
    # the maximum (a connection's settings may override both, and the timeout). Soon: a bulk
    # run waits for each batch before its next read, so a late first look is idle time
    # (at 1 s, a purchases backfill spent most of its time asleep here); a look costs one
    # GET, and Mailchimp limits connections, not requests.
    batch_poll_seconds: ClassVar[float] = 0.25
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

    def member_hashes(self) -> set[str]:
        """Every member's subscriber hash: a backfill's search before create, done once for
        the whole audience instead of once per member."""
        return set(self.member_statuses())

    def member_statuses(self) -> dict[str, str]:
        """Every member's subscriber hash (its `id`) and status, 1,000 a page (openapi
        l.6943, `fields` keeping the pages small)."""
        found: dict[str, str] = {}
        offset = 0
        while True:
            body = (
                self.http.json(
                    "GET",
                    f"{self.list_path}/members",
                    params={
                        "fields": "members.id,members.status,total_items",
                        "count": 1000,
                        "offset": offset,
                    },
                )
                or {}
            )
            page = body.get("members") or []
            found.update({str(m.get("id")): str(m.get("status") or "") for m in page})
            offset += len(page)
            if not page or offset >= int(body.get("total_items") or 0):
                return found

    def upsert_members(
        self, members: Iterable[dict], existing: set[str] | None = None
    ) -> BatchResult:
        """Create or update members, keyed by email; one outcome per member.

        New members are created 500 a call (`update_existing: false`, so the call can never
        touch an existing member's status). The members it reports as existing, and those
        whose hash is in `existing` (a listing of the audience made before), are updated by
        batch operations: one PUT each with `status_if_new` and never `status`, so their
        consent stays Mailchimp's, a few thousand PUTs per request. (A PUT is an upsert by
        hash: a member listed but gone since is made, with its status_if_new.)
        """
        known, unknown = self._consent_unknown(members)
        by_email: dict[str, dict] = {}
        listed: list[dict] = []
        for member in known:
            email = member["email_address"].strip().lower()
            if existing is not None and subscriber_hash(email) in existing:
                listed.append(member)
            else:
                by_email[email] = member
        result = BatchResult(failed=unknown)
        existing_members: list[dict] = list(listed)
        for batch in chunks(list(by_email.values()), self.batch_size):
            payload = {"members": [self._new_member(m) for m in batch], "update_existing": False}
            # Safe to send again after a lost answer: with update_existing false a resend makes
            # nobody twice (the members the lost call made come back as existing, and are
            # updated like any other, status_if_new only).
            body = (
                self.http.json(
                    "POST",
                    self.list_path,
                    json_body=payload,
                    batch_size=len(batch),
                    idempotent=True,
                )
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
            existing_members.extend(by_email[e] for e in emails if e in exists)
            made = [e for e in emails if e not in exists and e not in result.failed]
            result.ok.extend(made)
            # Which members this call made: their status is the status_if_new they were sent.
            result.info.update(
                {e: {"new": True, "status": by_email[e]["status_if_new"]} for e in made}
            )
        if existing_members:
            result.merge(self.update_existing_members(existing_members))
        return result

    def merge_fields_ensure(self, wanted: dict[str, str]) -> list[str]:
        """The audience has these merge fields ({tag: name}); the missing ones are made (text
        fields). Returns the tags made. POST /lists/{id}/merge-fields, openapi l.8404."""
        have: set[str] = set()
        offset = 0
        while True:
            body = (
                self.http.json(
                    "GET",
                    f"{self.list_path}/merge-fields",
                    params={"count": 1000, "offset": offset},
                )
                or {}
            )
            page = body.get("merge_fields") or []
            have.update(str(f.get("tag", "")).upper() for f in page)
            offset += len(page)
            if not page or offset >= int(body.get("total_items") or 0):
                break
        made = []
        for tag, name in sorted(wanted.items()):
            if tag.upper() in have:
                continue
            # Sent again after a lost answer, a made field is refused as existing: made.
            reply = self.http.request(
                "POST",
                f"{self.list_path}/merge-fields",
                json_body={"tag": tag, "name": name or tag, "type": "text"},
                idempotent=True,
                ok_statuses=(400,),
            )
            if reply.status >= 400 and "exists" not in _problem_text(reply.body)[1].lower():
                raise RejectedError(
                    f"Mailchimp refused the merge field {tag}: {_problem_text(reply.body)[1]}",
                    vendor=self.system,
                    status=reply.status,
                )
            made.append(tag)
        return made

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

    def member(self, email: str) -> dict | None:
        """One member by the hash of its email, or None."""
        try:
            return self.http.json("GET", f"{self.list_path}/members/{subscriber_hash(email)}")
        except NotFoundError:
            return None

    def members_since(
        self, since: datetime | None = None, status: str = "", page_size: int = 1000
    ) -> Iterator[dict]:
        """Members changed since a moment (`since_last_changed`), of one status or all,
        1,000 a page (openapi l.6943)."""
        offset = 0
        while True:
            params: dict[str, Any] = {"count": page_size, "offset": offset}
            if status:
                params["status"] = status
            if since:
                params["since_last_changed"] = since.isoformat(timespec="seconds")
            body = self.http.json("GET", f"{self.list_path}/members", params=params) or {}
            members = body.get("members") or []
            yield from members
            offset += len(members)
            if not members or offset >= int(body.get("total_items", 0)):
                return

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

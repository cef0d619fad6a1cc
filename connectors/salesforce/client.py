"""Salesforce, the CRM.

The connection's address is the org's My Domain URL. OAuth 2.0 (client credentials, or a JWT
bearer assertion) at {My Domain}/services/oauth2/token gives an access token and the org's
instance_url (connectors/salesforce/auth.py); calls then go to
{instance_url}/services/data/vXX.X/. Records are upserted by external id, 200 per composite
call, with a result per record. Every answer's Sforce-Limit-Info feeds the brand's budget.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from urllib.parse import quote

import httpx

from connectors.base import Connector
from connectors.budget import BudgetHint
from connectors.errors import (
    ConnectorError,
    NotFoundError,
    RejectedError,
    ThrottledError,
    TransientError,
)
from connectors.http import BatchResult, RecordError, chunks, default_classify
from connectors.salesforce.auth import (
    SalesforceAuthError,
    SalesforceOAuth,
    base_url_problem,
    jwt_audience,
)
from connectors.salesforce.fields import (
    BASE_URL_HELP,
    CREDENTIAL_FIELDS,
    DEFAULT_EXTERNAL_ID_FIELD,
    SETTING_FIELDS,
)

_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")
# Seconds to wait after a concurrent-request refusal: long-running requests finish within
# seconds, and the day's window must not hold calls back (the answer says no Retry-After).
CONCURRENT_PAUSE = 2.0


class AllowanceSpent(ThrottledError):
    """REQUEST_LIMIT_EXCEEDED: the org's daily allocation, not a short burst, so no retry now."""

    @property
    def plain(self) -> str:
        said = f" Salesforce said: “{self.vendor_message}”." if self.vendor_message else ""
        return f"{self.message}{said}"


class Salesforce(Connector):
    system = "salesforce"
    label = "Salesforce"
    default_base_url = "https://yourcompany.my.salesforce.com"
    base_url_help = BASE_URL_HELP
    auth_setting = "auth"
    default_auth_kind = "client_credentials"
    credential_fields = CREDENTIAL_FIELDS
    setting_fields = SETTING_FIELDS
    batch_size = 200
    # The daily allocation (Enterprise: 100,000 plus 1,000 per licence); the
    # Sforce-Limit-Info header corrects it on every answer.
    default_limit = 100_000
    default_window = 86_400.0
    default_reserve = 100

    oauth: SalesforceOAuth | None = None

    @classmethod
    def base_url_problem(cls, url: str, settings: dict | None) -> str:
        return base_url_problem(url, cls.auth_kind(settings))

    def auth(self) -> httpx.Auth:
        self.oauth = SalesforceOAuth(
            connection_id=self.connection.pk,
            base_url=self.connection.base_url,
            kind=self.auth_kind(self.settings),
            creds=dict(self.creds),
            audience=jwt_audience(
                self.connection.base_url, str(self.settings.get("jwt_audience") or "")
            ),
            # New tokens are secrets too: the HTTP layer scrubs them from error text.
            on_token=lambda token: self.http.secrets.append(token),
        )
        return self.oauth

    @property
    def external_id_field(self) -> str:
        return str(self.settings.get("external_id_field") or DEFAULT_EXTERNAL_ID_FIELD).strip()

    @property
    def version(self) -> str:
        version = str(self.settings.get("api_version") or "v61.0").strip()
        return version if version.startswith("v") else f"v{version}"

    def read_budget(self, response: httpx.Response) -> BudgetHint | None:
        match = _USAGE.search(response.headers.get("Sforce-Limit-Info", ""))
        if not match:
            return None
        used, limit = int(match.group(1)), int(match.group(2))
        return BudgetHint(remaining=max(limit - used, 0), limit=limit)

    def classify(self, response: httpx.Response) -> ConnectorError | None:
        # 300: an upsert whose external id matches several records.
        answer = self.error_answer(response, also=(300,))
        if answer is None:
            return None
        if answer.code == "REQUEST_LIMIT_EXCEEDED" and "concurrent" in answer.message.lower():
            # Too many long-running requests at once (25 in production): not the day's
            # allocation. New ones go again once fewer are running, so a wait and a retry do
            # (salesforce-app-limits-platform-api.html, "Concurrent API Request Limits").
            # Not a rate budget matter: the budget's window is Salesforce's day, and a
            # throttle would hold every call until it turned. A short wait and a retry do;
            # the refused request was not processed, so even a create may go again.
            busy = TransientError(
                "Salesforce is busy with too many long-running requests of this org at once.",
                retry_after=CONCURRENT_PAUSE,
                **answer.kw,
            )
            busy.not_sent = True
            return busy
        if answer.code == "REQUEST_LIMIT_EXCEEDED":
            # The daily allocation: nothing will pass before it renews, so no retry now.
            return AllowanceSpent(
                "Salesforce's daily API allocation is used up: it refuses every call until its "
                "24-hour count falls below the allocation (Setup → Company Information shows "
                "it; more licences or an add-on raise it).",
                retryable=False,
                **answer.kw,
            )
        if answer.status == 300:
            return RejectedError(
                "More than one Salesforce record has this external id.", **answer.kw
            )
        if answer.status == 401 or answer.code == "INVALID_SESSION_ID":
            # The auth renewed the token once already: this is the answer to a fresh one.
            return SalesforceAuthError(
                "Salesforce refused the API call even with a fresh sign-in: the integration "
                "user may lack the “API Enabled” permission or access to the app.",
                **answer.kw,
            )
        # Anything else by its status, with Salesforce's own errorCode and message kept.
        return default_classify(self.system, response, answer.code, answer.message)

    # --- calls ---------------------------------------------------------------------
    def _data(self, method: str, path: str, **kwargs):
        # Built on the sign-in address; the auth sends it to the token's instance URL.
        return self.http.json(method, f"/services/data/{self.version}{path}", **kwargs)

    def check(self) -> str:
        """Sign in and list the API's resources (Resources by Version, which any API user may
        read: /limits needs “View Setup and Configuration”); the answer's Sforce-Limit-Info
        says how much of the day's allocation is used."""
        reply = self.http.request("GET", f"/services/data/{self.version}")
        hint = self.read_budget(reply)
        if hint is None or not hint.limit:
            return "Signed in to Salesforce."
        used = hint.limit - hint.remaining
        return (
            f"Signed in to Salesforce: {hint.remaining:,} API requests left today "
            f"({used:,} of {hint.limit:,} used in the last 24 hours)."
        )

    # --- records ---------------------------------------------------------------------
    def upsert(self, sobject: str, external_id_field: str, records: Iterable[dict]) -> BatchResult:
        """Upsert by external id, 200 a call, allOrNone false: each record succeeds alone."""
        result = BatchResult()
        for batch in chunks(list(records), self.batch_size):
            keys = [str(r.get(external_id_field)) for r in batch]
            payload = {
                "allOrNone": False,
                "records": [{"attributes": {"type": sobject}, **r} for r in batch],
            }
            answers = (
                self._data(
                    "PATCH",
                    f"/composite/sobjects/{sobject}/{external_id_field}",
                    json_body=payload,
                    batch_size=len(batch),
                    # An upsert by external id twice writes one record: safe to resend.
                    idempotent=True,
                )
                or []
            )
            for key, answer in zip(keys, answers, strict=False):
                if answer.get("success"):
                    result.ok.append(key)
                    result.info[key] = answer.get("id")
                    if answer.get("created"):
                        result.created[key] = str(answer.get("id"))
                else:
                    errors = answer.get("errors") or [{}]
                    result.failed[key] = RecordError(
                        str(errors[0].get("statusCode") or errors[0].get("errorCode") or "error"),
                        str(errors[0].get("message", "")),
                    )
        return result

    def ids_by_external_id(self, sobject: str, field: str, value: str) -> list[str]:
        """The ids of the records whose External Id field holds this value: none, one, or
        several (GET /sobjects/{Object}/{Field}/{value} answers 300 with their URLs then)."""
        path = f"/sobjects/{sobject}/{field}/{quote(str(value), safe='')}"
        try:
            record = self._data("GET", path, params={"fields": "Id"})
        except NotFoundError:
            return []
        except RejectedError as exc:
            if exc.status != 300 or not isinstance(exc.details, list):
                raise
            # ["/services/data/v61.0/sobjects/Account/001…", …]: the id ends each URL.
            return [str(url).rstrip("/").rsplit("/", 1)[-1] for url in exc.details]
        return [str(record["Id"])] if isinstance(record, dict) and record.get("Id") else []

    def clear_field(self, sobject: str, record_id: str, field: str) -> None:
        """Empty one field of one record by its Salesforce id: PATCH /sobjects/{Object}/{Id}
        with {field: null}, answered 204 (`sf/sobject_rows_update.json`)."""
        self._data(
            "PATCH",
            f"/sobjects/{sobject}/{quote(record_id, safe='')}",
            json_body={field: None},
            idempotent=True,  # emptying it twice leaves it empty
        )

    def update(self, sobject: str, record_id: str, fields: dict) -> None:
        """Set fields of one record by its Salesforce id: PATCH /sobjects/{Object}/{Id},
        answered 204 (`sf/sobject_rows_update.json`)."""
        self._data(
            "PATCH",
            f"/sobjects/{sobject}/{quote(record_id, safe='')}",
            json_body=fields,
            idempotent=True,  # the same values set twice are set once
        )

    def query(self, soql: str, *, batch_size: int | None = None) -> Iterator[dict]:
        """Every record a SOQL query finds, a batch at a time: the first page from
        `GET /query?q=`, the next ones from each answer's `nextRecordsUrl` while `done` is
        false (resources-query.html). `batch_size` (200–2,000) goes as Sforce-Query-Options."""
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"} if batch_size else None
        body = self._data("GET", "/query", params={"q": soql}, headers=headers) or {}
        while True:
            yield from body.get("records") or []
            next_url = body.get("nextRecordsUrl")
            if body.get("done", True) or not next_url:
                return
            # A path from the host's root: relative to the sign-in address, sent to the
            # instance by the auth.
            body = self.http.json("GET", str(next_url), headers=headers) or {}

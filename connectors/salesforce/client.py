"""Salesforce, the CRM.

OAuth 2.0 client credentials at {login}/services/oauth2/token give an access token and
the org's instance_url; calls then go to {instance_url}/services/data/vXX.X/. Records
are upserted by external id, 200 per composite call, with a result per record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import httpx

from connectors.base import Connector
from connectors.budget import BudgetHint
from connectors.errors import AuthError, ConnectorError, RejectedError, ThrottledError
from connectors.fields import Field
from connectors.http import BatchResult, RecordError, chunks

_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")


class Salesforce(Connector):
    system = "salesforce"
    label = "Salesforce"
    default_base_url = "https://login.salesforce.com"
    credential_fields = (
        Field("client_id", "Client id", "The connected app's consumer key."),
        Field("client_secret", "Client secret", "The connected app's consumer secret."),
    )
    setting_fields = (Field("api_version", "API version", "For example v61.0.", required=False),)
    batch_size = 200
    # The daily allocation (Enterprise: 100,000 plus 1,000 per licence); the
    # Sforce-Limit-Info header corrects it on every answer.
    default_limit = 100_000
    default_window = 86_400.0
    default_reserve = 100

    _token: str | None = None
    _instance_url: str | None = None

    @property
    def version(self) -> str:
        return self.settings.get("api_version") or "v61.0"

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
        if answer.code == "REQUEST_LIMIT_EXCEEDED":
            # The daily allocation: nothing will pass before it renews, so no retry now.
            return ThrottledError(
                "Salesforce's daily API allocation is used up.", retryable=False, **answer.kw
            )
        if answer.status == 300:
            return RejectedError(
                "More than one Salesforce record has this external id.", **answer.kw
            )
        if answer.status == 401 or answer.code in (
            "invalid_client",
            "invalid_grant",
            "INVALID_SESSION_ID",
        ):
            return AuthError(
                "Salesforce did not accept the connected app's credentials.", **answer.kw
            )
        return None

    # --- auth ------------------------------------------------------------------------
    def _ensure_token(self) -> str:
        if self._token is None:
            body = self.http.json(
                "POST",
                "/services/oauth2/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.creds["client_id"],
                    "client_secret": self.creds["client_secret"],
                },
                idempotent=True,  # asking for a token twice does no harm
            )
            self._token = body["access_token"]
            self._instance_url = body["instance_url"].rstrip("/")
            self.http.client.headers["Authorization"] = f"Bearer {self._token}"
            self.http.secrets.append(self._token)
        return self._token

    def _data(self, method: str, path: str, **kwargs):
        self._ensure_token()
        url = f"{self._instance_url}/services/data/{self.version}{path}"
        try:
            return self.http.json(method, url, **kwargs)
        except AuthError:
            # Tokens expire; one fresh token, one more try.
            self._token = None
            self._ensure_token()
            return self.http.json(method, url, **kwargs)

    def check(self) -> str:
        limits = self._data("GET", "/limits") or {}
        daily = limits.get("DailyApiRequests") or {}
        left = daily.get("Remaining")
        return "Signed in to Salesforce" + (
            f": {left} API requests left today." if left is not None else "."
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
                )
                or []
            )
            for key, answer in zip(keys, answers, strict=False):
                if answer.get("success"):
                    result.ok.append(key)
                    result.info[key] = answer.get("id")
                else:
                    errors = answer.get("errors") or [{}]
                    result.failed[key] = RecordError(
                        str(errors[0].get("statusCode") or errors[0].get("errorCode") or "error"),
                        str(errors[0].get("message", "")),
                    )
        return result

"""The small interface every vendor connector shares.

A connector is built from a `Connection`. It knows its vendor's auth, batch maximum,
rate budget and error shapes; callers hand it any number of ids or records and get data
or per-record outcomes back. `check()` proves the connection works.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

from connectors.budget import BULK_BURST_SHARE, Budget, BudgetHint, BudgetPolicy
from connectors.crypto import CredentialKeyError
from connectors.errors import ConfigurationError, ConnectorError
from connectors.fields import Field
from connectors.http import CallStats, VendorHTTP

if TYPE_CHECKING:
    from connectors.models import Connection


class Connector:
    system: ClassVar[str]
    label: ClassVar[str]
    default_base_url: ClassVar[str]
    credential_fields: ClassVar[tuple[Field, ...]] = ()
    setting_fields: ClassVar[tuple[Field, ...]] = ()
    # The most records the vendor takes (or returns) in one call.
    batch_size: ClassVar[int] = 100
    # The vendor's published limit; a connection's settings may lower or raise it
    # (a BigCommerce Pro plan, a sandbox with a faster clock).
    default_limit: ClassVar[int] = 100
    default_window: ClassVar[float] = 60.0
    default_reserve: ClassVar[int] = 0
    default_concurrency: ClassVar[int] = 0
    # Pace requests evenly (for a limit the vendor states but does not report in headers).
    smooth_rate: ClassVar[bool] = False
    # A vendor with several kinds of sign-in names the setting that picks one, and the kind a
    # connection saved without that setting uses (connections made before the choice existed).
    auth_setting: ClassVar[str] = ""
    default_auth_kind: ClassVar[str] = ""
    # What the address field says, when more than "the API's address" (Salesforce: My Domain).
    base_url_help: ClassVar[str] = ""

    def __init__(
        self,
        connection: Connection,
        *,
        transport: httpx.BaseTransport | None = None,
        priority: bool = False,
        max_attempts: int = 6,
        max_backoff: float = 30.0,
        timeout: float = 30.0,
    ) -> None:
        self.connection = connection
        self.settings: dict[str, Any] = dict(connection.settings or {})
        try:
            self.creds = connection.credentials
        except CredentialKeyError as exc:
            raise ConfigurationError(str(exc), vendor=self.system) from None
        kind = self.auth_kind(self.settings)
        if self.auth_setting and kind not in self.auth_kinds():
            raise ConfigurationError(
                f"The {self.label} connection's kind of credential “{kind}” is not one the "
                f"console knows: choose one of {', '.join(self.auth_kinds())}.",
                vendor=self.system,
            )
        missing = [
            f.label
            for f in self.credentials_needed(self.settings)
            if f.required and not self.creds.get(f.name)
        ]
        missing += [
            f.label
            for f in self.setting_fields
            if f.required and f.applies(kind) and not self.settings.get(f.name)
        ]
        if missing:
            raise ConfigurationError(
                f"The {self.label} connection is missing: {', '.join(missing)}.", vendor=self.system
            )
        problem = self.base_url_problem(connection.base_url, self.settings)
        if problem:
            raise ConfigurationError(
                f"The {self.label} address {connection.base_url} cannot be used. {problem}",
                vendor=self.system,
            )
        self.budget = Budget(connection.brand_id, self.system, self.policy())
        self.http = VendorHTTP(
            vendor=self.system,
            base_url=self.api_base(),
            budget=self.budget,
            headers=self.auth_headers(),
            auth=self.auth(),
            transport=transport,
            classify=self.classify,
            read_budget=self.read_budget,
            priority=priority,
            max_attempts=max_attempts,
            max_backoff=max_backoff,
            # Seconds for each step of a request; a page that asks a vendor while a person
            # waits gives it a few, a run gives it thirty.
            timeout=timeout,
            brand_label=str(connection.brand_id),
            secrets=[str(v) for v in self.creds.values()],
        )

    # --- kinds of sign-in ----------------------------------------------------------
    @classmethod
    def auth_kinds(cls) -> tuple[str, ...]:
        """The kinds of sign-in the vendor offers (the values of its `auth_setting`)."""
        choices = next((f.choices for f in cls.setting_fields if f.name == cls.auth_setting), ())
        return tuple(value for value, _ in choices)

    @classmethod
    def auth_kind(cls, settings: dict[str, Any] | None) -> str:
        if not cls.auth_setting:
            return ""
        return str((settings or {}).get(cls.auth_setting) or cls.default_auth_kind)

    @classmethod
    def credentials_needed(cls, settings: dict[str, Any] | None) -> list[Field]:
        """The credential fields that apply to the connection's kind of sign-in."""
        kind = cls.auth_kind(settings)
        return [f for f in cls.credential_fields if f.applies(kind)]

    # --- what a vendor module may override --------------------------------------
    @classmethod
    def base_url_problem(cls, url: str, settings: dict[str, Any] | None) -> str:
        """Why this address cannot be the vendor's for this kind of sign-in ("" if it can):
        checked by the connection forms and before any request is sent."""
        return ""

    def api_base(self) -> str:
        return self.connection.base_url.rstrip("/")

    def auth_headers(self) -> dict[str, str]:
        return {}

    def auth(self) -> httpx.Auth | None:
        return None

    def policy(self) -> BudgetPolicy:
        s = self.settings
        return BudgetPolicy(
            limit=int(s.get("rate_limit", self.default_limit)),
            window_seconds=float(s.get("rate_window_seconds", self.default_window)),
            reserve=int(s.get("rate_reserve", self.default_reserve)),
            concurrency=int(s.get("max_concurrency", self.default_concurrency)),
            smooth=self.smooth_rate,
            bulk_burst=float(s.get("rate_bulk_burst", BULK_BURST_SHARE)),
        )

    def classify(self, response: httpx.Response) -> ConnectorError | None:
        """The vendor's own reading of an error answer; None falls back to the status."""
        return None

    def read_budget(self, response: httpx.Response) -> BudgetHint | None:
        return None

    def error_answer(
        self,
        response: httpx.Response,
        *,
        also: tuple[int, ...] = (),
        read: Callable[[Any], tuple[str, str]] | None = None,
    ) -> ErrorAnswer | None:
        """The opening every `classify` shares: None for a success (below 400, except the
        statuses in `also`), else the answer's code and message read from its body (by
        `read`, the common shapes by default), ready to become a ConnectorError."""
        if response.status_code < 400 and response.status_code not in also:
            return None
        code, message = (read or error_text)(safe_json(response))
        return ErrorAnswer(
            vendor=self.system, status=response.status_code, code=code, message=message
        )

    def check(self) -> str:
        """Make one cheap authenticated call. Returns what worked, in plain English."""
        raise NotImplementedError

    # --- shared ------------------------------------------------------------------
    @property
    def stats(self) -> CallStats:
        return self.http.stats

    def close(self) -> None:
        self.http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(frozen=True)
class ErrorAnswer:
    """A vendor's error answer, read: what a vendor's `classify` decides on."""

    vendor: str
    status: int
    code: str
    message: str

    @property
    def kw(self) -> dict[str, Any]:
        """The keyword arguments every ConnectorError takes."""
        return {
            "vendor": self.vendor,
            "status": self.status,
            "code": self.code,
            "vendor_message": self.message,
        }


def error_text(body: Any) -> tuple[str, str]:
    """(code, message) from the common error shapes, for vendors that share them."""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        first = body[0]
        return (
            str(first.get("errorCode") or first.get("code") or first.get("status") or ""),
            str(first.get("message") or first.get("title") or ""),
        )
    if isinstance(body, dict):
        if isinstance(body.get("errors"), list) and body["errors"]:
            first = body["errors"][0]
            if isinstance(first, dict):
                return str(first.get("code", "")), str(first.get("message", ""))
        for key in ("detail", "title", "message", "response", "error_description", "error"):
            if isinstance(body.get(key), str) and body[key]:
                return str(body.get("code") or body.get("type") or ""), body[key]
    return "", ""


def safe_json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None

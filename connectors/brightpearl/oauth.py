"""Brightpearl OAuth: a bearer token from the token endpoint, renewed with the refresh token.

The endpoint is documented at https://oauth.brightpearlapp.com/token/{account}
(api-docs.brightpearl.com/utilities/oauth-token/post.html): "Input data is
x-www-form-urlencoded rather than application/json" and "its keys are underscore-cased". A
renewal sends grant_type=refresh_token, refresh_token and client_id (the app's reference; the
client secret too when the app has confidential OAuth), and is answered
{"access_token", "refresh_token", "api_domain", "token_type": "Bearer", "expires_in"}: a new
refresh token each time (recorded: ruby-brightpearl spec/fixtures/auth_use_refresh_token.yml),
so the one saved must be replaced at once, or the next renewal may be refused. A refused
renewal is 400 {"error": "invalid_grant", "error_description": …} (recorded for a code).

The tokens live in the connection's encrypted credentials (`oauth_access_token`,
`oauth_renew_at`, and the rotated `refresh_token`), so every process shares them. A renewal
happens before a request when the token is missing or about to expire, and once after a 401
(Brightpearl answers {"response":"Authorization token expired"}, recorded). Renewals of one
connection are serialised on its row: a second process waiting on the lock finds the new token
and does not spend the rotated refresh token again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from typing import Any

import httpx
from django.db import transaction

from connectors.errors import AuthError, TransientError
from connectors.models import Connection

DEFAULT_TOKEN_URL = "https://oauth.brightpearlapp.com/token/{account}"
ACCESS_TOKEN = "oauth_access_token"
RENEW_AT = "oauth_renew_at"
API_DOMAIN = "oauth_api_domain"
# The token keys the console writes itself (dropped when a person types new credentials).
CACHED = (ACCESS_TOKEN, RENEW_AT, API_DOMAIN)
# Renew this long before the token's end (a tenth of a short life), so a request never goes
# out on a dying token.
MARGIN_SECONDS = 60.0


class SignInRefused(AuthError):
    """Brightpearl refused the sign-in: the plain words say what to do for this kind."""

    @property
    def plain(self) -> str:
        said = f" Brightpearl said: “{self.vendor_message}”." if self.vendor_message else ""
        return f"{self.plain_prefix} {self.message}{said}"


class BrightpearlOAuth(httpx.Auth):
    """Bearer auth for one connection, renewing its token as the docs describe."""

    requires_response_body = True

    def __init__(
        self,
        *,
        connection_id: int,
        token_url: str,
        client_id: str,
        client_secret: str = "",
        creds: dict[str, Any],
        on_token: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.connection_id = connection_id
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.creds = dict(creds)
        # Told each new access token (the HTTP layer scrubs it from error text).
        self.on_token = on_token
        self.clock = clock
        self.renewals = 0

    def _usable(self, creds: dict[str, Any]) -> str | None:
        token = creds.get(ACCESS_TOKEN)
        try:
            renew_at = float(creds.get(RENEW_AT) or 0)
        except (TypeError, ValueError):
            renew_at = 0.0
        if token and self.clock() < renew_at:
            return str(token)
        return None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._usable(self.creds)
        if token is None:
            token = yield from self._renew(stale=None)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            # Expired or revoked early: renew once and send again (a second 401 stands).
            token = yield from self._renew(stale=token)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request

    def _renew(self, *, stale: str | None) -> Generator[httpx.Request, httpx.Response, str]:
        with transaction.atomic():
            row = Connection.objects.select_for_update().get(pk=self.connection_id)
            creds = dict(row.credentials)
            current = self._usable(creds)
            if current and current != stale:
                # Another process renewed it while this one waited for the row.
                self.creds = creds
                return current
            refresh_token = str(creds.get("refresh_token") or "")
            if not refresh_token:
                raise SignInRefused(
                    "The Brightpearl connection has no refresh token: enter one on the "
                    "connection's page.",
                    vendor="brightpearl",
                )
            form = {
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": self.client_id,
            }
            if self.client_secret:
                form["client_secret"] = self.client_secret
            response = yield httpx.Request(
                "POST", self.token_url, data=form, headers={"Accept": "application/json"}
            )
            body = _json(response)
            if response.status_code >= 500:
                raise TransientError(
                    f"Brightpearl's token endpoint had a temporary failure "
                    f"(HTTP {response.status_code}).",
                    vendor="brightpearl",
                    status=response.status_code,
                )
            if response.status_code != 200 or not body.get("access_token"):
                said = " ".join(
                    str(body.get(k)) for k in ("error", "error_description") if body.get(k)
                )
                raise SignInRefused(
                    "Brightpearl refused to renew the OAuth sign-in. The app may have been "
                    "uninstalled or its approval withdrawn: approve the app in Brightpearl "
                    "again and enter the new refresh token.",
                    vendor="brightpearl",
                    status=response.status_code,
                    code=str(body.get("error") or ""),
                    vendor_message=said,
                )
            token = str(body["access_token"])
            creds[ACCESS_TOKEN] = token
            life = float(body.get("expires_in") or 0)
            creds[RENEW_AT] = self.clock() + life - min(MARGIN_SECONDS, life / 10)
            if body.get("refresh_token"):
                creds["refresh_token"] = str(body["refresh_token"])
            if body.get("api_domain"):
                creds[API_DOMAIN] = str(body["api_domain"])
            row.credentials = creds
            row.save(update_fields=["credentials_token"])
        self.creds = creds
        self.renewals += 1
        if self.on_token:
            self.on_token(token)
            self.on_token(creds["refresh_token"])
        return token


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}

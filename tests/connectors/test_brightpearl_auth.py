"""Brightpearl's three kinds of sign-in (issue 16, "Brightpearl auth"), replayed through
httpx.MockTransport with the documented headers and the recorded token answers:
- a staff token: brightpearl-app-ref + brightpearl-staff-token (help article 4414311366545);
- OAuth: Bearer + brightpearl-app-ref + brightpearl-dev-ref (help article 4414330000657), the
  token renewed at oauth.brightpearlapp.com/token/{account}, form-encoded
  (api-docs.brightpearl.com/utilities/oauth-token/post.html);
- an account token, for the brands saved before the choice existed."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from connectors.brightpearl.oauth import ACCESS_TOKEN, RENEW_AT
from connectors.errors import AuthError, ConfigurationError
from connectors.models import Connection
from connectors.registry import connector_for

pytestmark = pytest.mark.django_db

PAYLOADS = Path(__file__).parents[1] / "sandbox" / "payloads"
# Recorded: ruby-brightpearl spec/fixtures/auth_use_refresh_token.yml (2022).
RENEWED = json.loads((PAYLOADS / "brightpearl_oauth_refresh_response.json").read_text())
INVALID_GRANT = json.loads((PAYLOADS / "brightpearl_oauth_error_invalid_grant.json").read_text())
EXPIRED = json.loads((PAYLOADS / "brightpearl_error_token_expired.json").read_text())
ORDERS = {"response": [{"id": 5}]}
REFRESH = "A1iWFfpSuQADO7895Y4eJDv42ZzIDvD0oOhHNIFM0Po="


def bp(brand, creds: dict, **settings) -> Connection:
    return Connection.objects.create(
        brand=brand,
        system="brightpearl",
        base_url="https://euw1.brightpearlconnect.com",
        credentials=creds,
        settings={"account": "acme", **settings},
    )


def oauth(brand, **creds) -> Connection:
    return bp(
        brand,
        {"app_ref": "acme_console", "dev_ref": "agencydev", "refresh_token": REFRESH, **creds},
        auth="oauth",
    )


class Vendor:
    """Brightpearl's API and token endpoint, answering from scripts, recording every call."""

    def __init__(self, api: list[httpx.Response], token: list[httpx.Response] | None = None):
        self.api, self.token = list(api), list(token or [])
        self.calls: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        # A copy: a request sent again after a 401 is the same object with a new header.
        self.calls.append(
            httpx.Request(
                request.method, request.url, headers=dict(request.headers), content=request.content
            )
        )
        if request.url.host == "oauth.brightpearlapp.com":
            return self.token.pop(0)
        return self.api.pop(0)

    def token_calls(self) -> list[httpx.Request]:
        return [c for c in self.calls if c.url.host == "oauth.brightpearlapp.com"]

    def api_calls(self) -> list[httpx.Request]:
        return [c for c in self.calls if c.url.host != "oauth.brightpearlapp.com"]


def test_a_staff_token_is_sent_as_brightpearl_documents_it(brand_a):
    conn = bp(brand_a, {"app_ref": "acme_console", "staff_token": "staff-1"}, auth="staff_token")
    vendor = Vendor([httpx.Response(200, json=ORDERS)])
    with connector_for(conn, transport=httpx.MockTransport(vendor)) as api:
        assert [o["id"] for o in api.orders([5])] == [5]
    [call] = vendor.calls
    assert call.headers["brightpearl-app-ref"] == "acme_console"
    assert call.headers["brightpearl-staff-token"] == "staff-1"
    assert "brightpearl-account-token" not in call.headers
    assert "authorization" not in call.headers


def test_a_brand_saved_before_the_choice_keeps_its_account_token(brand_a):
    conn = bp(brand_a, {"app_ref": "acme_console", "account_token": "legacy"})
    vendor = Vendor([httpx.Response(200, json=ORDERS)])
    with connector_for(conn, transport=httpx.MockTransport(vendor)) as api:
        list(api.orders([5]))
    assert vendor.calls[0].headers["brightpearl-account-token"] == "legacy"
    assert "brightpearl-staff-token" not in vendor.calls[0].headers


def test_a_kind_missing_its_credential_is_a_configuration_error_naming_it(brand_a):
    conn = bp(brand_a, {"app_ref": "acme_console", "account_token": "x"}, auth="staff_token")
    with pytest.raises(ConfigurationError, match="Staff token"):
        connector_for(conn)
    conn.settings = {"account": "acme", "auth": "password"}
    conn.save()
    with pytest.raises(ConfigurationError, match="“password”"):
        connector_for(conn)


def test_oauth_renews_the_token_form_encoded_then_sends_it_as_a_bearer(brand_a):
    conn = oauth(brand_a, client_secret="s3cret")
    vendor = Vendor([httpx.Response(200, json=ORDERS)], [httpx.Response(200, json=RENEWED)])
    with connector_for(conn, transport=httpx.MockTransport(vendor)) as api:
        list(api.orders([5]))

    [renewal] = vendor.token_calls()
    assert str(renewal.url) == "https://oauth.brightpearlapp.com/token/acme"
    assert renewal.method == "POST"
    assert renewal.headers["content-type"] == "application/x-www-form-urlencoded"
    form = {k: v[0] for k, v in parse_qs(renewal.content.decode()).items()}
    assert form == {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH,
        "client_id": "acme_console",
        "client_secret": "s3cret",
    }
    [call] = vendor.api_calls()
    assert call.headers["authorization"] == f"Bearer {RENEWED['access_token']}"
    assert call.headers["brightpearl-app-ref"] == "acme_console"
    assert call.headers["brightpearl-dev-ref"] == "agencydev"
    # Kept on the connection, encrypted: the new token, when it ends, and the rotated refresh
    # token (the one just used may not be accepted again).
    conn.refresh_from_db()
    saved = conn.credentials
    assert saved[ACCESS_TOKEN] == RENEWED["access_token"]
    assert saved["refresh_token"] == RENEWED["refresh_token"]
    assert float(saved[RENEW_AT]) == pytest.approx(time.time() + 537227 - 60, abs=5)
    assert RENEWED["access_token"] not in conn.credentials_token


def test_every_process_reuses_the_saved_token_until_it_is_about_to_expire(brand_a):
    conn = oauth(brand_a, **{ACCESS_TOKEN: "saved", RENEW_AT: str(time.time() + 3600)})
    vendor = Vendor([httpx.Response(200, json=ORDERS)])
    with connector_for(conn, transport=httpx.MockTransport(vendor)) as api:
        list(api.orders([5]))
    assert vendor.token_calls() == []
    assert vendor.calls[0].headers["authorization"] == "Bearer saved"

    conn.credentials = {**conn.credentials, RENEW_AT: str(time.time() - 1)}
    conn.save()
    vendor = Vendor([httpx.Response(200, json=ORDERS)], [httpx.Response(200, json=RENEWED)])
    with connector_for(conn, transport=httpx.MockTransport(vendor)) as api:
        list(api.orders([5]))
    assert len(vendor.token_calls()) == 1, "due for renewal: renewed first"


def test_a_401_renews_once_and_the_request_goes_again(brand_a):
    conn = oauth(brand_a, **{ACCESS_TOKEN: "revoked", RENEW_AT: str(time.time() + 3600)})
    vendor = Vendor(
        [httpx.Response(401, json=EXPIRED), httpx.Response(200, json=ORDERS)],
        [httpx.Response(200, json=RENEWED)],
    )
    with connector_for(conn, transport=httpx.MockTransport(vendor)) as api:
        assert [o["id"] for o in api.orders([5])] == [5]
    first, second = vendor.api_calls()
    assert first.headers["authorization"] == "Bearer revoked"
    assert second.headers["authorization"] == f"Bearer {RENEWED['access_token']}"


def test_a_second_401_after_renewing_stands(brand_a):
    conn = oauth(brand_a, **{ACCESS_TOKEN: "revoked", RENEW_AT: str(time.time() + 3600)})
    vendor = Vendor(
        [httpx.Response(401, json=EXPIRED), httpx.Response(401, json=EXPIRED)],
        [httpx.Response(200, json=RENEWED)],
    )
    with (
        connector_for(conn, transport=httpx.MockTransport(vendor)) as api,
        pytest.raises(AuthError, match="OAuth"),
    ):
        list(api.orders([5]))
    assert len(vendor.token_calls()) == 1 and len(vendor.api_calls()) == 2


def test_a_refused_renewal_says_what_to_do_and_never_shows_the_token(brand_a):
    conn = oauth(brand_a)
    vendor = Vendor([], [httpx.Response(400, json=INVALID_GRANT)])
    with (
        connector_for(conn, transport=httpx.MockTransport(vendor)) as api,
        pytest.raises(AuthError) as refused,
    ):
        list(api.orders([5]))
    error = refused.value
    assert error.code == "invalid_grant"
    assert "approve the app in Brightpearl again" in error.plain
    assert REFRESH not in f"{error} {error.plain} {error.details}"
    assert vendor.api_calls() == [], "nothing is sent without a token"
    conn.refresh_from_db()
    assert conn.credentials["refresh_token"] == REFRESH, "nothing saved from a refusal"

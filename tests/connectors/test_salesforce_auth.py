"""Salesforce sign-in (issue 15, "Auth that works against a real org"), replayed through
httpx.MockTransport with the documented shapes: the token endpoint on the org's My Domain
address, form-encoded; the client-credentials and JWT bearer grants; 400
{"error", "error_description"} refusals; 401 INVALID_SESSION_ID when a session ends."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import parse_qs

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from connectors.errors import AuthError, ConfigurationError, TransientError
from connectors.forms import connection_form_class
from connectors.models import Connection
from connectors.registry import connector_for
from connectors.salesforce.auth import ACCESS_TOKEN, INSTANCE_URL
from connectors.services import connection_test

pytestmark = pytest.mark.django_db

MY_DOMAIN = "https://acme.my.salesforce.com"
# The documented success answer (client credentials: developer.salesforce.com, "Connect to
# Salesforce" quick start); no lifetime in it.
TOKEN = {
    "access_token": "00D5g000004Ezt2!AQ4AQ.token.one",
    "signature": "c2lnbmF0dXJl",
    "scope": "api",
    "instance_url": MY_DOMAIN,
    "id": "https://login.salesforce.com/id/00D5g000004Ezt2EAC/0055g00000D5HgzAAF",
    "token_type": "Bearer",
    "issued_at": "1733340000000",
}
# Resources by Version (a part), with the allocation used on the day in its header.
RESOURCES = {"sobjects": "/services/data/v61.0/sobjects", "query": "/services/data/v61.0/query"}
USAGE = {"Sforce-Limit-Info": "api-usage=10/15000"}


def resources() -> httpx.Response:
    return httpx.Response(200, json=RESOURCES, headers=USAGE)


EXPIRED = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def sf(brand, creds: dict | None = None, base_url: str = MY_DOMAIN, **settings) -> Connection:
    return Connection.objects.create(
        brand=brand,
        system="salesforce",
        base_url=base_url,
        credentials=creds or {"client_id": "3MVG9.key", "client_secret": "S3CRET"},
        settings=settings,
    )


class Org:
    """The org's token endpoint and REST API, answering from scripts, recording every call."""

    def __init__(self, api: list[httpx.Response], token: list[httpx.Response] | None = None):
        self.api, self.token = list(api), list(token or [])
        self.calls: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.calls.append(
            httpx.Request(
                request.method, request.url, headers=dict(request.headers), content=request.content
            )
        )
        if request.url.path == "/services/oauth2/token":
            return self.token.pop(0)
        return self.api.pop(0)

    def token_calls(self) -> list[httpx.Request]:
        return [c for c in self.calls if c.url.path == "/services/oauth2/token"]

    def api_calls(self) -> list[httpx.Request]:
        return [c for c in self.calls if c.url.path != "/services/oauth2/token"]


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def test_client_credentials_go_form_encoded_to_my_domain_and_the_token_is_kept(brand_a):
    conn = sf(brand_a)
    org = Org([resources()], [httpx.Response(200, json=TOKEN)])
    with connector_for(conn, transport=httpx.MockTransport(org)) as api:
        assert api.check() == (
            "Signed in to Salesforce: 14,990 API requests left today "
            "(10 of 15,000 used in the last 24 hours)."
        )
    [token_call] = org.token_calls()
    assert str(token_call.url) == f"{MY_DOMAIN}/services/oauth2/token"
    assert token_call.headers["content-type"] == "application/x-www-form-urlencoded"
    assert form(token_call) == {
        "grant_type": "client_credentials",
        "client_id": "3MVG9.key",
        "client_secret": "S3CRET",
    }
    [call] = org.api_calls()
    assert str(call.url) == f"{MY_DOMAIN}/services/data/v61.0"
    assert call.headers["authorization"] == f"Bearer {TOKEN['access_token']}"

    conn.refresh_from_db()
    assert conn.credentials[ACCESS_TOKEN] == TOKEN["access_token"]
    # Another process: the saved token, and no second sign-in.
    again = Org([resources()])
    with connector_for(conn, transport=httpx.MockTransport(again)) as api:
        api.check()
    assert again.token_calls() == []


def test_calls_go_to_the_instance_url_the_token_names(brand_a):
    conn = sf(brand_a)
    elsewhere = {**TOKEN, "instance_url": "https://acme--c.na139.my.salesforce.com"}
    org = Org([resources()], [httpx.Response(200, json=elsewhere)])
    with connector_for(conn, transport=httpx.MockTransport(org)) as api:
        api.check()
    [call] = org.api_calls()
    assert str(call.url) == "https://acme--c.na139.my.salesforce.com/services/data/v61.0"
    assert call.headers["host"] == "acme--c.na139.my.salesforce.com"
    conn.refresh_from_db()
    assert conn.credentials[INSTANCE_URL] == "https://acme--c.na139.my.salesforce.com"


def test_an_expired_session_is_renewed_once_and_the_call_sent_again(brand_a):
    conn = sf(
        brand_a, {"client_id": "3MVG9.key", "client_secret": "S3CRET", ACCESS_TOKEN: "old-token"}
    )
    renewed = {**TOKEN, "access_token": "new-token"}
    org = Org(
        [httpx.Response(401, json=EXPIRED), resources()],
        [httpx.Response(200, json=renewed)],
    )
    with connector_for(conn, transport=httpx.MockTransport(org)) as api:
        api.check()
    first, second = org.api_calls()
    assert first.headers["authorization"] == "Bearer old-token"
    assert second.headers["authorization"] == "Bearer new-token"
    assert len(org.token_calls()) == 1
    conn.refresh_from_db()
    assert conn.credentials[ACCESS_TOKEN] == "new-token"


def test_a_401_after_a_fresh_token_is_a_plain_auth_error_not_a_loop(brand_a):
    conn = sf(
        brand_a, {"client_id": "3MVG9.key", "client_secret": "S3CRET", ACCESS_TOKEN: "old-token"}
    )
    org = Org(
        [httpx.Response(401, json=EXPIRED), httpx.Response(401, json=EXPIRED)],
        [httpx.Response(200, json={**TOKEN, "access_token": "new-token"})],
    )
    with connector_for(conn, transport=httpx.MockTransport(org)) as api:
        with pytest.raises(AuthError) as raised:
            api.check()
    assert len(org.token_calls()) == 1 and len(org.api_calls()) == 2
    assert "even with a fresh sign-in" in raised.value.plain
    assert "Session expired or invalid" in raised.value.plain
    assert "new-token" not in str(raised.value.details)


@pytest.mark.parametrize(
    "answer, words",
    [
        (
            {"error": "invalid_client", "error_description": "invalid client credentials"},
            "copy both again",
        ),
        (
            {"error": "invalid_grant", "error_description": "no client credentials user enabled"},
            "Run As user",
        ),
        (
            {"error": "invalid_grant", "error_description": "request not supported on this domain"},
            "My Domain",
        ),
    ],
)
def test_a_refused_sign_in_shows_salesforces_error_and_description_in_plain_words(
    brand_a, answer, words
):
    conn = sf(brand_a)
    org = Org([], [httpx.Response(400, json=answer)])
    ok, message = connection_test(connection=conn, transport=httpx.MockTransport(org))
    assert not ok
    assert message.startswith("Salesforce refused the sign-in (client credentials).")
    assert f"“{answer['error']} — {answer['error_description']}”" in message
    assert words in message
    assert "S3CRET" not in message
    conn.refresh_from_db()
    assert conn.last_error == message and ACCESS_TOKEN not in conn.credentials


def test_a_failing_token_endpoint_is_temporary(brand_a):
    conn = sf(brand_a)
    org = Org([], [httpx.Response(503, text="Service Unavailable")] * 2)
    with connector_for(conn, transport=httpx.MockTransport(org), max_attempts=1) as api:
        with pytest.raises(TransientError):
            api.check()


# --- the address: My Domain, and why -------------------------------------------------------


@pytest.mark.parametrize(
    "url, kind, words",
    [
        ("https://login.salesforce.com", "client_credentials", "shared login page"),
        ("https://test.salesforce.com", "client_credentials", "shared login page"),
        ("https://acme.lightning.force.com", "client_credentials", "acme.my.salesforce.com"),
        ("http://acme.my.salesforce.com", "client_credentials", "https"),
        ("https://acme.salesforce.com", "client_credentials", "not a My Domain address"),
        ("https://acme.my.salesforce.com/services", "jwt_bearer", "not a My Domain address"),
        ("https://yourcompany.my.salesforce.com", "client_credentials", "yourcompany"),
    ],
)
def test_an_address_that_is_not_my_domain_is_refused_with_the_reason(brand_a, url, kind, words):
    creds = {"client_id": "k", "client_secret": "s", "username": "u", "private_key": "x"}
    conn = sf(brand_a, creds, base_url=url, auth=kind)
    with pytest.raises(ConfigurationError) as raised:
        connector_for(conn)
    assert words in raised.value.plain
    Form = connection_form_class(("salesforce",))
    bound = Form(
        {
            "brand": brand_a.pk,
            "system": "salesforce",
            "base_url": url,
            "settings": json.dumps({"auth": kind}),
            "credential__salesforce__client_id": "k",
            "credential__salesforce__client_secret": "s",
            "credential__salesforce__username": "u",
            "credential__salesforce__private_key": "x",
        }
    )
    assert not bound.is_valid()
    assert words in " ".join(bound.errors["base_url"])


@pytest.mark.parametrize(
    "url, kind",
    [
        ("https://acme.my.salesforce.com", "client_credentials"),
        ("https://acme--uat.sandbox.my.salesforce.com/", "client_credentials"),
        ("https://login.salesforce.com", "jwt_bearer"),
        ("http://127.0.0.1:8765/salesforce", "client_credentials"),
    ],
)
def test_my_domain_addresses_and_the_sandbox_are_taken(brand_a, url, kind):
    creds = {"client_id": "k", "client_secret": "s", "username": "u", "private_key": "x"}
    connector_for(sf(brand_a, creds, base_url=url, auth=kind)).close()


# --- JWT bearer ------------------------------------------------------------------------------


def keypair() -> tuple[str, rsa.RSAPublicKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return pem, key.public_key()


def decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


@pytest.mark.parametrize(
    "base_url, audience",
    [
        (MY_DOMAIN, "https://login.salesforce.com"),
        ("https://acme--uat.sandbox.my.salesforce.com", "https://test.salesforce.com"),
    ],
)
def test_jwt_bearer_sends_an_rs256_assertion_with_the_documented_claims(
    brand_a, base_url, audience
):
    pem, public = keypair()
    creds = {"client_id": "3MVG9.key", "username": "integration@acme.com", "private_key": pem}
    conn = sf(brand_a, creds, base_url=base_url, auth="jwt_bearer")
    org = Org([resources()], [httpx.Response(200, json=TOKEN)])
    before = time.time()
    with connector_for(conn, transport=httpx.MockTransport(org)) as api:
        api.check()
    [token_call] = org.token_calls()
    assert str(token_call.url) == f"{base_url}/services/oauth2/token"
    sent = form(token_call)
    assert sent["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert "client_secret" not in sent
    header, claims, signature = sent["assertion"].split(".")
    assert json.loads(decode(header)) == {"alg": "RS256"}
    body = json.loads(decode(claims))
    assert {k: body[k] for k in ("iss", "sub", "aud")} == {
        "iss": "3MVG9.key",
        "sub": "integration@acme.com",
        "aud": audience,
    }
    assert before + 170 <= body["exp"] <= time.time() + 180, "at most three minutes ahead"
    # Raises InvalidSignature unless it is RS256 (PKCS#1 v1.5, SHA-256) by the key's pair.
    public.verify(
        decode(signature), f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )


def test_a_private_key_pasted_without_its_line_breaks_still_signs(brand_a):
    pem, public = keypair()
    flat = pem.replace("\n", " ")
    creds = {"client_id": "k", "username": "u", "private_key": flat}
    conn = sf(brand_a, creds, auth="jwt_bearer")
    org = Org([resources()], [httpx.Response(200, json=TOKEN)])
    with connector_for(conn, transport=httpx.MockTransport(org)) as api:
        api.check()
    header, claims, signature = form(org.token_calls()[0])["assertion"].split(".")
    public.verify(
        decode(signature), f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )


def test_a_key_that_is_not_pem_is_a_configuration_error_naming_the_fix(brand_a):
    conn = sf(
        brand_a, {"client_id": "k", "username": "u", "private_key": "hunter2"}, auth="jwt_bearer"
    )
    ok, message = connection_test(connection=conn, transport=httpx.MockTransport(Org([])))
    assert not ok and "BEGIN PRIVATE KEY" in message and "hunter2" not in message


def test_jwt_bearer_needs_the_username_and_key_not_a_secret(brand_a):
    conn = sf(brand_a, {"client_id": "k", "client_secret": "s"}, auth="jwt_bearer")
    with pytest.raises(ConfigurationError) as raised:
        connector_for(conn)
    assert "Username" in raised.value.plain and "Private key" in raised.value.plain

"""Salesforce sign-in against the sandbox, over real HTTP: client credentials and JWT bearer
(the sandbox checks the RS256 signature once a certificate is uploaded), a refusal shown in
Salesforce's words, and an ended session renewed by itself."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connectors.errors import AuthError
from connectors.models import Connection
from connectors.registry import connector_for
from connectors.salesforce.auth import ACCESS_TOKEN
from connectors.sandbox.connect import connect_to_sandbox
from connectors.services import connection_test
from tests.fixtures import loopback

pytestmark = pytest.mark.django_db(transaction=True)


def salesforce(brand, sandbox) -> Connection:
    conns = connect_to_sandbox(brand, sandbox.discovery())
    return next(c for c in conns if c.system == "salesforce")


def pem_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def jwt_connection(conn: Connection, sandbox, private_key: str) -> Connection:
    entry = sandbox.discovery()["accounts"]["demo"]["salesforce"]
    conn.credentials = {
        "client_id": entry["client_id"],
        "username": entry["username"],
        "private_key": private_key,
    }
    conn.settings = {"auth": "jwt_bearer"}
    conn.save()
    return conn


def test_client_credentials_sign_in_and_a_wrong_secret_shows_salesforces_words(sandbox, brand_a):
    conn = salesforce(brand_a, sandbox)
    ok, message = connection_test(connection=conn)
    assert ok, message
    assert "API requests left today" in message
    conn.refresh_from_db()
    conn.credentials = {**conn.credentials, "client_secret": "NOT-THE-SECRET", ACCESS_TOKEN: ""}
    conn.save()
    ok, message = connection_test(connection=conn)
    assert not ok
    assert "“invalid_client — invalid client credentials”" in message
    assert "NOT-THE-SECRET" not in message


def test_an_ended_session_is_renewed_by_itself(sandbox, brand_a):
    conn = salesforce(brand_a, sandbox)
    with connector_for(conn) as api:
        api.check()
    conn.refresh_from_db()
    first = conn.credentials[ACCESS_TOKEN]
    loopback.post(f"{sandbox.url}/_sandbox/salesforce/expire-tokens", json={}).raise_for_status()
    with connector_for(conn) as api:
        api.check()
        assert api.oauth is not None and api.oauth.renewals == 1
    conn.refresh_from_db()
    assert conn.credentials[ACCESS_TOKEN] != first


def test_jwt_bearer_signs_in_with_the_key_of_the_uploaded_certificate(sandbox, brand_a):
    private, public = pem_pair()
    loopback.post(
        f"{sandbox.url}/_sandbox/salesforce/jwt-certificate", json={"public_key": public}
    ).raise_for_status()
    conn = jwt_connection(salesforce(brand_a, sandbox), sandbox, private)
    ok, message = connection_test(connection=conn)
    assert ok, message

    other_private, _ = pem_pair()
    conn = jwt_connection(conn, sandbox, other_private)
    ok, message = connection_test(connection=conn)
    assert not ok
    assert "“invalid_grant — invalid assertion”" in message
    assert "certificate uploaded" in message


def test_jwt_bearer_for_a_user_the_org_does_not_know_is_refused(sandbox, brand_a):
    private, _ = pem_pair()
    conn = jwt_connection(salesforce(brand_a, sandbox), sandbox, private)
    conn.credentials = {**conn.credentials, "username": "someone@else.example"}
    conn.save()
    with pytest.raises(AuthError) as raised, connector_for(conn) as api:
        api.check()
    assert "user hasn't approved this consumer" in raised.value.plain
    assert "pre-authorized" in raised.value.plain


def test_jwt_bearer_with_a_wrong_audience_is_refused_in_the_documented_words(sandbox, brand_a):
    private, _ = pem_pair()
    conn = jwt_connection(salesforce(brand_a, sandbox), sandbox, private)
    conn.settings = {**conn.settings, "jwt_audience": "https://acme.example.com"}
    conn.save()
    ok, message = connection_test(connection=conn)
    assert not ok
    assert "“invalid_grant — Audience validation failed”" in message
    assert "leave it blank" in message

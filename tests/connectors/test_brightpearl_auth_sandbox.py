"""Brightpearl's staff token and OAuth against the sandbox, over real HTTP: the console signs
in, renews an expired token by itself, keeps the rotated refresh token, and every process uses
the token one of them renewed."""

from __future__ import annotations

import time

import pytest

from connectors.brightpearl.oauth import ACCESS_TOKEN
from connectors.errors import AuthError
from connectors.models import Connection
from connectors.registry import connector_for
from connectors.sandbox.connect import connect_to_sandbox
from connectors.services import connection_test

pytestmark = pytest.mark.django_db(transaction=True)


def brightpearl(brand, sandbox, kind: str) -> Connection:
    conns = connect_to_sandbox(brand, sandbox.discovery(), brightpearl_auth=kind)
    return next(c for c in conns if c.system == "brightpearl")


def token_calls(sandbox) -> list[dict]:
    return [w for w in sandbox.writes(vendor="brightpearl")["items"] if "/token/" in w["path"]]


def test_a_staff_token_connection_tests_green_and_a_wrong_one_red(sandbox, brand_a):
    conn = brightpearl(brand_a, sandbox, "staff_token")
    ok, message = connection_test(connection=conn)
    assert ok, message
    conn.credentials = {**conn.credentials, "staff_token": "revoked-staff-token"}
    conn.save()
    ok, message = connection_test(connection=conn)
    assert not ok and "staff token" in message


def test_oauth_signs_in_renews_an_expired_token_and_keeps_the_new_refresh_token(sandbox, brand_a):
    sandbox.configure(settings={"brightpearl_oauth_expires_in": 2})
    conn = brightpearl(brand_a, sandbox, "oauth")
    first_refresh = conn.credentials["refresh_token"]
    ok, message = connection_test(connection=conn)
    assert ok, message
    conn.refresh_from_db()
    token, refresh = conn.credentials[ACCESS_TOKEN], conn.credentials["refresh_token"]
    assert refresh != first_refresh, "the rotated refresh token replaced the used one"

    with connector_for(conn) as bp:  # another process: the saved token, no renewal
        bp.order_statuses()
    assert len(token_calls(sandbox)) == 1

    time.sleep(2.1)  # the token has expired at Brightpearl
    with connector_for(conn) as bp:
        assert bp.order_statuses()
    conn.refresh_from_db()
    assert conn.credentials[ACCESS_TOKEN] != token
    assert conn.credentials["refresh_token"] not in (first_refresh, refresh)
    assert len(token_calls(sandbox)) == 2


def test_a_token_revoked_early_is_renewed_after_its_401(sandbox, brand_a):
    conn = brightpearl(brand_a, sandbox, "oauth")
    assert connection_test(connection=conn)[0]
    conn.refresh_from_db()
    conn.credentials = {**conn.credentials, ACCESS_TOKEN: "revoked-early"}
    conn.save()
    with connector_for(conn) as bp:
        assert bp.order_statuses()
    conn.refresh_from_db()
    assert conn.credentials[ACCESS_TOKEN] != "revoked-early"


def test_an_oauth_approval_withdrawn_fails_with_what_to_do(sandbox, brand_a):
    conn = brightpearl(brand_a, sandbox, "oauth")
    conn.credentials = {**conn.credentials, "refresh_token": "withdrawn"}
    conn.save()
    with pytest.raises(AuthError) as refused, connector_for(conn) as bp:
        bp.order_statuses()
    assert refused.value.code == "invalid_grant"
    ok, message = connection_test(connection=conn)
    assert not ok and "approve the app in Brightpearl again" in message

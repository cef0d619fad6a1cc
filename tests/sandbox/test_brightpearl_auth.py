"""The Brightpearl fake's sign-ins: a staff token, an account token, and OAuth with its token
endpoint (api-docs.brightpearl.com/utilities/oauth-token/post.html), against the recordings."""

from __future__ import annotations

import time

import httpx

from tests.fixtures import loopback
from tests.sandbox.conftest import assert_shape, brightpearl, payload


def entry(sandbox, account: str = "demo") -> dict:
    return sandbox.discovery()["accounts"][account]["brightpearl"]


def api(sandbox, headers: dict) -> httpx.Client:
    bp = entry(sandbox)
    return httpx.Client(base_url=f"{bp['base_url']}/public-api/{bp['account']}", headers=headers)


def renew(sandbox, refresh_token: str, **extra) -> httpx.Response:
    bp = entry(sandbox)
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": bp["headers"]["brightpearl-app-ref"],
        **extra,
    }
    return loopback.post(bp["oauth_token_url"], data=form)


def test_a_staff_token_signs_in_and_a_wrong_one_is_refused_like_the_recording(sandbox):
    staff = entry(sandbox)["staff"]
    assert api(sandbox, staff).get("/order-service/order-status").status_code == 200
    wrong = api(sandbox, {**staff, "brightpearl-staff-token": "nope"}).get(
        "/order-service/order-status"
    )
    assert wrong.status_code == 401
    assert wrong.json() == {"response": "Invalid instance token: nope"}  # client_error_invalid


def test_the_token_endpoint_renews_form_encoded_with_the_recorded_shape(sandbox):
    bp = entry(sandbox)
    answer = renew(sandbox, bp["refresh_token"])
    assert answer.status_code == 200
    assert_shape(answer.json(), payload("brightpearl_oauth_refresh_response.json"))
    token = answer.json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 604_800
    assert token["refresh_token"] != bp["refresh_token"], "a new refresh token each time"
    headers = {
        "Authorization": f"Bearer {token['access_token']}",
        "brightpearl-app-ref": bp["headers"]["brightpearl-app-ref"],
        "brightpearl-dev-ref": bp["oauth"]["brightpearl-dev-ref"],
    }
    assert api(sandbox, headers).get("/order-service/order-status").status_code == 200
    # The token endpoint is not the API: it spends none of the 200 a minute.
    assert "brightpearl-requests-remaining" not in answer.headers


def test_a_used_refresh_token_a_wrong_client_or_a_json_body_is_refused(sandbox):
    bp = entry(sandbox)
    assert renew(sandbox, bp["refresh_token"]).status_code == 200
    again = renew(sandbox, bp["refresh_token"])
    assert again.status_code == 400
    assert_shape(again.json(), payload("brightpearl_oauth_error_invalid_grant.json"))
    assert again.json()["error"] == "invalid_grant"
    client = renew(sandbox, "x", client_id="someone_else")
    assert (client.status_code, client.json()) == (
        400,
        payload("brightpearl_oauth_error_invalid_client.json"),
    )
    as_json = loopback.post(bp["oauth_token_url"], json={"grant_type": "refresh_token"})
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"


def test_an_expired_access_token_gets_the_recorded_401(sandbox):
    sandbox.configure(settings={"brightpearl_oauth_expires_in": 1})
    bp = entry(sandbox)
    token = renew(sandbox, bp["refresh_token"]).json()["access_token"]
    headers = {
        "Authorization": f"Bearer {token}",
        "brightpearl-app-ref": bp["headers"]["brightpearl-app-ref"],
        "brightpearl-dev-ref": bp["oauth"]["brightpearl-dev-ref"],
    }
    time.sleep(1.1)
    expired = api(sandbox, headers).get("/order-service/order-status")
    assert expired.status_code == 401
    assert expired.json() == payload("brightpearl_error_token_expired.json")


def test_the_account_token_still_signs_in(sandbox):
    assert brightpearl(sandbox).get("/order-service/order-status").status_code == 200

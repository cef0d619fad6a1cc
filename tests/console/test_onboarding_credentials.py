"""Onboarding asks which kind of Brightpearl credential the brand has (issue 16, "Brightpearl
auth"), then only what that kind needs, in plain English; each kind tests green on the
sandbox, and brands saved before the choice keep their account token."""

from __future__ import annotations

import pytest

from connectors.brightpearl.oauth import ACCESS_TOKEN
from connectors.models import Connection, Health
from tests.console.test_onboarding import credentials_form, second, staff, start, u

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]
__all__ = ["second", "staff"]  # fixtures, used by name

KIND = "brightpearl-setting__auth"
CRED = "brightpearl-credential__brightpearl__{}"


def staff_form(second: dict, **override) -> dict:
    bp = second["brightpearl"]
    return credentials_form(
        second,
        **{
            KIND: "staff_token",
            CRED.format("account_token"): None,
            CRED.format("staff_token"): bp["staff"]["brightpearl-staff-token"],
            **override,
        },
    )


def oauth_form(second: dict, **override) -> dict:
    bp = second["brightpearl"]
    return credentials_form(
        second,
        **{
            KIND: "oauth",
            CRED.format("account_token"): None,
            CRED.format("dev_ref"): bp["oauth"]["brightpearl-dev-ref"],
            CRED.format("refresh_token"): bp["refresh_token"],
            "brightpearl-setting__oauth_token_url": bp["oauth_token_url"],
            **override,
        },
    )


def test_the_page_asks_which_kind_with_a_staff_token_first_and_the_docs(client, staff):
    client.force_login(staff)
    page = client.get(u("connections", start(client))).content.decode()
    assert "Kind of credential" in page
    assert 'value="staff_token" id="id_brightpearl-setting__auth_0" checked' in page
    for link in (
        "https://help.brightpearl.com/hc/en-us/articles/4414311366545",
        "https://help.brightpearl.com/hc/en-us/articles/360032240811-OAuth-authentication",
    ):
        assert f'<a href="{link}"' in page
    assert "Manage users" in page and "OAuth only" in page


@pytest.mark.django_db(transaction=True)
def test_a_staff_token_is_asked_for_and_tests_green(client, staff, sandbox, second):
    client.force_login(staff)
    onboarding = start(client)
    page = client.post(
        u("connections", onboarding), staff_form(second, **{CRED.format("staff_token"): ""})
    ).content.decode()
    assert "Enter the Brightpearl staff token: none is saved yet." in page
    assert "account token" not in page.split("errorlist")[1][:300], "not asked for"

    client.post(u("connections", onboarding), staff_form(second))
    conn = Connection.objects.get(brand=onboarding.brand, system="brightpearl")
    assert conn.settings["auth"] == "staff_token"
    assert set(conn.credentials) == {"app_ref", "staff_token"}
    client.post(u("test", onboarding))
    conn.refresh_from_db()
    assert conn.status == Health.OK, conn.last_error


@pytest.mark.django_db(transaction=True)
def test_oauth_is_saved_and_its_test_renews_the_token(client, staff, sandbox, second):
    client.force_login(staff)
    onboarding = start(client)
    client.post(u("connections", onboarding), oauth_form(second))
    conn = Connection.objects.get(brand=onboarding.brand, system="brightpearl")
    assert conn.settings["auth"] == "oauth"
    client.post(u("test", onboarding))
    conn.refresh_from_db()
    assert conn.status == Health.OK, conn.last_error
    assert conn.credentials[ACCESS_TOKEN]
    assert conn.credentials["refresh_token"] != second["brightpearl"]["refresh_token"]

    # Saving the page again unchanged keeps the token the console renewed.
    client.post(
        u("connections", onboarding), oauth_form(second, **{CRED.format("refresh_token"): ""})
    )
    conn.refresh_from_db()
    assert conn.credentials[ACCESS_TOKEN] and conn.status == Health.OK


@pytest.mark.django_db(transaction=True)
def test_a_brand_moving_to_a_staff_token_no_longer_keeps_its_account_token(
    client, staff, sandbox, second
):
    client.force_login(staff)
    onboarding = start(client)
    client.post(u("connections", onboarding), credentials_form(second))
    conn = Connection.objects.get(brand=onboarding.brand, system="brightpearl")
    assert "account_token" in conn.credentials and "auth" not in conn.settings
    page = client.get(u("connections", onboarding)).content.decode()
    assert 'value="account_token" id="id_brightpearl-setting__auth_2" checked' in page

    client.post(u("connections", onboarding), staff_form(second))
    conn.refresh_from_db()
    assert "account_token" not in conn.credentials, "a secret no longer used is not kept"
    assert conn.settings["auth"] == "staff_token"

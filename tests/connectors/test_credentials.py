"""Credentials: encrypted at rest, write-only in forms, never printed, rotatable."""

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import call_command
from django.db import connection as db
from django.test import override_settings
from django.urls import reverse

from brands.models import AuditEvent
from connectors.crypto import CredentialKeyError
from connectors.models import Connection

pytestmark = pytest.mark.django_db(transaction=True)

CANARY = "canary-5f0e2b7c-never-in-plain-text"


def make_connection(brand, **creds) -> Connection:
    return Connection.objects.create(
        brand=brand,
        system="brightpearl",
        base_url="https://euw1.brightpearlconnect.com",
        credentials=creds or {"app_ref": "acme_console", "account_token": CANARY},
        settings={"account": "acme"},
    )


def test_round_trip(brand_a):
    conn = make_connection(brand_a)
    fresh = Connection.objects.get(pk=conn.pk)
    assert fresh.credentials == {"app_ref": "acme_console", "account_token": CANARY}
    assert CANARY not in fresh.credentials_token


def test_canary_never_stored_in_plain_text(brand_a):
    make_connection(brand_a)
    if db.vendor == "sqlite":
        # Everything SQLite holds, main file and write-ahead log together.
        db.close()
        path = Path(settings.DATABASES["default"]["NAME"])
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert b"acme_console" not in raw
        assert CANARY.encode() not in raw
        assert b"euw1.brightpearlconnect.com" in raw, "the read found the row's other values"
    else:
        with db.cursor() as cur:
            cur.execute("SELECT t::text FROM connectors_connection t")
            rows = " ".join(r[0] for r in cur.fetchall())
        assert "euw1.brightpearlconnect.com" in rows
        assert CANARY not in rows and "acme_console" not in rows


def test_secrets_never_in_repr_str_or_logs(brand_a, caplog):
    conn = make_connection(brand_a)
    creds = conn.credentials
    caplog.set_level(logging.DEBUG)
    logging.getLogger("test").info("connection %r creds %s %r", conn, creds, creds)
    for text in (repr(conn), str(conn), repr(creds), str(creds), caplog.text):
        assert CANARY not in text
    assert "account_token" in repr(creds)


def test_wrong_key_raises_a_clear_error_not_ciphertext(brand_a):
    conn = make_connection(brand_a)
    with override_settings(CREDENTIAL_KEYS=[Fernet.generate_key().decode()]):
        fresh = Connection.objects.get(pk=conn.pk)
        with pytest.raises(CredentialKeyError, match="cannot be decrypted"):
            fresh.credentials  # noqa: B018


def test_missing_key_raises_a_clear_error(brand_a):
    conn = make_connection(brand_a)
    with (
        override_settings(CREDENTIAL_KEYS=[]),
        pytest.raises(CredentialKeyError, match="No credential key"),
    ):
        Connection.objects.get(pk=conn.pk).credentials  # noqa: B018


def test_malformed_key_raises_a_clear_error(brand_a):
    with (
        override_settings(CREDENTIAL_KEYS=["not-a-key"]),
        pytest.raises(CredentialKeyError, match="not a Fernet key"),
    ):
        make_connection(brand_a)


def test_rotation_then_old_key_removed(brand_a, brand_b):
    old = settings.CREDENTIAL_KEYS[0]
    new = Fernet.generate_key().decode()
    a = make_connection(brand_a)
    b = make_connection(brand_b, app_ref="bravo", account_token="bravo-token")
    before = {c.pk: c.credentials_token for c in Connection.objects.all()}
    with override_settings(CREDENTIAL_KEYS=[new, old]):
        call_command("rotate_credentials", stdout=io.StringIO())
    with override_settings(CREDENTIAL_KEYS=[new]):
        assert Connection.objects.get(pk=a.pk).credentials["account_token"] == CANARY
        assert Connection.objects.get(pk=b.pk).credentials["account_token"] == "bravo-token"
    for c in Connection.objects.all():
        assert c.credentials_token != before[c.pk]
    # The old key alone can no longer read them.
    with override_settings(CREDENTIAL_KEYS=[old]), pytest.raises(CredentialKeyError):
        Connection.objects.get(pk=a.pk).credentials  # noqa: B018


def test_rotation_with_a_missing_old_key_changes_nothing(brand_a):
    conn = make_connection(brand_a)
    token = Connection.objects.get(pk=conn.pk).credentials_token
    with (
        override_settings(CREDENTIAL_KEYS=[Fernet.generate_key().decode()]),
        pytest.raises(CredentialKeyError),
    ):
        call_command("rotate_credentials")
    assert Connection.objects.get(pk=conn.pk).credentials_token == token


def test_admin_form_is_write_only(client, admin_user, brand_a):
    conn = make_connection(brand_a)
    client.force_login(admin_user)
    url = reverse("admin:connectors_connection_change", args=[conn.pk])
    page = client.get(url).content.decode()
    assert "Account token" in page
    assert CANARY not in page and "acme_console" not in page
    assert "A value is saved and hidden" in page

    # Saving with the secret fields blank keeps the saved secrets (same address: a path or
    # a trailing slash is not another host).
    data = {
        "brand": brand_a.pk,
        "system": "brightpearl",
        "base_url": "https://EUW1.brightpearlconnect.com:443/",
        "settings": '{"account": "acme"}',
        "credential__brightpearl__app_ref": "",
        "credential__brightpearl__account_token": "",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    conn.refresh_from_db()
    assert conn.base_url == "https://EUW1.brightpearlconnect.com:443/"
    assert conn.credentials["account_token"] == CANARY

    # Typing a new value replaces only that one.
    data["credential__brightpearl__account_token"] = "new-token"
    assert client.post(url, data).status_code == 302
    conn.refresh_from_db()
    assert conn.credentials == {"app_ref": "acme_console", "account_token": "new-token"}


def _admin_edit(brand, base_url: str, **creds: str) -> dict:
    return {
        "brand": brand.pk,
        "system": "brightpearl",
        "base_url": base_url,
        "settings": '{"account": "acme"}',
        "credential__brightpearl__app_ref": creds.get("app_ref", ""),
        "credential__brightpearl__account_token": creds.get("account_token", ""),
    }


@pytest.mark.parametrize(
    "new_address",
    [
        "https://attacker.example",  # another host
        "http://euw1.brightpearlconnect.com",  # the same host, in clear text
        "https://euw1.brightpearlconnect.com:8443",  # the same host, another port
    ],
)
def test_saved_credentials_never_follow_a_new_address(client, admin_user, brand_a, new_address):
    conn = make_connection(brand_a)
    client.force_login(admin_user)
    url = reverse("admin:connectors_connection_change", args=[conn.pk])

    # Secrets left blank: refused, and the message is on the base URL.
    response = client.post(url, _admin_edit(brand_a, new_address))
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "The address changed: enter the credentials again; saved ones are never sent to a "
        "new address." in page
    )
    assert "Enter the Brightpearl account token again for the new address." in page
    assert CANARY not in page
    conn.refresh_from_db()
    assert conn.base_url == "https://euw1.brightpearlconnect.com"
    assert conn.credentials["account_token"] == CANARY

    # One secret typed again is not enough: every required one is.
    response = client.post(url, _admin_edit(brand_a, new_address, account_token="mine"))
    assert response.status_code == 200
    assert "Enter the Brightpearl app reference again" in response.content.decode()
    conn.refresh_from_db()
    assert conn.base_url == "https://euw1.brightpearlconnect.com"

    # All typed again: saved, with only what was typed.
    response = client.post(url, _admin_edit(brand_a, new_address, app_ref="a", account_token="t"))
    assert response.status_code == 302
    conn.refresh_from_db()
    assert conn.base_url == new_address
    assert conn.credentials == {"app_ref": "a", "account_token": "t"}


def test_a_new_address_drops_saved_optional_credentials(brand_a):
    """A secret that is not required is not carried to the new address either."""
    from connectors.forms import connection_form_class

    conn = make_connection(brand_a, app_ref="r", account_token="t", spare=CANARY)
    form = connection_form_class(("brightpearl",))(
        _admin_edit(brand_a, "https://other.example", app_ref="r2", account_token="t2"),
        instance=conn,
    )
    assert form.is_valid(), form.errors
    assert form.save().credentials == {"app_ref": "r2", "account_token": "t2"}


def test_admin_edits_leave_an_audit_event_without_secrets(client, admin_user, brand_a):
    conn = make_connection(brand_a)
    client.force_login(admin_user)
    url = reverse("admin:connectors_connection_change", args=[conn.pk])
    data = _admin_edit(
        brand_a, "https://use1.brightpearlconnect.com", app_ref="acme2", account_token="t-new"
    )
    assert client.post(url, data).status_code == 302
    event = AuditEvent.objects.get(action="connection.changed")
    assert event.actor == admin_user and event.brand == brand_a
    assert "base URL https://euw1.brightpearlconnect.com → https://use1" in event.summary
    assert "credentials replaced (App reference, Account token)" in event.summary
    # The same as data: which connection, which fields, which credentials (never a value).
    assert event.detail["connection"] == conn.pk and event.detail["system"] == "brightpearl"
    assert "Base URL" in event.detail["fields_changed"]
    assert event.detail["credentials_replaced"] == ["App reference", "Account token"]
    text = f"{event.summary} {event.detail}"
    assert "t-new" not in text and "acme2" not in text and CANARY not in text

    # A change of settings alone names the field, and no credentials.
    data = _admin_edit(brand_a, "https://use1.brightpearlconnect.com")
    data["settings"] = '{"account": "acme", "rate_limit": 100}'
    assert client.post(url, data).status_code == 302
    event = AuditEvent.objects.filter(action="connection.changed").order_by("-pk").first()
    assert event.summary == "In the admin: settings."

    client.post(reverse("admin:connectors_connection_delete", args=[conn.pk]), {"post": "yes"})
    assert not Connection.objects.filter(pk=conn.pk).exists()
    assert AuditEvent.objects.filter(action="connection.removed", brand=brand_a).count() == 1


def test_rotation_leaves_an_audit_event_with_the_count(brand_a, brand_b):
    make_connection(brand_a)
    make_connection(brand_b, app_ref="bravo", account_token="bravo-token")
    new = Fernet.generate_key().decode()
    with override_settings(CREDENTIAL_KEYS=[new, settings.CREDENTIAL_KEYS[0]]):
        call_command("rotate_credentials", stdout=io.StringIO())
    event = AuditEvent.objects.get(action="credentials.rotated")
    assert event.detail == {"rows": 2}
    assert "2 connection(s)" in event.summary


def test_admin_add_names_the_missing_secret_and_setting(client, admin_user, brand_a):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:connectors_connection_add"),
        {
            "brand": brand_a.pk,
            "system": "mailchimp",
            "base_url": "https://us14.api.mailchimp.com",
            "settings": "{}",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter the Mailchimp API key: none is saved yet." in page
    assert "Mailchimp needs list_id in the settings" in page
    assert not Connection.objects.exists()


def _manage(env_overrides: dict, *args) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "VIRTUAL_ENV")}
    env = {**base, "DJANGO_SETTINGS_MODULE": "console.settings", **env_overrides}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION_ENV = {
    "SECRET_KEY": "prod-" + "Zq8!xR2#vL5@" * 5,
    "ALLOWED_HOSTS": "console.example.com",
    "DATABASE_URL": "sqlite:////tmp/console-deploy-check.sqlite3",
    "CREDENTIAL_KEYS": Fernet.generate_key().decode(),
}


@pytest.mark.django_db(transaction=False)
def test_check_deploy_is_clean_with_only_the_four_variables(tmp_path):
    result = _manage(PRODUCTION_ENV, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize("missing", ["SECRET_KEY", "CREDENTIAL_KEYS"])
def test_production_refuses_to_start_without(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = _manage(env, "check")
    assert result.returncode != 0
    assert f"{missing} is not set" in result.stderr


def test_settings_left_out_show_an_empty_box_not_null():
    from connectors.forms import SettingsField

    field = SettingsField(required=False)
    assert field.prepare_value(None) == ""
    assert field.prepare_value({"account": "acme"}) == '{"account": "acme"}'

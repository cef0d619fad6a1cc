"""Signing in is throttled: a few wrong passwords lock out the username and the address, the
person is told in plain words for how long and who can unlock, and the audit trail has it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from brands.models import AuditEvent
from tests.conftest import make_user

LIMIT = settings.AXES_FAILURE_LIMIT


def _sign_in(client, username: str, password: str, ip: str = "203.0.113.5", **extra):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip, **extra
    )


def test_the_limit_and_the_lockout_come_from_the_environment_with_sane_defaults():
    assert 3 <= LIMIT <= 10
    assert timedelta(minutes=5) <= settings.AXES_COOLOFF_TIME <= timedelta(hours=1)


def test_wrong_passwords_lock_the_account_even_against_the_right_one(client, ops_user):
    for _ in range(LIMIT - 1):
        assert _sign_in(client, ops_user.username, "wrong").status_code == 200
    locked = _sign_in(client, ops_user.username, "wrong")
    assert locked.status_code == 429
    # Now even the right password is refused, with the same page.
    again = _sign_in(client, ops_user.username, "pw")
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session
    page = again.content.decode()
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert "Signing in is paused" in page
    assert f"{LIMIT} wrong passwords in a row" in page
    assert f"paused for {minutes} minutes" in page
    assert "ask an agency admin" in page and "Unlock" in page


def test_the_lockout_is_audited_once_however_many_tries_follow(client, ops_user):
    for _ in range(LIMIT + 4):
        _sign_in(client, ops_user.username, "wrong")
    events = AuditEvent.objects.filter(action="login.locked_out")
    assert events.count() == 1
    event = events.get()
    assert event.target == ops_user.username
    assert event.detail["username"] == ops_user.username
    assert event.detail["ip_address"] == "203.0.113.5"
    assert f"after {LIMIT} wrong passwords" in event.summary
    # The tries made while locked out are still counted, where the admin sees them.
    assert AccessAttempt.objects.get(username=ops_user.username).failures_since_start == LIMIT + 4


def test_one_username_is_locked_whichever_address_the_guesses_come_from(client, ops_user):
    for i in range(LIMIT):
        _sign_in(client, ops_user.username, "wrong", ip=f"198.51.100.{i + 1}")
    assert _sign_in(client, ops_user.username, "pw", ip="192.0.2.77").status_code == 429


def test_one_address_is_locked_whichever_usernames_it_tries(client, ops_user, marketing_user):
    for i in range(LIMIT):
        _sign_in(client, f"someone{i}", "wrong", ip="198.51.100.9")
    # A real account, the right password, from that address: refused.
    assert _sign_in(client, marketing_user.username, "pw", ip="198.51.100.9").status_code == 429
    # The same account from elsewhere is not locked.
    assert _sign_in(client, marketing_user.username, "pw", ip="192.0.2.1").status_code == 302


def test_a_few_mistakes_do_not_lock_anyone_out(client, ops_user):
    for _ in range(LIMIT - 1):
        _sign_in(client, ops_user.username, "wrong")
    assert _sign_in(client, ops_user.username, "pw").status_code == 302
    assert not AuditEvent.objects.filter(action="login.locked_out").exists()


def test_the_lockout_ends_by_itself_after_the_cool_off(client, ops_user):
    for _ in range(LIMIT):
        _sign_in(client, ops_user.username, "wrong")
    assert _sign_in(client, ops_user.username, "pw").status_code == 429
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time
        - settings.AXES_COOLOFF_TIME
        - timedelta(seconds=1)
    )
    assert _sign_in(client, ops_user.username, "pw").status_code == 302


@override_settings(BEHIND_TLS_PROXY=True)
def test_behind_the_proxy_the_address_the_proxy_saw_is_counted(client, ops_user):
    """The client may put anything left of our proxy's entry in X-Forwarded-For: a fresh fake
    address per guess must not reset the count, so the right-most entry is the one used."""
    for i in range(LIMIT):
        _sign_in(
            client,
            f"someone{i}",
            "wrong",
            ip="10.0.0.2",  # the proxy
            HTTP_X_FORWARDED_FOR=f"1.1.1.{i}, 198.51.100.20",
        )
    attempts = set(AccessAttempt.objects.values_list("ip_address", flat=True))
    assert attempts == {"198.51.100.20"}
    refused = _sign_in(
        client, ops_user.username, "pw", ip="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.20"
    )
    assert refused.status_code == 429
    # Someone else behind the same proxy is not locked out with them.
    other = _sign_in(
        client, ops_user.username, "pw", ip="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.50"
    )
    assert other.status_code == 302


def test_the_admin_login_is_throttled_too(client, ops_user):
    url = reverse("admin:login")
    for _ in range(LIMIT):
        client.post(url, {"username": ops_user.username, "password": "wrong"})
    response = client.post(url, {"username": ops_user.username, "password": "pw"})
    assert response.status_code == 429


@pytest.mark.parametrize("how", ["action", "delete"])
def test_an_agency_admin_unlocks_in_the_admin_and_it_is_audited(client, ops_user, how):
    for _ in range(LIMIT):
        _sign_in(client, ops_user.username, "wrong")
    superuser = make_user("root", is_staff=True, is_superuser=True)
    admin_client = client.__class__()
    admin_client.force_login(superuser)
    attempt = AccessAttempt.objects.get(username=ops_user.username)
    changelist = reverse("admin:axes_accessattempt_changelist")
    page = admin_client.get(changelist).content.decode()
    assert "Unlock: forget the selected failed sign-ins" in page
    if how == "action":
        response = admin_client.post(
            changelist, {"action": "unlock", "_selected_action": [attempt.pk]}
        )
    else:
        response = admin_client.post(
            reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
        )
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    unlocked = AuditEvent.objects.get(action="login.unlocked")
    assert unlocked.actor == superuser
    assert unlocked.detail["username"] == ops_user.username
    assert unlocked.detail["failures"] == LIMIT
    assert _sign_in(client, ops_user.username, "pw").status_code == 302


def test_people_who_are_not_agency_admins_cannot_unlock(client, ops_user):
    for _ in range(LIMIT):
        _sign_in(client, ops_user.username, "wrong")
    staff = make_user("staffer", is_staff=True)
    other = client.__class__()
    other.force_login(staff)
    changelist = reverse("admin:axes_accessattempt_changelist")
    assert other.get(changelist).status_code == 403
    attempt = AccessAttempt.objects.get()
    other.post(changelist, {"action": "unlock", "_selected_action": [attempt.pk]})
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()

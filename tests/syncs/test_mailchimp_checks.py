"""Onboarding checks that the Brightpearl customer custom fields the consent flow writes
exist (Custom Field Metadata GET on the sandbox), and says what to do when one is missing."""

from __future__ import annotations

import httpx
import pytest

from connectors.models import Connection
from console.models import Onboarding
from console.onboarding import onboarding_test_connections
from syncs.flows.mailchimp.checks import consent_fields_check
from syncs.flows.mailchimp.consent import FIELDS

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_consent_fields_brightpearl_defines_pass(live_brand):
    check = consent_fields_check(brand=live_brand)
    assert check is not None and check.ok, check
    for code in FIELDS.values():
        assert code in check.message


def test_a_missing_consent_field_is_said_in_words_with_the_fix(live_brand):
    conn = Connection.objects.get(brand=live_brand, system="brightpearl")
    conn.settings = {**conn.settings, "consent_reason_field": "PCF_NOSUCH"}
    conn.save()
    check = consent_fields_check(brand=live_brand)
    assert check is not None and not check.ok
    assert "no customer custom field PCF_NOSUCH (the reason)" in check.message
    assert "unsubscribes in Mailchimp is not marked in Brightpearl" in check.message
    assert "type Text" in check.next_step and "consent_reason_field" in check.next_step
    # The fields that do exist are not named as missing.
    assert FIELDS["consent_status_field"] not in check.message


def test_a_field_that_cannot_hold_text_is_refused(live_brand):
    """Brightpearl's documented answer, with the time field made a DATE field."""
    meta = [
        {"id": i, "code": code, "name": code, "customFieldType": kind, "required": False}
        for i, (code, kind) in enumerate(
            [("PCF_MCSTATUS", "TEXT"), ("PCF_MCCHANGED", "DATE"), ("PCF_MCREASON", "TEXTAREA")]
        )
    ]
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={"response": meta})

    check = consent_fields_check(brand=live_brand, transport=httpx.MockTransport(answer))
    assert check is not None and not check.ok
    assert "PCF_MCCHANGED is a DATE field, not text" in check.message
    assert "PCF_MCREASON" not in check.message  # a text area holds text
    assert seen and seen[0].endswith("/contact-service/customer/custom-field-meta-data")


def test_no_mailchimp_connection_means_nothing_to_check(live_brand):
    Connection.objects.filter(brand=live_brand, system="mailchimp").delete()
    assert consent_fields_check(brand=live_brand) is None


def test_onboarding_step_3_shows_the_check_beside_the_connection_tests(live_brand):
    conn = Connection.objects.get(brand=live_brand, system="brightpearl")
    conn.settings = {**conn.settings, "consent_status_field": "PCF_GONE"}
    conn.save()
    onboarding = Onboarding.objects.create(brand=live_brand, step=3)
    results = onboarding_test_connections(onboarding=onboarding)
    [row] = [r for r in results if r.label == "Brightpearl consent fields"]
    assert not row.ok and "PCF_GONE" in row.message
    assert all(r.ok for r in results if r is not row)
    onboarding.refresh_from_db()
    assert onboarding.step == 3  # not advanced while a field is missing

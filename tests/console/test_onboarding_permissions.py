"""A live brand's credentials are changed by its admins only; every change is audited with
who and what (which connection, which fields), never a value."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from brands.models import AuditEvent, Brand, Team
from connectors.models import Connection
from console import onboarding as svc
from console.models import Onboarding
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

OLD_KEY = "old-ometria-key-1111"
NEW_KEY = "new-ometria-key-2222"


@pytest.fixture
def live() -> Onboarding:
    brand = Brand.objects.create(name="Live Label", slug="live-label", active=True)
    Connection.objects.create(
        brand=brand,
        system="brightpearl",
        base_url="https://euw1.brightpearlconnect.com",
        credentials={"app_ref": "live_app", "account_token": "bp-token"},
        settings={"account": "livelabel"},
    )
    Connection.objects.create(
        brand=brand,
        system="ometria",
        base_url="https://api.ometria.com",
        credentials={"api_key": OLD_KEY},
    )
    return Onboarding.objects.create(
        brand=brand,
        step=7,
        live_at=timezone.now(),
        data={"systems": {s: "unused" for s in ("mailchimp", "bigcommerce", "salesforce")}},
    )


@pytest.fixture
def staff_not_admin(live):
    """Agency staff, in the brand's Operations team, but not one of its admins."""
    return make_user("stan_staff", live.brand, Team.OPERATIONS, is_staff=True)


@pytest.fixture
def brand_admin(live):
    return make_user("alice_admin", live.brand, Team.ADMIN, is_staff=True)


def new_ometria_key() -> dict:
    return {
        "brightpearl-base_url": "https://euw1.brightpearlconnect.com",
        "brightpearl-setting__account": "livelabel",
        "ometria-base_url": "https://api.ometria.com",
        "ometria-credential__ometria__api_key": NEW_KEY,
    }


def ometria_key(brand: Brand) -> str:
    return Connection.objects.get(brand=brand, system="ometria").credentials["api_key"]


def url(onboarding: Onboarding) -> str:
    return reverse("onboarding:connections", args=[onboarding.pk])


def test_staff_who_are_not_its_admins_cannot_change_a_live_brands_credentials(
    client, live, staff_not_admin, brand_admin
):
    client.force_login(staff_not_admin)
    page = client.get(url(live))
    assert page.status_code == 403
    text = page.content.decode()
    assert "Only Live Label's admins can change its connections" in text
    assert "Nothing was changed" in text
    assert "alice_admin" in text  # who to ask

    refused = client.post(url(live), new_ometria_key())
    assert refused.status_code == 403
    assert ometria_key(live.brand) == OLD_KEY
    attempt = AuditEvent.objects.get(action="connection.change_refused")
    assert attempt.actor == staff_not_admin and attempt.brand == live.brand
    assert not AuditEvent.objects.filter(action="connection.saved").exists()


@pytest.mark.parametrize("who", ["brand_admin", "superuser"])
def test_a_brand_admin_changes_them_and_the_change_is_audited_without_the_value(
    client, live, brand_admin, who
):
    person = brand_admin if who == "brand_admin" else make_user("root", is_superuser=True)
    person.is_staff = True
    person.save()
    client.force_login(person)
    assert client.get(url(live)).status_code == 200
    response = client.post(url(live), new_ometria_key())
    assert response.status_code == 302, response.content.decode()[:2000]
    assert ometria_key(live.brand) == NEW_KEY

    event = AuditEvent.objects.get(action="connection.saved")
    ometria = Connection.objects.get(brand=live.brand, system="ometria")
    assert event.actor == person and event.brand == live.brand
    assert event.detail["connection"] == ometria.pk
    assert event.detail["system"] == "ometria"
    assert event.detail["credentials_replaced"] == ["API key"]
    assert "credentials replaced (API key)" in event.summary
    # The connection left alone is not in the trail; no value is, old or new.
    assert AuditEvent.objects.filter(action="connection.saved").count() == 1
    everything = json.dumps(list(AuditEvent.objects.values()), default=str), str(event)
    assert NEW_KEY not in "".join(everything) and OLD_KEY not in "".join(everything)


def test_a_changed_address_is_audited_by_field_name(client, live, brand_admin):
    client.force_login(brand_admin)
    data = {**new_ometria_key(), "ometria-base_url": "https://eu.api.ometria.com"}
    assert client.post(url(live), data).status_code == 302
    event = AuditEvent.objects.get(action="connection.saved")
    assert "base URL https://api.ometria.com → https://eu.api.ometria.com" in event.summary
    assert event.detail["fields_changed"] == ["Base URL"]


def test_the_service_refuses_too_whoever_calls_it(live, staff_not_admin, brand_admin):
    from console.onboarding_forms import connection_form

    form = connection_form(live, "ometria", new_ometria_key())
    assert form.is_valid(), form.errors
    with pytest.raises(svc.CredentialsLocked):
        svc.onboarding_connection_save(onboarding=live, form=form, actor=staff_not_admin)
    assert ometria_key(live.brand) == OLD_KEY
    assert svc.may_change_credentials(onboarding=live, actor=brand_admin)
    # `manage.py onboard_brand`: no person, run by whoever holds the server.
    assert svc.may_change_credentials(onboarding=live, actor=None)


def test_before_going_live_whoever_onboards_sets_the_credentials(live, staff_not_admin):
    live.live_at = None
    live.save()
    assert svc.may_change_credentials(onboarding=live, actor=staff_not_admin)


def test_ticking_not_used_on_a_live_brands_saved_connection_is_refused_in_words(
    client, live, brand_admin
):
    client.force_login(brand_admin)
    data = {**new_ometria_key(), "ometria-unused": "1"}
    response = client.post(url(live), data)
    assert response.status_code == 400
    assert "remove its Ometria connection in the admin" in response.content.decode()
    assert Connection.objects.filter(brand=live.brand, system="ometria").exists()

"""Onboarding that fits the brand (issue 17): the systems are chosen first, then only their
credentials are asked for and only the flows between them offered. A brand with only
BigCommerce and Brightpearl is never asked about Ometria, Mailchimp or Salesforce."""

from __future__ import annotations

import pytest

from brands.models import AuditEvent, Brand
from connectors.models import Connection, Health
from console.models import Onboarding
from syncs.flows import bigcommerce as bigcommerce_pair
from tests.console.test_onboarding import credentials_form, second, staff, start, u

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]
__all__ = ["second", "staff"]  # fixtures, used by name


def bigcommerce_form(second: dict, **override) -> dict:
    """Brightpearl (staff token) and BigCommerce, as the sandbox's second brand has them."""
    bp, bc = second["brightpearl"], second["bigcommerce"]
    data = {
        "brightpearl-base_url": bp["base_url"],
        "brightpearl-setting__account": bp["account"],
        "brightpearl-setting__auth": "staff_token",
        "brightpearl-credential__brightpearl__app_ref": bp["staff"]["brightpearl-app-ref"],
        "brightpearl-credential__brightpearl__staff_token": bp["staff"]["brightpearl-staff-token"],
        "bigcommerce-base_url": bc["base_url"],
        "bigcommerce-setting__store_hash": bc["store_hash"],
        "bigcommerce-credential__bigcommerce__access_token": bc["headers"]["X-Auth-Token"],
        **override,
    }
    return {k: v for k, v in data.items() if v is not None}


def test_step_1_asks_which_systems_and_needs_one_besides_brightpearl(client, staff):
    client.force_login(staff)
    page = client.get(u("new")).content.decode()
    for label in ("Ometria", "Mailchimp", "BigCommerce", "Salesforce"):
        assert f"{label} (" in page
    assert "Brightpearl is always used" in page
    response = client.post(u("new"), {"name": "Solo", "slug": "solo", "timezone": "UTC"})
    assert response.status_code == 400
    assert "Tick at least one system besides Brightpearl" in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Brand.objects.filter(slug="solo").exists()


def test_a_bigcommerce_brand_is_asked_only_for_brightpearl_and_bigcommerce(
    client, staff, sandbox, second
):
    client.force_login(staff)
    onboarding = start(client, systems=("bigcommerce",))
    page = client.get(u("connections", onboarding)).content.decode()
    assert 'id="system-brightpearl"' in page and 'id="system-bigcommerce"' in page
    for other in ("ometria", "mailchimp", "salesforce"):
        assert f'id="system-{other}"' not in page
        assert f"{other}-" not in page  # not one field of it

    response = client.post(u("connections", onboarding), bigcommerce_form(second))
    assert response["Location"] == u("test", onboarding)
    brand = onboarding.brand
    assert set(brand.connections.values_list("system", flat=True)) == {
        "brightpearl",
        "bigcommerce",
    }

    page = client.post(u("test", onboarding)).content.decode()
    assert set(brand.connections.values_list("status", flat=True)) == {Health.OK}, page
    # No Ometria: no status mapping to do, and going on does not need one.
    page = client.get(u("mappings", onboarding)).content.decode()
    assert "does not use Ometria" in page
    assert client.post(u("mappings", onboarding))["Location"] == u("flows", onboarding)

    page = client.get(u("flows", onboarding)).content.decode()
    assert "Storefront orders → Brightpearl" in page
    assert "Order status → BigCommerce" in page
    assert "Ometria" not in page
    response = client.post(
        u("flows", onboarding),
        {"storefront_orders-enabled": "1", "storefront_orders-minutes": "60"},
    )
    assert response["Location"] == u("review", onboarding)
    onboarding.refresh_from_db()
    # Every flow of the pair (the storefront's orders, their status, shipments, refunds…).
    assert set(onboarding.data["flows"]) == {cls.code for cls in bigcommerce_pair.FLOWS}
    page = client.get(u("review", onboarding)).content.decode()
    assert "error-box" not in page, page
    assert "none needed (no Ometria)" in page


def test_a_go_live_date_is_asked_for_as_a_day(client, staff, sandbox, second):
    client.force_login(staff)
    onboarding = start(client, systems=("bigcommerce",))
    data = bigcommerce_form(second, **{"bigcommerce-setting__go_live": "31/01/2026"})
    page = client.post(u("connections", onboarding), data).content.decode()
    assert "Enter the go-live date as year-month-day, such as 2026-01-31." in page
    data = bigcommerce_form(second, **{"bigcommerce-setting__go_live": "2026-01-31"})
    assert client.post(u("connections", onboarding), data)["Location"] == u("test", onboarding)
    connection = onboarding.brand.connections.get(system="bigcommerce")
    assert connection.settings["go_live"] == "2026-01-31"


def test_an_empty_chosen_system_says_what_it_needs(client, staff, sandbox, second):
    client.force_login(staff)
    onboarding = start(client, systems=("bigcommerce",))
    data = bigcommerce_form(
        second,
        **{
            "bigcommerce-setting__store_hash": None,
            "bigcommerce-credential__bigcommerce__access_token": None,
        },
    )
    response = client.post(u("connections", onboarding), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter the BigCommerce access token: none is saved yet." in page
    assert "Enter the BigCommerce store hash." in page
    # What was complete is saved: Brightpearl.
    assert list(onboarding.brand.connections.values_list("system", flat=True)) == ["brightpearl"]


def test_unticking_a_system_of_a_draft_removes_its_connection_and_flows(
    client, staff, sandbox, second
):
    client.force_login(staff)
    onboarding = start(client, systems=("ometria", "bigcommerce"))
    client.post(
        u("connections", onboarding), {**credentials_form(second), **bigcommerce_form(second)}
    )
    assert onboarding.brand.connections.count() == 3
    response = client.post(
        u("brand", onboarding),
        {
            "name": "Second Style",
            "slug": "second-style",
            "timezone": "Europe/Paris",
            "systems": ["bigcommerce"],
        },
    )
    assert response.status_code == 302
    assert not Connection.objects.filter(brand=onboarding.brand, system="ometria").exists()
    onboarding.refresh_from_db()
    assert onboarding.data["chosen"] == ["brightpearl", "bigcommerce"]
    removed = AuditEvent.objects.get(action="connection.removed")
    assert "Ometria" in removed.target
    chosen = AuditEvent.objects.filter(action="onboarding.systems_chosen").first()
    assert chosen.summary == "Second Style uses Brightpearl, BigCommerce; no longer Ometria."


def test_adding_a_system_sends_the_wizard_back_to_its_credentials(client, staff, sandbox, second):
    client.force_login(staff)
    onboarding = start(client)
    client.post(u("connections", onboarding), credentials_form(second))
    onboarding.refresh_from_db()
    assert onboarding.step == 3
    client.post(
        u("brand", onboarding),
        {
            "name": "Second Style",
            "slug": "second-style",
            "timezone": "Europe/Paris",
            "systems": ["ometria", "mailchimp"],
        },
    )
    onboarding.refresh_from_db()
    assert onboarding.step == 2
    assert client.get(u("test", onboarding))["Location"] == u("connections", onboarding)


def test_an_onboarding_from_before_the_choice_keeps_its_systems(db):
    """Saved before step 1 asked: what was not marked "not used" is what it uses."""
    from console.onboarding import chosen_systems

    brand = Brand.objects.create(name="Old", slug="old", active=False)
    onboarding = Onboarding.objects.create(
        brand=brand, step=3, data={"systems": {"mailchimp": "unused", "salesforce": "unused"}}
    )
    assert chosen_systems(onboarding) == ["brightpearl", "ometria", "bigcommerce"]

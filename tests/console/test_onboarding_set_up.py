"""Switching on shipments asks for Ometria's order_shipped custom event (issue 16, "Ometria
order_shipped event"). Ometria acts on a custom event only once it is set up in the account,
and its API cannot list them (support.ometria.com/hc/en-gb/articles/360011171077), so the page
says how to set it up, and the review warns until someone ticks that it is done."""

from __future__ import annotations

import pytest

from connectors.ometria.events import CUSTOM_EVENTS_PAGE
from console.models import Onboarding
from tests.console.test_onboarding import (
    credentials_form,
    flow_choices,
    second,
    staff,
    start,
    u,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_cache")]
__all__ = ["second", "staff"]  # fixtures, used by name

WARNING = "Shipments → Ometria is on, and nobody has said yet that it is set up."


def at_flows(client, second) -> Onboarding:
    onboarding = start(client)
    client.post(u("connections", onboarding), credentials_form(second))
    client.post(u("test", onboarding))
    client.post(u("mappings", onboarding), {"action": "fetch"})
    return onboarding


def test_the_flows_page_says_how_to_set_up_the_event_with_ometrias_page(
    client, staff, sandbox, second
):
    client.force_login(staff)
    page = client.get(u("flows", at_flows(client, second))).content.decode()
    assert "custom event called “order_shipped”" in page
    assert "customer success manager" in page
    assert f'<a href="{CUSTOM_EVENTS_PAGE}"' in page
    assert 'name="shipments-set-up"' in page


def test_the_review_warns_until_someone_says_the_event_is_set_up(client, staff, sandbox, second):
    client.force_login(staff)
    onboarding = at_flows(client, second)
    client.post(u("flows", onboarding), flow_choices(order_lifecycle=15, shipments=15))
    page = client.get(u("review", onboarding)).content.decode()
    assert WARNING in page and "order_shipped" in page
    onboarding.refresh_from_db()
    assert onboarding.data["flows"]["shipments"]["set_up"] is False

    client.post(
        u("flows", onboarding),
        {**flow_choices(order_lifecycle=15, shipments=15), "shipments-set-up": "1"},
    )
    onboarding.refresh_from_db()
    assert onboarding.data["flows"]["shipments"]["set_up"] is True
    assert WARNING not in client.get(u("review", onboarding)).content.decode()
    page = client.get(u("flows", onboarding)).content.decode()
    assert 'name="shipments-set-up" value="1" checked' in page


def test_no_warning_while_shipments_is_off(client, staff, sandbox, second):
    client.force_login(staff)
    onboarding = at_flows(client, second)
    client.post(u("flows", onboarding), flow_choices(order_lifecycle=15))
    assert WARNING not in client.get(u("review", onboarding)).content.decode()

"""The “keep this one” choice on a several-Salesforce-records ticket refuses what it cannot do,
in words, and changes nothing then (the happy path runs in tests/browser/
test_salesforce_duplicate.py, against the sandbox)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from connectors.models import Connection
from exceptions.models import TicketEvent
from tests.exceptions.conftest import raise_ticket

pytestmark = pytest.mark.django_db

SNAPSHOT = {
    "sobject": "Account",
    "external_id_field": "Brightpearl_Contact_Id__c",
    "value": "201",
    "candidates": ["0015g00000AAAAAAAA", "0015g00000BBBBBBBB"],
    "instance_url": "https://acme.my.salesforce.com",
}


def duplicate(brand):
    return raise_ticket(
        brand,
        "salesforce_multiple_matches",
        flow="salesforce_accounts",
        source_id="201",
        title="2 Salesforce Account records hold Brightpearl id 201",
        snapshot=SNAPSHOT,
    )


def test_the_ticket_page_offers_the_candidates(client, brand_a, ops_user):
    ticket = duplicate(brand_a)
    client.force_login(ops_user)
    page = client.get(reverse("exceptions:ticket", args=[ticket.pk])).content.decode()
    assert 'id="salesforce-keep"' in page
    for candidate in SNAPSHOT["candidates"]:
        assert f'value="{candidate}"' in page
        assert f"https://acme.my.salesforce.com/{candidate}" in page


def test_a_record_the_ticket_does_not_list_is_refused(client, brand_a, ops_user):
    ticket = duplicate(brand_a)
    client.force_login(ops_user)
    answer = client.post(
        reverse("exceptions:salesforce_keep", args=[ticket.pk]), {"keep": "001NOTLISTED"}
    )
    assert answer.status_code == 400
    assert "Choose one of the records the ticket lists." in answer.content.decode()
    assert not TicketEvent.objects.filter(ticket=ticket, kind="commented").exists()


def test_without_a_salesforce_connection_nothing_is_changed(client, brand_a, ops_user):
    ticket = duplicate(brand_a)
    assert not Connection.objects.filter(brand=brand_a, system="salesforce").exists()
    client.force_login(ops_user)
    answer = client.post(
        reverse("exceptions:salesforce_keep", args=[ticket.pk]),
        {"keep": SNAPSHOT["candidates"][0]},
    )
    assert answer.status_code == 400
    assert "no Salesforce connection" in answer.content.decode()


def test_another_brands_ticket_is_not_found(client, brand_b, ops_user):
    ticket = duplicate(brand_b)
    client.force_login(ops_user)
    answer = client.post(
        reverse("exceptions:salesforce_keep", args=[ticket.pk]),
        {"keep": SNAPSHOT["candidates"][0]},
    )
    assert answer.status_code == 404

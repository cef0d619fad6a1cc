"""The Find a record pages: signed in only, the tenant wall (another brand's record is a 404,
never an action), Sync now (CSRF-protected, says what it queued), and queries that do not
grow with what a record holds."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from syncs import services
from syncs.models import RecordState, SyncRun
from tests.exceptions.conftest import raise_ticket
from tests.fixtures.records import link, switch_on, synced_contact, synced_order

pytestmark = pytest.mark.django_db


def page_url(entity, brand: str = "acme") -> str:
    return reverse("record", args=[brand, entity])


@pytest.fixture(autouse=True)
def no_queue(monkeypatch):
    monkeypatch.setattr(services, "_enqueue", lambda run_id: None)


def test_signed_out_people_are_sent_to_sign_in(client, brand_a):
    source, _, _ = synced_order(brand_a, "10001")
    for url in (reverse("records"), page_url(source.entity)):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.post(page_url(source.entity)).status_code == 302
    assert not SyncRun.objects.exists()


def test_the_top_bar_links_to_the_page(client, ops_user):
    client.force_login(ops_user)
    link = re.compile(r'<a href="/records/"\s*(aria-current="page")?>Find a record</a>')
    on_home = link.search(client.get(reverse("home")).content.decode())
    assert on_home and not on_home.group(1)
    on_search = link.search(client.get(reverse("records")).content.decode())
    assert on_search and on_search.group(1)


def test_the_search_lists_what_it_found_linked_to_each_page(client, brand_a, ops_user):
    source, _, _ = synced_order(brand_a, "10001", email="ann@example.com")
    client.force_login(ops_user)
    response = client.get(reverse("records"), {"q": "10001"})
    page = response.content.decode()
    assert "1 record found for “10001”" in page
    assert f'href="{page_url(source.entity)}">Order 10001</a>' in page
    assert "Brightpearl 10001 · Ometria 10001" in page
    assert "found by its Brightpearl order id" in page


def test_a_search_that_finds_nothing_says_so(client, brand_a, ops_user):
    client.force_login(ops_user)
    page = client.get(reverse("records"), {"q": "nope"}).content.decode()
    assert "Nothing found for “nope”" in page


def test_searching_in_another_brand_is_a_404(client, brand_a, brand_b, ops_user):
    synced_order(brand_b, "10001")
    client.force_login(ops_user)
    assert client.get(reverse("records"), {"q": "10001", "brand": "bravo"}).status_code == 404
    assert client.get(reverse("records"), {"q": "10001", "brand": "nosuch"}).status_code == 404
    assert "Nothing found" in client.get(reverse("records"), {"q": "10001"}).content.decode()


def test_the_record_page(client, brand_a, ops_user):
    source, _, _ = synced_order(brand_a, "10001", email="ann@example.com")
    switch_on(brand_a, "order_lifecycle")
    ticket = raise_ticket(brand_a, source_id="10001", title="Order 10001 refused by ometria")
    client.force_login(ops_user)
    page = client.get(page_url(source.entity)).content.decode()
    assert "<h1>Order 10001</h1>" in page
    assert '<h3>Brightpearl <span class="muted">order</span> <code>10001</code></h3>' in page
    assert '<h3>Ometria <span class="muted">order</span> <code>10001</code></h3>' in page
    assert "Last written there by Order lifecycle → Ometria" in page
    assert "What Ometria was last sent" in page and "ann@example.com" in page
    assert f'href="{reverse("exceptions:ticket", args=[ticket.pk])}">' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert '<button type="submit" class="primary">Sync now</button>' in page
    assert "Queues: Order lifecycle → Ometria." in page


def test_a_record_whose_flows_are_off_has_no_button_and_says_why(client, brand_a, ops_user):
    source, _, _ = synced_order(brand_a, "10001")
    client.force_login(ops_user)
    page = client.get(page_url(source.entity)).content.decode()
    assert "Sync now is not available." in page
    assert "switched off for Acme Apparel: Order lifecycle → Ometria" in page
    assert ">Sync now</button>" not in page
    response = client.post(page_url(source.entity), follow=True)
    assert "switched off for Acme Apparel" in response.content.decode()
    assert not SyncRun.objects.exists()


def test_sync_now_queues_and_says_what_with_the_run_ids(client, brand_a, ops_user):
    source, _, _ = synced_order(brand_a, "10001")
    switch_on(brand_a, "order_lifecycle")
    client.force_login(ops_user)
    response = client.post(page_url(source.entity))
    assert response.status_code == 302 and response["Location"] == page_url(source.entity)
    run = SyncRun.objects.get()
    assert run.scope == ["10001"] and run.trigger == "manual"
    page = client.get(response["Location"]).content.decode()
    assert f"Sync queued: Order lifecycle → Ometria, run {run.pk}." in page


def test_sync_now_needs_the_forms_csrf_token(brand_a, ops_user):
    source, _, _ = synced_order(brand_a, "10001")
    switch_on(brand_a, "order_lifecycle")
    client = Client(enforce_csrf_checks=True)
    client.force_login(ops_user)
    assert client.post(page_url(source.entity)).status_code == 403
    assert not SyncRun.objects.exists()


class TestTenantWall:
    def test_another_brands_record_is_a_404_to_see_and_to_sync(
        self, client, brand_a, brand_b, bravo_user
    ):
        source, _, _ = synced_order(brand_a, "10001")
        switch_on(brand_a, "order_lifecycle")
        client.force_login(bravo_user)
        # Under its own brand's address, and under the person's own brand's.
        for url in (page_url(source.entity), page_url(source.entity, brand="bravo")):
            assert client.get(url).status_code == 404
            assert client.post(url).status_code == 404
        assert not SyncRun.objects.exists()

    def test_an_unknown_record_is_a_404(self, client, brand_a, ops_user):
        client.force_login(ops_user)
        assert client.get(page_url("order:brightpearl:404")).status_code == 404
        assert client.post(page_url("order:brightpearl:404")).status_code == 404


# --- queries -----------------------------------------------------------------------------------
def grow(brand, n: int) -> None:
    """n more of everything a record page shows: runs, tickets, related orders."""
    for i in range(n):
        SyncRun.objects.create(brand=brand, flow="customers", trigger="schedule")
        SyncRun.objects.create(brand=brand, flow="customers", trigger="webhook", scope=["201"])
        raise_ticket(brand, source_id="201", flow="customers", title=f"Refusal {i}")
        synced_order(brand, f"2{len(RecordState.objects.all()):05d}", contact="201")


def queries_for(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured)


def test_the_record_page_costs_the_same_queries_for_few_and_many(client, brand_a, ops_user):
    contact, _ = synced_contact(brand_a, "201", "kim@example.com")
    switch_on(brand_a, "customers")
    client.force_login(ops_user)
    grow(brand_a, 1)
    few = queries_for(client, page_url(contact.entity))
    grow(brand_a, 12)
    many = queries_for(client, page_url(contact.entity))
    assert few == many
    # session, user, brand, links, states, flow configs, runs, tickets, related, their links
    assert many <= 10


def test_the_search_costs_the_same_queries_for_few_and_many_results(client, brand_a, ops_user):
    client.force_login(ops_user)

    def orders(start: int, stop: int) -> None:
        for i in range(start, stop):
            _, _, state = synced_order(brand_a, f"1{i:04d}", email="ann@example.com")
            if i % 2:  # some states lost their link (a refund's), found through the flow
                RecordState.objects.filter(pk=state.pk).update(link=None)

    orders(0, 2)
    few = queries_for(client, reverse("records"), {"q": "ann@example.com"})
    orders(2, 25)
    many = queries_for(client, reverse("records"), {"q": "ann@example.com"})
    assert few == many
    page = client.get(reverse("records"), {"q": "ann@example.com"}).content.decode()
    assert "25 records found" in page


def test_a_link_to_a_pending_create_is_listed_without_an_id(client, brand_a, ops_user):
    bc = link(brand_a, "order", "bigcommerce", "120")
    link(
        brand_a, "order", "brightpearl", "", entity=bc.entity, create_key="k", natural_key="BC-120"
    )
    client.force_login(ops_user)
    page = client.get(page_url(bc.entity)).content.decode()
    assert '<span class="pill pill-queued">Being created</span>' in page
    assert "looks it up in Brightpearl by “BC-120”, so it is never made twice" in page

"""One record's page: its systems, each flow's last push, the runs that could have carried it,
its tickets (open first) and the records it goes with."""

from __future__ import annotations

import pytest
from django.utils import timezone

from exceptions.services import ticket_resolve
from syncs.models import RecordState, SyncRun
from syncs.record_detail import RUNS_PER_FLOW, record_page
from tests.exceptions.conftest import raise_ticket
from tests.fixtures.records import (
    link,
    switch_on,
    synced_contact,
    synced_order,
    waiting_order,
)

pytestmark = pytest.mark.django_db


def test_an_unknown_entity_has_no_page(brand_a):
    assert record_page(brand=brand_a, entity="order:brightpearl:1") is None


def test_another_brands_entity_has_no_page_in_this_brand(brand_a, brand_b):
    theirs, _, _ = synced_order(brand_b, "10001")
    assert record_page(brand=brand_a, entity=theirs.entity) is None


def test_the_systems_and_what_the_console_wrote_there(brand_a):
    source, _, _ = synced_order(brand_a, "10001", email="ann@example.com")
    page = record_page(brand=brand_a, entity=source.entity)
    assert [(r.system, r.link.external_id) for r in page.links] == [
        ("Brightpearl", "10001"),
        ("Ometria", "10001"),
    ]
    assert page.links[0].written == [] and page.links[0].written_by == ""
    assert page.links[1].written_by == "Order lifecycle → Ometria"
    assert ("E-mail", "ann@example.com") in page.links[1].written
    assert ("Total", "50.00 GBP") in page.links[1].written
    assert ("Lifecycle stage", "Processing") in page.links[1].written


def test_a_create_in_flight_is_shown_as_such(brand_a):
    bc = link(brand_a, "order", "bigcommerce", "120")
    link(
        brand_a,
        "order",
        "brightpearl",
        "",
        entity=bc.entity,
        create_key="storefront_orders:120",
        natural_key="BC-120",
        create_started=timezone.now(),
    )
    page = record_page(brand=brand_a, entity=bc.entity)
    pending = page.links[1]
    assert pending.link.pending and pending.link.natural_key == "BC-120"
    assert page.entity.systems == ["BigCommerce 120", "Brightpearl (being created)"]


def test_each_flow_that_reads_it_with_its_last_push(brand_a):
    source, _, state = synced_order(brand_a, "10001")
    switch_on(brand_a, "order_lifecycle")
    page = record_page(brand=brand_a, entity=source.entity)
    # Every flow that reads Brightpearl orders is listed; this one has carried it.
    assert {"order_lifecycle", "bigcommerce_order_status"} <= {r.flow for r in page.flows}
    [row] = [r for r in page.flows if r.flow == "order_lifecycle"]
    assert (row.flow, row.source_id, row.state.pk, row.enabled) == (
        "order_lifecycle",
        "10001",
        state.pk,
        True,
    )
    assert row.status_words == "Synced"
    assert row.sentence == "Ometria has what the console last sent."
    assert ("Customer (contact id)", "201") in row.facts


def test_a_state_without_its_link_is_found_by_flow_and_id(brand_a):
    # A refund records its order's state without the order's link (syncs/batches.py).
    source, _, state = synced_order(brand_a, "10001")
    RecordState.objects.filter(pk=state.pk).update(link=None)
    page = record_page(brand=brand_a, entity=source.entity)
    assert page.flows[0].state.pk == state.pk


def test_a_waiting_record_says_why_and_since_when(brand_a):
    source, _ = waiting_order(brand_a, "10011")
    page = record_page(brand=brand_a, entity=source.entity)
    row = page.flows[0]
    assert row.held and row.status_words == "Waiting"
    assert row.sentence == "Not sent yet: Status “Awaiting gift wrap” (id 25) has no mapping."
    assert row.facts == []
    assert row.state.held_since is not None


def test_a_record_no_flow_has_read_yet(brand_a):
    source = link(brand_a, "order", "brightpearl", "10500")
    row = record_page(brand=brand_a, entity=source.entity).flows[0]
    assert row.state is None and row.status_words == "Not read yet"


def test_the_runs_that_could_have_carried_it(brand_a):
    source, _, _ = synced_order(brand_a, "10001")
    mine = SyncRun.objects.create(
        brand=brand_a, flow="order_lifecycle", trigger="webhook", scope=["10001", "10002"]
    )
    reading = SyncRun.objects.create(brand=brand_a, flow="order_lifecycle", trigger="schedule")
    SyncRun.objects.create(brand=brand_a, flow="order_lifecycle", trigger="webhook", scope=["7"])
    SyncRun.objects.create(
        brand=brand_a, flow="order_lifecycle", trigger="webhook", scope=["100011"]
    )
    SyncRun.objects.create(brand=brand_a, flow="customers", trigger="schedule")
    row = record_page(brand=brand_a, entity=source.entity).flows[0]
    assert [r.pk for r in row.runs] == [reading.pk, mine.pk]


def test_only_the_latest_runs_of_each_flow(brand_a):
    source, _, _ = synced_order(brand_a, "10001")
    runs = [
        SyncRun.objects.create(brand=brand_a, flow="order_lifecycle", trigger="schedule")
        for _ in range(RUNS_PER_FLOW + 3)
    ]
    row = record_page(brand=brand_a, entity=source.entity).flows[0]
    assert [r.pk for r in row.runs] == [r.pk for r in reversed(runs)][:RUNS_PER_FLOW]


def test_its_tickets_open_first_and_not_the_same_id_of_another_kind(brand_a):
    source, _, _ = synced_order(brand_a, "1001")
    waiting_order(brand_a, "1002")
    synced_contact(brand_a, "1001", "kim@example.com")
    done = raise_ticket(brand_a, source_id="1001", flow="order_lifecycle", title="Old refusal")
    ticket_resolve(ticket=done, actor=None, note="Fixed the e-mail.")
    open_ = raise_ticket(
        brand_a, source_id="1001", flow="order_lifecycle", type_code="async_rejection"
    )
    raise_ticket(brand_a, source_id="1001", flow="customers", title="The contact's ticket")
    page = record_page(brand=brand_a, entity=source.entity)
    assert [t.pk for t in page.tickets] == [open_.pk, done.pk]


def test_what_holds_it_back_is_among_its_tickets(brand_a):
    source, _ = waiting_order(brand_a, "10011")
    status = raise_ticket(brand_a, "unmapped_status", source_id="status:25", flow="order_lifecycle")
    raise_ticket(brand_a, "unmapped_status", source_id="status:26", flow="order_lifecycle")
    contact, _ = synced_contact(brand_a, "201", "Kim@Example.com")
    shared = raise_ticket(
        brand_a,
        "duplicate_contact",
        source_system="email",
        source_id="kim@example.com",
        flow="customers",
    )
    assert [t.pk for t in record_page(brand=brand_a, entity=source.entity).tickets] == [status.pk]
    assert [t.pk for t in record_page(brand=brand_a, entity=contact.entity).tickets] == [shared.pk]


def test_the_records_it_goes_with(brand_a):
    order, _, _ = synced_order(brand_a, "10001", contact="201")
    contact, _ = synced_contact(brand_a, "201", "ann@example.com")
    credit = link(brand_a, "credit", "brightpearl", "10301")
    RecordState.objects.create(
        brand=brand_a,
        flow="refunds",
        source_id="10301",
        link=credit,
        status="synced",
        match_key="10001",
        last_pushed={"email": "ann@example.com", "total": 50.0, "currency": "GBP"},
    )
    note = link(brand_a, "shipment", "brightpearl", "50001")
    RecordState.objects.create(
        brand=brand_a,
        flow="shipments",
        source_id="50001",
        link=note,
        status="synced",
        last_pushed={"order_id": "10001", "sent": "gon-50001"},
    )
    page = record_page(brand=brand_a, entity=order.entity)
    assert {(r.relation, r.title, r.entity) for r in page.related} == {
        ("Its customer", "Contact 201", contact.entity),
        ("A refund of this order", "Sales credit 10301", credit.entity),
        ("A shipment of this order", "Shipment 50001", note.entity),
    }
    from_contact = record_page(brand=brand_a, entity=contact.entity).related
    assert [(r.relation, r.title) for r in from_contact] == [
        ("An order of this customer", "Order 10001")
    ]
    from_credit = record_page(brand=brand_a, entity=credit.entity).related
    assert [(r.relation, r.entity) for r in from_credit] == [("Its order", order.entity)]


def test_a_record_whose_flows_are_off_says_so(brand_a):
    source, _, _ = synced_order(brand_a, "10001")
    page = record_page(brand=brand_a, entity=source.entity)
    assert not page.can_sync
    assert "switched off for Acme Apparel: Order lifecycle → Ometria" in page.off_reason
    switch_on(brand_a, "order_lifecycle")
    assert record_page(brand=brand_a, entity=source.entity).can_sync
    brand_a.active = False
    brand_a.save()
    assert (
        "Acme Apparel is switched off"
        in record_page(brand=brand_a, entity=source.entity).off_reason
    )

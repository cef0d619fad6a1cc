"""Sync now: one scoped run per switched-on flow that reads the record, audited; refused, in
words, for someone outside the brand or when those flows are switched off."""

from __future__ import annotations

import pytest

from brands.models import AuditEvent
from syncs import services
from syncs.models import RunState, SyncRun
from syncs.records import RecordActionError, RecordNotFound, record_sync_now
from tests.fixtures.records import link, switch_on, synced_contact, synced_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(monkeypatch):
    """What reached the task queue (after the commit), by run id."""
    sent: list[int] = []
    monkeypatch.setattr(services, "_enqueue", lambda run_id, queue: sent.append(run_id))
    return sent


def test_queues_one_scoped_manual_run_per_flow_that_reads_it_and_audits(
    brand_a, ops_user, queue, django_capture_on_commit_callbacks
):
    source, _, _ = synced_order(brand_a, "10001")
    switch_on(brand_a, "order_lifecycle", "refunds", "customers")
    with django_capture_on_commit_callbacks(execute=True):
        queued = record_sync_now(brand=brand_a, entity=source.entity, actor=ops_user)
    [q] = queued
    run = SyncRun.objects.get()
    assert (q.run.pk, q.already) == (run.pk, False)
    assert (run.flow, run.trigger, run.scope, run.state) == (
        "order_lifecycle",
        "manual",
        ["10001"],
        RunState.QUEUED,
    )
    assert queue == [run.pk]
    event = AuditEvent.objects.get(action="record.sync_now")
    assert (event.brand, event.actor, event.target) == (brand_a, ops_user, "Order 10001")
    assert event.detail == {"entity": source.entity, "runs": [run.pk], "flows": ["order_lifecycle"]}
    assert event.summary == f"Order lifecycle → Ometria: run {run.pk}"


def test_a_contact_is_synced_by_the_customers_flow(brand_a, ops_user, queue):
    contact, _ = synced_contact(brand_a, "201", "kim@example.com")
    switch_on(brand_a, "order_lifecycle", "customers")
    [q] = record_sync_now(brand=brand_a, entity=contact.entity, actor=ops_user)
    assert (q.run.flow, q.run.scope) == ("customers", ["201"])


def test_a_shipment_is_synced_by_its_note_id_not_its_ometria_id(brand_a, ops_user, queue):
    note = link(brand_a, "shipment", "brightpearl", "50006")
    link(brand_a, "shipment", "ometria", "gon-50006", entity=note.entity)
    switch_on(brand_a, "shipments")
    [q] = record_sync_now(brand=brand_a, entity=note.entity, actor=ops_user)
    assert (q.run.flow, q.run.scope) == ("shipments", ["50006"])


def test_pressing_twice_queues_one_run(brand_a, ops_user, queue):
    source, _, _ = synced_order(brand_a, "10001")
    switch_on(brand_a, "order_lifecycle")
    first = record_sync_now(brand=brand_a, entity=source.entity, actor=ops_user)
    second = record_sync_now(brand=brand_a, entity=source.entity, actor=ops_user)
    assert SyncRun.objects.count() == 1
    assert second[0].already and second[0].run.pk == first[0].run.pk
    # Once that run has gone, a press queues a new one.
    SyncRun.objects.update(state=RunState.SUCCEEDED)
    third = record_sync_now(brand=brand_a, entity=source.entity, actor=ops_user)
    assert not third[0].already and SyncRun.objects.count() == 2


def test_flows_switched_off_queue_nothing_and_say_so(brand_a, ops_user, queue):
    source, _, _ = synced_order(brand_a, "10001")
    switch_on(brand_a, "customers")
    with pytest.raises(RecordActionError, match="switched off for Acme Apparel"):
        record_sync_now(brand=brand_a, entity=source.entity, actor=ops_user)
    assert not SyncRun.objects.exists()
    assert not AuditEvent.objects.filter(action="record.sync_now").exists()


def test_a_brand_switched_off_queues_nothing(brand_a, ops_user, queue):
    source, _, _ = synced_order(brand_a, "10001")
    switch_on(brand_a, "order_lifecycle")
    brand_a.active = False
    brand_a.save()
    with pytest.raises(RecordActionError, match="Acme Apparel is switched off"):
        record_sync_now(brand=brand_a, entity=source.entity, actor=ops_user)
    assert not SyncRun.objects.exists()


def test_only_the_brands_people_can_sync_its_records(brand_a, bravo_user, queue):
    source, _, _ = synced_order(brand_a, "10001")
    switch_on(brand_a, "order_lifecycle")
    with pytest.raises(RecordActionError, match="Only the people of Acme Apparel"):
        record_sync_now(brand=brand_a, entity=source.entity, actor=bravo_user)
    assert not SyncRun.objects.exists()


def test_another_brands_entity_is_not_found(brand_a, brand_b, ops_user, queue):
    theirs, _, _ = synced_order(brand_b, "10001")
    switch_on(brand_a, "order_lifecycle")
    switch_on(brand_b, "order_lifecycle")
    with pytest.raises(RecordNotFound):
        record_sync_now(brand=brand_a, entity=theirs.entity, actor=ops_user)
    assert not SyncRun.objects.exists()

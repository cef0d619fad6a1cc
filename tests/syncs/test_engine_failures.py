"""The engine when things break half-way: nothing lost, nothing doubled, every loss ticketed."""

from __future__ import annotations

import time
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from connectors.errors import TransientError
from connectors.http import BatchResult
from exceptions.models import Ticket
from syncs.flows import REGISTRY
from syncs.flows.base import Flow, Push
from syncs.flows.ometria.order_lifecycle import OrderLifecycleFlow
from syncs.models import InboxState, RecordState, RecordStatus, RunState, SyncRun, WebhookEvent
from syncs.services import flow_run_now
from syncs.sweeper import runs_sweep

SENT: list[str] = []


class OneOffFlow(Flow):
    """A one-off notification flow whose source fails after its first batch."""

    code = "test_one_off"
    label = "Test one-off"
    description = "test"
    target = "ometria"
    noun = "notes"
    once = True
    overlap_batches = True
    fail_after_first = True
    answer_all = True

    def read(self, ctx):
        yield [{"id": 1}, {"id": 2}]
        if type(self).fail_after_first:
            raise TransientError("Brightpearl is down", vendor="brightpearl", status=503)
        yield [{"id": 3}]

    def transform(self, ctx, record):
        return Push(
            source_id=str(record["id"]), payload={"id": record["id"]}, target_id=str(record["id"])
        )

    def write(self, ctx, pushes):
        time.sleep(0.2)  # still in flight when the next read fails
        SENT.extend(p.source_id for p in pushes)
        ids = [p.source_id for p in pushes]
        return BatchResult(ok=ids if type(self).answer_all else ids[:-1])


@pytest.fixture
def one_off(monkeypatch):
    SENT.clear()
    monkeypatch.setitem(REGISTRY, OneOffFlow.code, OneOffFlow)
    monkeypatch.setattr(OneOffFlow, "fail_after_first", True)
    monkeypatch.setattr(OneOffFlow, "answer_all", True)
    # The flow's target connector is made up front; this flow needs none.
    with mock.patch("syncs.engine.FlowContext.connector"):
        yield OneOffFlow


@pytest.mark.django_db(transaction=True)
def test_a_read_that_fails_while_a_write_is_in_flight_records_the_write(brand_a, one_off):
    run = flow_run_now(brand=brand_a, flow=one_off.code)
    assert run.state == RunState.QUEUED, "a temporary failure is tried again later"
    states = dict(RecordState.objects.filter(flow=one_off.code).values_list("source_id", "status"))
    assert states == {"1": "synced", "2": "synced"}
    one_off.fail_after_first = False
    flow_run_now(brand=brand_a, flow=one_off.code)
    assert SENT == ["1", "2", "3"], "nothing sent twice"


@pytest.mark.django_db(transaction=True)
def test_a_record_the_target_neither_took_nor_refused_is_not_counted_as_synced(brand_a, one_off):
    one_off.fail_after_first = False
    one_off.answer_all = False
    run = flow_run_now(brand=brand_a, flow=one_off.code)
    assert run.failed == 2 and run.written == 1
    states = dict(RecordState.objects.filter(flow=one_off.code).values_list("source_id", "status"))
    assert states == {"1": "synced", "2": "failed", "3": "failed"}
    ticket = Ticket.objects.get(source_id="2")
    assert ticket.error_code == "no_outcome"


@pytest.mark.django_db(transaction=True)
def test_a_record_that_breaks_the_transform_fails_alone_with_a_ticket(
    sandbox, live_brand, monkeypatch, caplog
):
    original = OrderLifecycleFlow.transform

    def transform(self, ctx, order):
        if order["id"] == 10003:
            raise KeyError("orderRows")
        return original(self, ctx, order)

    monkeypatch.setattr(OrderLifecycleFlow, "transform", transform)
    run = flow_run_now(brand=live_brand, flow="order_lifecycle", scope=["10002", "10003"])
    assert run.state == RunState.PARTIAL and run.written == 1 and run.failed == 1
    ticket = Ticket.objects.get(type__code="record_unreadable")
    assert ticket.source_id == "10003"
    # The field by its name, in a sentence; Python's own text is in the log for the agency.
    assert ticket.error_message == "The field “orderRows” is missing from it."
    assert ticket.error_code == "missing_field"
    assert "KeyError" not in str(Ticket.objects.values().get(pk=ticket.pk))
    logged = [r for r in caplog.records if "could not be transformed" in r.getMessage()]
    assert logged and logged[0].exc_info[0] is KeyError
    assert (
        RecordState.objects.get(flow="order_lifecycle", source_id="10003").status
        == RecordStatus.FAILED
    )


@pytest.mark.django_db(transaction=True)
def test_an_id_the_source_no_longer_has_gets_a_ticket(sandbox, live_brand):
    RecordState.objects.create(
        brand=live_brand, flow="order_lifecycle", source_id="99999", status="waiting"
    )
    run = flow_run_now(brand=live_brand, flow="order_lifecycle", scope=["10002", "99999"])
    assert run.written == 1
    ticket = Ticket.objects.get(type__code="record_missing")
    assert ticket.source_id == "99999" and ticket.team == "operations"
    assert not RecordState.objects.filter(source_id="99999").exists(), "it is not read again"


@pytest.mark.django_db(transaction=True)
def test_a_webhook_for_one_note_still_knows_the_shipment_is_partial(sandbox, live_brand):
    partial = sandbox.seed_facts()["demo"]["brightpearl"]["partial_shipment"]
    shipped = partial["shipped_note_ids"][0]
    flow_run_now(brand=live_brand, flow="shipments", trigger="webhook", scope=[str(shipped)])
    event = sandbox.state("ometria", "custom_events", id=f"gon-{shipped}")["items"][0]
    assert event["properties"]["partial"] is True


@pytest.mark.django_db
def test_the_sweeper_returns_half_drained_webhooks_to_the_inbox(brand_a):
    from connectors.models import Connection

    conn = Connection.objects.create(
        brand=brand_a,
        system="brightpearl",
        base_url="https://x.example",
        credentials={"app_ref": "a", "account_token": "b"},
        settings={"account": "a"},
    )
    event = WebhookEvent.objects.create(
        connection=conn,
        brand=brand_a,
        dedupe_key="k",
        event="order.modified.order-status",
        resource_ids=[1],
        body={},
        state=InboxState.PROCESSING,
    )
    WebhookEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(hours=1))
    with (
        mock.patch("syncs.sweeper.async_task"),
        mock.patch("syncs.sweeper.ometria_rejections_collect"),
    ):
        runs_sweep()
    event.refresh_from_db()
    assert event.state == InboxState.RECEIVED


@pytest.mark.django_db
def test_the_sweeper_hands_a_queued_run_to_the_queue_once_per_period(brand_a):
    run = SyncRun.objects.create(brand=brand_a, flow="order_lifecycle", trigger="manual")
    SyncRun.objects.filter(pk=run.pk).update(queued_at=timezone.now() - timedelta(hours=1))
    with mock.patch("syncs.services._enqueue") as enqueue, mock.patch("syncs.sweeper.async_task"):
        runs_sweep()
        runs_sweep()
    enqueue.assert_called_once_with(run.pk, "bulk")

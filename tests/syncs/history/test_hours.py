"""FlowHour is filled from what is new each minute, and counting again changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from exceptions.models import Ticket, TicketEvent
from exceptions.services import ticket_resolve, tickets_autoresolve
from syncs.history import hours
from syncs.history.hours import (
    flow_hours_from_runs,
    flow_hours_from_tickets,
    flow_hours_prune,
    flow_lags_sample,
)
from syncs.history.models import FlowHour, HistoryMark
from syncs.models import FlowConfig, RecordState, RecordStatus, RunState
from tests.exceptions.conftest import raise_ticket
from tests.syncs.history.helpers import NOW, finished_run

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
NOON = datetime(2025, 6, 11, 12, 0, tzinfo=UTC)


def row(brand, flow="order_lifecycle", hour=NOON) -> FlowHour:
    return FlowHour.objects.get(brand=brand, flow=flow, hour=hour)


def test_runs_count_in_the_hour_they_finished(brand_a, brand_b):
    finished_run(
        brand_a,
        started=NOON - 2 * H,
        finished=NOON + timedelta(minutes=5),
        read=100,
        written=10,
        waiting=2,
        failed=1,
        api_calls=7,
        throttle_waits=1,
    )
    finished_run(
        brand_a,
        started=NOON + timedelta(minutes=10),
        finished=NOON + timedelta(minutes=12),
        read=5,
        written=5,
        api_calls=2,
    )
    finished_run(brand_a, started=NOON - H, finished=NOON - timedelta(minutes=30), written=3)
    finished_run(
        brand_a, flow="customers", started=NOON, finished=NOON + timedelta(minutes=1), written=4
    )
    finished_run(brand_b, started=NOON, finished=NOON + timedelta(minutes=1), written=9)
    flow_hours_from_runs(now=NOW)
    noon = row(brand_a)
    assert (noon.runs, noon.read, noon.written, noon.waiting, noon.failed) == (2, 105, 15, 2, 1)
    assert (noon.api_calls, noon.throttle_waits) == (9, 1)
    assert row(brand_a, hour=NOON - H).written == 3
    assert row(brand_a, "customers").written == 4
    assert row(brand_b).written == 9


def test_counting_again_changes_nothing_and_a_new_run_is_added(brand_a):
    finished_run(brand_a, started=NOON, finished=NOON + timedelta(minutes=5), written=10)
    flow_hours_from_runs(now=NOW)
    flow_hours_from_runs(now=NOW)  # a repeated pass
    assert row(brand_a).written == 10
    finished_run(brand_a, started=NOW, finished=NOW + timedelta(minutes=1), written=6)
    flow_hours_from_runs(now=NOW + timedelta(minutes=2))
    assert (row(brand_a).runs, row(brand_a).written) == (2, 16)


def test_only_finished_runs_count_and_a_run_finishing_late_is_not_missed(brand_a):
    # Queued again for a later attempt: it has a finish time but is not finished.
    finished_run(
        brand_a,
        started=NOON,
        finished=NOON + timedelta(minutes=1),
        state=RunState.QUEUED,
        written=50,
    )
    flow_hours_from_runs(now=NOW)
    assert not FlowHour.objects.exists()
    # A run whose finish (12:29) is committed after the 12:30 pass read: the next pass
    # reads back far enough to count it.
    finished_run(brand_a, started=NOON, finished=NOW - timedelta(minutes=1), written=4)
    flow_hours_from_runs(now=NOW + timedelta(minutes=1))
    assert row(brand_a).written == 4


def test_a_pass_reads_only_the_hours_since_its_mark(brand_a):
    finished_run(brand_a, started=NOON - 5 * H, finished=NOON - 5 * H, written=1)
    HistoryMark.objects.create(name="runs", at=NOON + timedelta(minutes=10))
    flow_hours_from_runs(now=NOW)
    # The run five hours back is before the mark: its hour is not read again.
    assert not FlowHour.objects.filter(hour=NOON - 5 * H).exists()


def test_the_first_pass_reads_thirty_days_back(brand_a):
    finished_run(
        brand_a, started=NOW - timedelta(days=29), finished=NOW - timedelta(days=29), written=2
    )
    finished_run(
        brand_a, started=NOW - timedelta(days=40), finished=NOW - timedelta(days=40), written=8
    )
    flow_hours_from_runs(now=NOW)
    assert sum(FlowHour.objects.values_list("written", flat=True)) == 2


def _at(ticket, moment):
    TicketEvent.objects.filter(ticket=ticket).update(created=moment)


def test_tickets_opened_and_closed_are_counted_once_each(brand_a):
    HistoryMark.objects.create(name="tickets", at=NOON - H, last_id=0)
    a = raise_ticket(brand_a, source_id="1")
    b = raise_ticket(brand_a, source_id="2", flow="customers")
    raise_ticket(brand_a, source_id="3", flow="")
    ticket_resolve(ticket=a, actor=None, note="Fixed in Brightpearl.")
    tickets_autoresolve(brand=brand_a, source_system="brightpearl", source_ids=["2"])
    TicketEvent.objects.update(created=NOON + timedelta(minutes=3))
    raise_ticket(brand_a, source_id="2", flow="customers")  # reopened: opened again
    TicketEvent.objects.filter(ticket=b, kind="reopened").update(
        created=NOON + timedelta(minutes=4)
    )
    counted = flow_hours_from_tickets(now=NOW)
    assert counted == 6
    assert (row(brand_a).tickets_opened, row(brand_a).tickets_closed) == (1, 1)
    assert (row(brand_a, "customers").tickets_opened, row(brand_a, "customers").tickets_closed) == (
        2,
        1,
    )
    assert row(brand_a, "").tickets_opened == 1, "a ticket of no flow counts for the brand"
    # Read again: nothing new, nothing counted twice.
    assert flow_hours_from_tickets(now=NOW + timedelta(minutes=1)) == 0
    assert row(brand_a, "customers").tickets_opened == 2


def test_a_ticket_event_too_recent_to_be_settled_waits_for_the_next_pass(brand_a):
    """Ids are not always committed in order (PostgreSQL): a pass stops at the first event
    too recent to be settled, so the events after it are not counted past it."""
    HistoryMark.objects.create(name="tickets", at=NOW, last_id=0)
    recent = raise_ticket(brand_a, source_id="1")  # the smaller id, still settling
    settled = raise_ticket(brand_a, source_id="2")
    _at(recent, NOW - timedelta(seconds=30))
    _at(settled, NOW - timedelta(minutes=10))
    assert flow_hours_from_tickets(now=NOW) == 0
    assert flow_hours_from_tickets(now=NOW + timedelta(minutes=5)) == 2
    assert row(brand_a).tickets_opened == 2


def test_the_lag_sample_keeps_the_longest_of_the_hour(brand_a, brand_b):
    FlowConfig.objects.create(
        brand=brand_a, flow="order_lifecycle", enabled=True, cursor=NOW - timedelta(minutes=20)
    )
    FlowConfig.objects.create(brand=brand_a, flow="customers", enabled=True)  # never ran
    FlowConfig.objects.create(
        brand=brand_b, flow="order_lifecycle", enabled=False, cursor=NOW - timedelta(hours=5)
    )
    flow_lags_sample(now=NOW)
    assert row(brand_a).lag_seconds_max == 20 * 60
    assert row(brand_a, "customers").lag_seconds_max is None, "on, but no lag to measure"
    assert not FlowHour.objects.filter(brand=brand_b).exists(), "switched off: no row"
    # Later in the hour the flow has caught up: the hour keeps its longest wait...
    FlowConfig.objects.filter(brand=brand_a, flow="order_lifecycle").update(cursor=NOW)
    flow_lags_sample(now=NOW + timedelta(minutes=5))
    assert row(brand_a).lag_seconds_max == 20 * 60
    # ...and the next hour starts afresh; a record held back counts from when it was held.
    RecordState.objects.create(
        brand=brand_a,
        flow="order_lifecycle",
        source_id="9",
        status=RecordStatus.WAITING,
        held_since=NOW,
    )
    flow_lags_sample(now=NOW + H)
    assert row(brand_a, hour=NOON + H).lag_seconds_max == 60 * 60


def test_the_lag_sample_keeps_a_run_columns_untouched(brand_a):
    finished_run(brand_a, started=NOON, finished=NOON + timedelta(minutes=1), written=7)
    flow_hours_from_runs(now=NOW)
    FlowConfig.objects.create(
        brand=brand_a, flow="order_lifecycle", enabled=True, cursor=NOW - timedelta(minutes=3)
    )
    flow_lags_sample(now=NOW)
    flow_hours_from_runs(now=NOW + timedelta(minutes=1))
    assert (row(brand_a).written, row(brand_a).lag_seconds_max) == (7, 180)


def test_old_hours_are_pruned_once_an_hour(brand_a):
    FlowHour.objects.create(brand=brand_a, flow="customers", hour=NOON - hours.KEEP - H)
    FlowHour.objects.create(brand=brand_a, flow="customers", hour=NOON - hours.KEEP + H)
    assert flow_hours_prune(now=NOON) == 1
    FlowHour.objects.create(brand=brand_a, flow="customers", hour=NOON - hours.KEEP - 2 * H)
    assert flow_hours_prune(now=NOON + timedelta(minutes=1)) == 0, "pruned this hour already"
    assert flow_hours_prune(now=NOON + H) == 1
    assert FlowHour.objects.count() == 1


def test_the_sweeper_fills_the_hours(brand_a):
    from unittest import mock

    from django.utils import timezone

    from syncs import sweeper

    now = timezone.now()
    finished_run(
        brand_a, started=now - timedelta(minutes=5), finished=now - timedelta(minutes=4), written=3
    )
    with mock.patch("syncs.sweeper.async_task"):
        report = sweeper.runs_sweep()
    assert report["history"]["hours"] == 1
    assert FlowHour.objects.get(brand=brand_a).written == 3
    assert Ticket.objects.count() == 0

"""The overview's verdict per brand: each rule, its reason in words, worst brand first, and a
constant number of queries however many brands."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from brands.models import Brand
from connectors.models import Connection, Health, RateBudget
from connectors.services import connection_seen
from exceptions.services import ticket_raise
from syncs.models import FlowConfig, RecordState, RecordStatus, RunState, SyncRun
from syncs.overview import brands_overview
from syncs.verdict import lag_words

pytestmark = pytest.mark.django_db


def live(
    brand, flow="order_lifecycle", *, behind=timedelta(minutes=2), connected=True, **kw
) -> FlowConfig:
    """A switched-on flow whose cursor is `behind` (how far its reading has got), with
    working connections to its two systems unless told otherwise."""
    if connected:
        for system in ("brightpearl", "ometria"):
            if not Connection.objects.filter(brand=brand, system=system).exists():
                connect(brand, system, status=Health.OK)
    return FlowConfig.objects.create(
        brand=brand, flow=flow, enabled=True, cursor=timezone.now() - behind, **kw
    )


def connect(brand, system, **kw) -> Connection:
    connection, _ = Connection.objects.update_or_create(
        brand=brand, system=system, defaults={"base_url": f"https://{system}.example", **kw}
    )
    return connection


def line(brand):
    (found,) = [item for item in brands_overview([brand]) if item.brand == brand]
    return found


def test_a_brand_whose_flows_are_current_is_healthy(brand_a):
    live(brand_a)
    connect(brand_a, "brightpearl", status=Health.OK)
    connect(brand_a, "ometria", status=Health.OK)
    verdict = line(brand_a).verdict
    assert (verdict.label, verdict.reason) == ("Healthy", "The flow is current.")


def test_a_brand_with_no_flow_switched_on_is_not_live(brand_a):
    FlowConfig.objects.create(brand=brand_a, flow="order_lifecycle", enabled=False)
    verdict = line(brand_a).verdict
    assert (verdict.label, verdict.reason) == ("Not live", "No flow is switched on yet.")


def test_a_refused_connection_is_down_and_says_which_system_and_when(brand_a):
    live(brand_a)
    ometria = connect(brand_a, "ometria", status=Health.OK)
    connection_seen(connection=ometria, ok=False, message="The API key was refused.")
    brand_line = line(brand_a)
    assert brand_line.verdict.label == "Down"
    assert brand_line.verdict.reason.startswith("Ometria refused the connection at today ")
    assert brand_line.verdict.reason.endswith(": The API key was refused.")
    conn = next(c for c in brand_line.connections if c.system == "ometria")
    assert conn.failing and conn.last_failure == "The API key was refused."
    assert conn.last_failure_at is not None

    # It heals: the verdict follows, and the last error is still there to read.
    connection_seen(connection=ometria, ok=True)
    brand_line = line(brand_a)
    assert brand_line.verdict.label == "Healthy"
    conn = next(c for c in brand_line.connections if c.system == "ometria")
    assert conn.last_ok is not None and conn.last_failure == "The API key was refused."


def test_a_connection_no_flow_uses_does_not_make_the_brand_down(brand_a):
    live(brand_a)  # Brightpearl → Ometria
    connect(brand_a, "mailchimp", status=Health.FAILING, last_error="Refused.")
    assert line(brand_a).verdict.label == "Healthy"


def test_a_stopped_flow_is_down(brand_a):
    live(brand_a)
    SyncRun.objects.create(
        brand=brand_a,
        flow="order_lifecycle",
        trigger="schedule",
        state=RunState.FAILED,
        finished_at=timezone.now(),
        error="Ometria answered 500 five times.",
    )
    verdict = line(brand_a).verdict
    assert verdict.label == "Down"
    assert verdict.reason.startswith("Order lifecycle → Ometria stopped at today ")
    assert "Ometria answered 500 five times." in verdict.reason


def test_a_run_waiting_to_try_again_is_degraded(brand_a):
    live(brand_a)
    SyncRun.objects.create(
        brand=brand_a,
        flow="order_lifecycle",
        trigger="schedule",
        state=RunState.QUEUED,
        attempts=1,
        error="Ometria did not answer in time.",
    )
    verdict = line(brand_a).verdict
    assert verdict.label == "Degraded"
    assert "will try again" in verdict.reason


def test_lag_over_the_brands_alert_is_degraded_and_under_it_is_not(brand_a):
    live(brand_a, behind=timedelta(minutes=45))
    assert line(brand_a).verdict.label == "Degraded"
    assert "is 45 min behind" in line(brand_a).verdict.reason
    Brand.objects.filter(pk=brand_a.pk).update(lag_alert_minutes=60)
    brand_a.refresh_from_db()
    assert line(brand_a).verdict.label == "Healthy"


def test_a_flow_read_every_hour_may_be_up_to_two_intervals_behind(brand_a):
    live(brand_a, behind=timedelta(minutes=100), schedule_minutes=60)
    assert line(brand_a).verdict.label == "Healthy"


def test_held_records_are_counted_in_words_with_the_oldest(brand_a):
    live(brand_a)
    held = timezone.now() - timedelta(minutes=50)
    for n in (1, 2):
        RecordState.objects.create(
            brand=brand_a,
            flow="order_lifecycle",
            source_id=str(n),
            status=RecordStatus.WAITING,
            held_since=held,
        )
    flow = next(f for f in line(brand_a).flows if f.code == "order_lifecycle")
    assert flow.lag_words == "2 orders waiting, oldest 50 min"
    assert flow.behind
    assert line(brand_a).verdict.label == "Degraded"


def test_a_vendor_throttling_recently_is_degraded(brand_a):
    live(brand_a)
    connect(brand_a, "ometria", status=Health.OK)
    budget = RateBudget.objects.create(
        brand=brand_a, system="ometria", limit=100, window_seconds=60, remaining=0
    )
    budget.throttled_at = timezone.now().timestamp() - 60
    budget.save()
    verdict = line(brand_a).verdict
    assert verdict.label == "Degraded"
    assert verdict.reason.startswith("Ometria is throttling our calls (last at today ")
    # Long ago, it is history, not news.
    RateBudget.objects.filter(pk=budget.pk).update(throttled_at=timezone.now().timestamp() - 3600)
    assert line(brand_a).verdict.label == "Healthy"


def test_open_tickets_are_counted_by_team(brand_a):
    live(brand_a)
    ticket_raise(brand=brand_a, type_code="unmapped_status", title="t", flow="order_lifecycle")
    brand_line = line(brand_a)
    assert brand_line.tickets == {"marketing": 1}
    assert brand_line.ticket_teams == [("marketing", "marketing", 1)]
    flow = next(f for f in brand_line.flows if f.code == "order_lifecycle")
    assert flow.tickets == {"marketing": 1} and flow.open_tickets == 1


def test_brands_are_sorted_worst_first(brand_a, brand_b):
    calm = Brand.objects.create(name="Aardvark Outdoor", slug="aardvark")
    live(calm)
    live(brand_b, behind=timedelta(hours=3))
    live(brand_a)
    connect(brand_a, "ometria", status=Health.FAILING, last_error="Refused.")
    levels = [(i.brand.slug, i.verdict.label) for i in brands_overview([calm, brand_a, brand_b])]
    assert levels == [("acme", "Down"), ("bravo", "Degraded"), ("aardvark", "Healthy")]


def _brands(n: int, start: int) -> list[Brand]:
    brands = []
    for i in range(start, start + n):
        brand = Brand.objects.create(name=f"Brand {i:03}", slug=f"b{i:03}")
        brands.append(brand)
        live(brand)
        live(brand, "customers")
        connect(brand, "brightpearl", status=Health.OK)
        connect(brand, "ometria", status=Health.FAILING, last_error="Refused.")
        RateBudget.objects.create(
            brand=brand, system="brightpearl", limit=200, window_seconds=60, remaining=150
        )
        SyncRun.objects.create(brand=brand, flow="order_lifecycle", trigger="schedule")
        ticket_raise(brand=brand, type_code="unmapped_status", title="t", flow="order_lifecycle")
    return brands


def test_the_query_count_does_not_grow_with_the_brands():
    few = _brands(2, 0)
    many = few + _brands(10, 2)
    with CaptureQueriesContext(db) as small:
        brands_overview(few)
    with CaptureQueriesContext(db) as large:
        lines = brands_overview(many)
    assert len(lines) == 12 and all(i.verdict.label == "Down" for i in lines)
    assert len(large.captured_queries) == len(small.captured_queries)


def test_lag_words():
    now = timezone.now()
    common = {"noun": "orders", "threshold": timedelta(minutes=30), "now": now}
    none = {"waiting": 0, "waiting_since": None, "inbox": 0, "inbox_since": None}
    assert lag_words(lag=None, **common, **none) == "Not run yet"
    assert lag_words(lag=timedelta(seconds=20), **common, **none) == "Current"
    assert lag_words(lag=timedelta(minutes=4), **common, **none) == "Current to 4 min ago"
    assert (
        lag_words(lag=timedelta(hours=2), **common, **none)
        == "Behind: changes of the last 2 h not read yet"
    )
    one_waiting = {**none, "waiting": 1, "waiting_since": now - timedelta(minutes=3)}
    assert lag_words(lag=timedelta(minutes=3), **common, **one_waiting) == (
        "1 order waiting, oldest 3 min"
    )
    inbox = {**none, "inbox": 4, "inbox_since": now - timedelta(seconds=30)}
    assert lag_words(lag=timedelta(seconds=30), **common, **inbox) == (
        "4 webhook events to read, oldest 30 s"
    )


def test_a_flow_with_nothing_pending_and_no_cursor_is_current_once_it_has_run():
    now = timezone.now()
    none = {"waiting": 0, "waiting_since": None, "inbox": 0, "inbox_since": None}
    common = {"noun": "refunds", "threshold": timedelta(minutes=30), "now": now, "lag": None}
    assert lag_words(**common, **none, ran=True) == "Current"
    assert lag_words(**common, **none, ran=False) == "Not run yet"


def test_a_switched_on_flow_whose_system_is_not_connected_is_down(brand_a):
    live(brand_a, connected=False)  # Brightpearl → Ometria
    connect(brand_a, "brightpearl", status=Health.OK)
    verdict = line(brand_a).verdict
    assert verdict.label == "Down"
    assert verdict.reason.startswith("Ometria is not connected")


def test_a_failed_run_for_a_few_records_is_degraded_not_down(brand_a):
    live(brand_a)
    SyncRun.objects.create(
        brand=brand_a,
        flow="order_lifecycle",
        trigger="webhook",
        scope=["10001"],
        state=RunState.FAILED,
        finished_at=timezone.now(),
        error="Ometria answered 500 five times.",
    )
    verdict = line(brand_a).verdict
    assert verdict.label == "Degraded"
    assert "a run for 1 record failed" in verdict.reason


def test_refused_records_are_counted_apart_from_waiting_ones(brand_a):
    live(brand_a)
    held = timezone.now() - timedelta(minutes=5)
    for n, status in enumerate([RecordStatus.WAITING, RecordStatus.FAILED, RecordStatus.FAILED]):
        RecordState.objects.create(
            brand=brand_a, flow="order_lifecycle", source_id=str(n), status=status, held_since=held
        )
    flow = next(f for f in line(brand_a).flows if f.code == "order_lifecycle")
    assert flow.lag_words == "1 order waiting, 2 orders refused, oldest 5 min"


def test_webhook_events_wait_only_for_the_flows_reading_that_vendor(brand_a):
    from syncs.models import WebhookEvent

    live(brand_a)  # reads Brightpearl
    mailchimp = connect(brand_a, "mailchimp", status=Health.OK)
    WebhookEvent.objects.create(
        connection=mailchimp, brand=brand_a, dedupe_key="k1", event="unsubscribe"
    )
    flow = next(f for f in line(brand_a).flows if f.code == "order_lifecycle")
    assert "webhook" not in flow.lag_words


def test_an_evenly_paced_vendor_shows_its_pace_not_a_window():
    from syncs.overview import _budget_words

    budget = RateBudget(system="ometria", limit=8, window_seconds=1, remaining=0)
    assert _budget_words(budget, timezone.now()) == "Paced at 8 calls a second"

"""Silence: a flow far below its own normal for the hour of the week raises a ticket for
ops, never without a baseline, and the ticket resolves itself when the volume returns."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest

from exceptions.models import Ticket
from syncs.history.models import FlowHour
from syncs.history.silence import silence_check, windows
from syncs.models import FlowConfig
from tests.syncs.history.helpers import NOW, hour_row

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
NOON = datetime(2025, 6, 11, 12, 0, tzinfo=UTC)  # judged at 12:30: 10:00 to 12:00 UTC
WINDOW = [NOON - 2 * H, NOON - H]


def history(brand, weeks: list[int | None], now_sent: list[int], flow="order_lifecycle"):
    """Hour rows for the window judged now and the same hours 1..4 weeks back (None: no
    row that week, the flow was not on); each week's count split over its two hours."""
    for hour, sent in zip(WINDOW, now_sent, strict=True):
        hour_row(brand, hour, flow=flow, written=sent)
    for k, total in enumerate(weeks, start=1):
        if total is None:
            continue
        for n, hour in enumerate(WINDOW):
            hour_row(
                brand, hour - timedelta(weeks=k), flow=flow, written=total // 2 + n * (total % 2)
            )


@pytest.fixture
def flow_on(brand_a):
    return FlowConfig.objects.create(brand=brand_a, flow="order_lifecycle", enabled=True)


def silent_ticket() -> Ticket:
    return Ticket.objects.get(type__code="silent_flow")


def test_a_flow_far_below_its_usual_volume_raises_a_ticket_for_ops(brand_a, flow_on):
    history(brand_a, weeks=[40, 38, 42, 41], now_sent=[0, 0])
    assert silence_check(now=NOW)["silent"] == 1
    ticket = silent_ticket()
    assert ticket.title == "Order lifecycle → Ometria: 0 orders in 2 h; usually 40"
    assert (ticket.team, ticket.flow, ticket.source_id) == (
        "operations",
        "order_lifecycle",
        "silence:order_lifecycle",
    )
    # In the brand's time (London, summer time): 11:00 to 13:00.
    assert ticket.error_message.startswith("From 11:00 to 13:00 (Europe/London) 0 orders went")
    assert ticket.snapshot["weeks"] == [40, 38, 42, 41] and ticket.snapshot["enough"] == 8


def test_one_odd_week_does_not_move_usual(brand_a, flow_on):
    history(brand_a, weeks=[40, 40, 400, 40], now_sent=[3, 3])
    silence_check(now=NOW)
    assert silent_ticket().snapshot["usual"] == 40


def test_a_little_below_usual_is_not_silence(brand_a, flow_on):
    history(brand_a, weeks=[40, 40, 40, 40], now_sent=[4, 5])  # 9: more than a fifth of 40
    assert silence_check(now=NOW)["silent"] == 0
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    "weeks",
    [
        pytest.param([40, 40, None, None], id="a new flow: two weeks on record"),
        pytest.param([None, None, None, None], id="a new brand: nothing on record"),
        pytest.param([6, 4, 5, 6], id="too quiet at this hour to tell"),
    ],
)
def test_no_baseline_no_alarm(brand_a, flow_on, weeks):
    history(brand_a, weeks=weeks, now_sent=[0, 0])
    assert silence_check(now=NOW)["silent"] == 0
    assert not Ticket.objects.exists()


def test_no_judgement_without_a_sample_of_the_hours_judged(brand_a, flow_on):
    history(brand_a, weeks=[40, 40, 40, 40], now_sent=[0, 0])
    FlowHour.objects.filter(hour__in=WINDOW).delete()  # the sweeper was not running
    assert silence_check(now=NOW)["silent"] == 0


def test_judged_once_an_hour_a_repeat_counts_on_the_same_ticket(brand_a, flow_on):
    history(brand_a, weeks=[40, 40, 40, 40], now_sent=[0, 0])
    silence_check(now=NOW)
    silence_check(now=NOW + timedelta(minutes=10))
    assert silent_ticket().occurrences == 1
    # An hour later, still silent (the hours judged move on by one).
    hour_row(brand_a, NOON, written=0)
    for k in range(1, 5):
        hour_row(brand_a, NOON - timedelta(weeks=k), written=20)
    assert silence_check(now=NOW + H)["silent"] == 1
    assert silent_ticket().occurrences == 2


def test_an_hour_is_judged_only_once_its_runs_are_counted(brand_a, flow_on):
    history(brand_a, weeks=[40, 40, 40, 40], now_sent=[0, 0])
    # 9:00 to 11:00 was busy as usual; 10:00 to 12:00 was silent.
    for k in range(5):
        hour_row(brand_a, NOON - 3 * H - timedelta(weeks=k), written=40 if k == 0 else 20)
    # At 12:02 the hour that ended at 12:00 may still have runs to count: the hour before
    # is judged instead (9:00 to 11:00: not silent).
    assert silence_check(now=NOON + timedelta(minutes=2))["silent"] == 0
    assert silence_check(now=NOON + timedelta(minutes=6))["silent"] == 1


def test_the_ticket_resolves_itself_when_the_volume_returns(brand_a, flow_on):
    history(brand_a, weeks=[40, 40, 40, 40], now_sent=[0, 0])
    silence_check(now=NOW)
    hour_row(brand_a, NOON, written=5)
    assert silence_check(now=NOW + timedelta(minutes=1))["resolved"] == 0, "5 of the 8 needed"
    FlowHour.objects.filter(hour=NOON).update(written=9)
    assert silence_check(now=NOW + timedelta(minutes=2))["resolved"] == 1
    ticket = silent_ticket()
    assert ticket.status == "resolved"
    assert ticket.events.last().note == "Volume has returned: 9 orders sent since 12:00."


def test_the_hourly_judgement_resolves_a_flow_back_to_normal(brand_a, flow_on):
    history(brand_a, weeks=[40, 40, 40, 40], now_sent=[0, 0])
    silence_check(now=NOW)
    hour_row(brand_a, NOON, written=30)
    for k in range(1, 5):
        hour_row(brand_a, NOON - timedelta(weeks=k), written=20)
    silence_check(now=NOW + H)
    assert silent_ticket().status == "resolved"


def test_a_flow_switched_off_is_no_longer_watched(brand_a, flow_on):
    history(brand_a, weeks=[40, 40, 40, 40], now_sent=[0, 0])
    silence_check(now=NOW)
    FlowConfig.objects.filter(pk=flow_on.pk).update(enabled=False)
    silence_check(now=NOW + timedelta(minutes=1))
    assert silent_ticket().status == "resolved"


def test_other_brands_and_flows_are_judged_on_their_own_history(brand_a, brand_b, flow_on):
    FlowConfig.objects.create(brand=brand_b, flow="order_lifecycle", enabled=True)
    FlowConfig.objects.create(brand=brand_a, flow="customers", enabled=True)
    history(brand_a, weeks=[40, 40, 40, 40], now_sent=[0, 0])
    history(brand_b, weeks=[40, 40, 40, 40], now_sent=[20, 20])
    history(brand_a, weeks=[40, 40, 40, 40], now_sent=[20, 20], flow="customers")
    assert silence_check(now=NOW)["silent"] == 1
    assert (silent_ticket().brand, silent_ticket().flow) == (brand_a, "order_lifecycle")


def test_the_same_hours_of_the_week_are_the_brands_wall_clock_hours_across_a_clock_change():
    london = zoneinfo.ZoneInfo("Europe/London")
    # Judged 9 April 2025, 12:00 UTC (13:00 in London, summer time). The clocks went
    # forward on 30 March: two weeks back and more, 13:00 in London was 13:00 UTC.
    judged = datetime(2025, 4, 9, 12, 0, tzinfo=UTC)
    plan = windows(judged, london)
    assert plan[0] == [datetime(2025, 4, 9, h, 0, tzinfo=UTC) for h in (10, 11)]
    assert plan[1] == [datetime(2025, 4, 2, h, 0, tzinfo=UTC) for h in (10, 11)]
    assert plan[2] == [datetime(2025, 3, 26, h, 0, tzinfo=UTC) for h in (11, 12)]
    assert plan[4] == [datetime(2025, 3, 12, h, 0, tzinfo=UTC) for h in (11, 12)]

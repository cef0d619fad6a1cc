"""The charts' JSON, read from the hours table: points per hour or per local day, a brand's
flows added together, its lag the longest of any flow's, and the drift trend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syncs.history.charts import chart_data
from syncs.history.models import DriftCheck
from tests.syncs.history.helpers import NOW, finished_run, hour_row

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
NOON = datetime(2025, 6, 11, 12, 0, tzinfo=UTC)


def test_a_day_of_hours_ends_with_the_hour_under_way(brand_a):
    data = chart_data(brand=brand_a, span="24h", now=NOW)
    assert len(data["labels"]) == 24
    # London is an hour ahead in June: the hour under way (12:00 UTC) is 13:00 there.
    assert data["labels"][-1] == "13:00" and data["labels"][0] == "14:00"
    assert data["series"]["written"] == [0] * 24 and data["series"]["lag_minutes"] == [None] * 24


def test_a_brand_adds_its_flows_and_keeps_the_longest_lag(brand_a, brand_b):
    hour_row(
        brand_a,
        NOON,
        written=10,
        waiting=2,
        failed=1,
        read=50,
        lag_seconds_max=120,
        tickets_opened=2,
        tickets_closed=1,
    )
    hour_row(brand_a, NOON, flow="customers", written=5, lag_seconds_max=600)
    hour_row(brand_a, NOON, flow="", tickets_opened=1)  # a ticket of no flow
    hour_row(brand_a, NOON - 3 * H, written=7)
    hour_row(brand_a, NOON - 30 * H, written=1000)  # outside the day
    hour_row(brand_b, NOON, written=99)
    data = chart_data(brand=brand_a, span="24h", now=NOW)
    s = data["series"]
    assert s["written"][-1] == 15 and s["written"][-4] == 7
    assert s["held"][-1] == 3 and s["read"][-1] == 50
    assert s["lag_minutes"][-1] == 10.0
    assert (s["opened"][-1], s["closed"][-1]) == (3, 1)
    assert data["totals"]["written"] == 22 and data["totals"]["lag_minutes_max"] == 10.0


def test_one_flow_shows_only_its_own_hours(brand_a):
    hour_row(brand_a, NOON, written=10, lag_seconds_max=60)
    hour_row(brand_a, NOON, flow="customers", written=5, lag_seconds_max=600)
    data = chart_data(brand=brand_a, flow="customers", span="7d", now=NOW)
    assert len(data["labels"]) == 7 * 24 and data["labels"][-1] == "Wed 13:00"
    assert data["totals"]["written"] == 5 and data["totals"]["lag_minutes_max"] == 10.0


def test_thirty_days_are_the_brands_own_days(brand_a):
    brand_a.timezone = "America/New_York"  # 4 hours behind UTC in June
    brand_a.save()
    hour_row(brand_a, datetime(2025, 6, 11, 3, 0, tzinfo=UTC), written=4)  # 10 June there
    hour_row(brand_a, datetime(2025, 6, 11, 5, 0, tzinfo=UTC), written=6)  # 11 June there
    data = chart_data(brand=brand_a, span="30d", now=NOW)
    assert data["bucket"] == "day" and data["labels"][-1] == "Wed 11 Jun"
    assert data["series"]["written"][-2:] == [4, 6]


def test_the_drift_trend_has_a_series_per_target(brand_a):
    for days, flow, drifted in (
        (2, "order_lifecycle", 3),
        (1, "order_lifecycle", 0),
        (1, "storefront_orders", 2),
    ):
        at = NOW - timedelta(days=days)
        run = finished_run(brand_a, flow=flow, started=at, finished=at, full=True)
        target = "ometria" if flow == "order_lifecycle" else "brightpearl"
        DriftCheck.objects.create(
            run=run, brand=brand_a, flow=flow, target=target, checked_at=at, drifted=drifted
        )
    first = finished_run(brand_a, started=NOW, finished=NOW, full=True)
    DriftCheck.objects.create(
        run=first,
        brand=brand_a,
        flow="customers",
        target="ometria",
        checked_at=NOW,
        first_load=True,
    )
    drift = chart_data(brand=brand_a, now=NOW)["drift"]
    assert drift["labels"] == ["Mon 9 Jun", "Tue 10 Jun"]
    assert drift["datasets"] == [
        {"target": "brightpearl", "label": "Brightpearl", "data": [0, 2]},
        {"target": "ometria", "label": "Ometria", "data": [3, 0]},
    ]
    only = chart_data(brand=brand_a, flow="storefront_orders", now=NOW)["drift"]
    assert [d["target"] for d in only["datasets"]] == ["brightpearl"]

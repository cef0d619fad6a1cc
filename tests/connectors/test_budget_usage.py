"""What a brand's vendor allowance went to: each take counted as an event's or bulk work's,
on the budget row for the five minutes under way, then kept as a BudgetUsage row."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from connectors.budget import Budget, BudgetPolicy
from connectors.models import BudgetUsage, RateBudget
from connectors.usage import UsageSplit, budget_usage_last_hour

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
WINDOWED = BudgetPolicy(limit=200, window_seconds=60, reserve=10)
SMOOTH = BudgetPolicy(limit=8, window_seconds=1, smooth=True)


def at(minutes: float) -> float:
    """Epoch seconds, `minutes` after noon."""
    return (NOON + timedelta(minutes=minutes)).timestamp()


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def budget(brand, clock, system="brightpearl", policy=WINDOWED):
    return Budget(brand.pk, system, policy, clock=clock, sleep=clock.sleep)


def test_each_take_counts_as_an_event_or_bulk_and_each_five_minutes_are_kept(brand_a, brand_b):
    clock = Clock(at(1))
    bp, om = budget(brand_a, clock), budget(brand_a, clock, "ometria", SMOOTH)
    for _ in range(3):
        bp.acquire(priority=True)
    for _ in range(2):
        bp.acquire()
    om.acquire(priority=True), om.acquire()
    budget(brand_b, clock).acquire()
    noon = NOON + timedelta(minutes=4)
    assert budget_usage_last_hour(brand_ids=[brand_a.pk, brand_b.pk], now=noon) == {
        brand_a.pk: [UsageSplit("brightpearl", 3, 2), UsageSplit("ometria", 1, 1)],
        brand_b.pk: [UsageSplit("brightpearl", 0, 1)],
    }
    assert not BudgetUsage.objects.exists(), "the five minutes under way stay on the row"

    clock.now = at(5)  # the next five minutes: the first take keeps the finished ones
    bp.acquire(priority=True)
    kept = BudgetUsage.objects.get()
    assert (kept.brand, kept.system, kept.period) == (brand_a, "brightpearl", NOON)
    assert (kept.events, kept.bulk) == (3, 2)
    row = RateBudget.objects.get(brand=brand_a, system="brightpearl")
    assert (row.usage_events, row.usage_bulk) == (1, 0)
    later = NOON + timedelta(minutes=6)
    assert budget_usage_last_hour(brand_ids=[brand_a.pk], now=later)[brand_a.pk][0] == (
        UsageSplit("brightpearl", 4, 2)
    )


def test_counting_costs_no_statement_of_its_own(brand_a):
    clock = Clock(at(1))
    bp = budget(brand_a, clock)
    bp.acquire(priority=True)
    with CaptureQueriesContext(connection) as queries:
        bp.acquire(priority=True)
    assert not [q for q in queries if "budgetusage" in q["sql"]]
    assert len([q for q in queries if q["sql"].startswith("UPDATE")]) == 1


def test_keeping_a_period_drops_the_pairs_periods_older_than_two_days(brand_a, brand_b):
    old = NOON - timedelta(days=2, minutes=5)
    BudgetUsage.objects.create(brand=brand_a, system="brightpearl", period=old, bulk=9)
    BudgetUsage.objects.create(brand=brand_a, system="ometria", period=old, bulk=9)
    BudgetUsage.objects.create(brand=brand_b, system="brightpearl", period=old, bulk=9)
    clock = Clock(at(0))
    bp = budget(brand_a, clock)
    bp.acquire()
    clock.now = at(5)
    bp.acquire()
    kept = set(BudgetUsage.objects.values_list("brand_id", "system", "period"))
    assert kept == {
        (brand_a.pk, "brightpearl", NOON),
        (brand_a.pk, "ometria", old),  # another vendor's go when its own next period is kept
        (brand_b.pk, "brightpearl", old),
    }


def test_a_clock_a_little_behind_counts_into_the_newer_period(brand_a):
    clock = Clock(at(5))
    budget(brand_a, clock).acquire()
    clock.now = at(4.9)  # another machine, 6 s behind
    budget(brand_a, clock).acquire()
    row = RateBudget.objects.get()
    assert row.usage_bulk == 2 and not BudgetUsage.objects.exists()


def test_the_last_hour_is_summed_per_brand_and_vendor_in_one_query(
    brand_a, brand_b, django_assert_num_queries
):
    def count(brand, system, minutes, events=0, bulk=0):
        BudgetUsage.objects.create(
            brand=brand,
            system=system,
            period=NOON + timedelta(minutes=minutes),
            events=events,
            bulk=bulk,
        )

    count(brand_a, "brightpearl", 0, events=5, bulk=100)  # under way an hour ago: counted
    count(brand_a, "brightpearl", -5, events=1000, bulk=1000)  # before: not
    count(brand_a, "brightpearl", 55, events=10, bulk=200)
    count(brand_a, "ometria", 30, events=7)
    count(brand_b, "brightpearl", 30, bulk=1)
    # The five minutes under way, on the budget rows.
    RateBudget.objects.create(
        brand=brand_a,
        system="brightpearl",
        limit=200,
        window_seconds=60,
        remaining=200,
        usage_period=at(60),
        usage_events=1,
        usage_bulk=2,
    )
    RateBudget.objects.create(  # the last count of its pair was long ago: not counted
        brand=brand_b,
        system="bigcommerce",
        limit=150,
        window_seconds=30,
        remaining=150,
        usage_period=at(-10),
        usage_bulk=50,
    )
    now = NOON + timedelta(minutes=62)
    with django_assert_num_queries(1):
        split = budget_usage_last_hour(brand_ids=[brand_a.pk, brand_b.pk], now=now)
    assert split == {
        brand_a.pk: [UsageSplit("brightpearl", 16, 302), UsageSplit("ometria", 7, 0)],
        brand_b.pk: [UsageSplit("brightpearl", 0, 1)],
    }
    assert budget_usage_last_hour(brand_ids=[brand_b.pk], now=now) == {
        brand_b.pk: [UsageSplit("brightpearl", 0, 1)]
    }

"""The overview's bulk progress and API call split: what each line says, one query for all
brands."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from brands.models import Brand
from connectors.models import BudgetUsage
from connectors.usage import PERIOD_SECONDS
from syncs.models import RunState, SyncRun
from syncs.overview import api_calls_last_hour, bulk_progress

pytestmark = pytest.mark.django_db


def run(brand, flow="order_lifecycle", **kw) -> SyncRun:
    return SyncRun.objects.create(brand=brand, flow=flow, trigger="manual", **kw)


def test_bulk_progress_says_how_far_each_bulk_run_has_got(brand_a, brand_b):
    run(brand_a, full=True, state=RunState.RUNNING, read=12_400, total=100_000)
    run(brand_a, flow="customers", state=RunState.RUNNING, read=1_500)  # no total yet
    run(brand_a, flow="refunds", state=RunState.QUEUED)
    run(brand_b, flow="shipments", full=True, state=RunState.QUEUED, read=900, total=800)
    # Not bulk work, or not under way: not shown.
    run(brand_a, scope=["7"], state=RunState.RUNNING, read=1, total=1)
    run(brand_a, full=True, state=RunState.SUCCEEDED, read=100, total=100)

    assert bulk_progress(brand_ids=[brand_a.pk, brand_b.pk]) == {
        brand_a.pk: [
            "Order lifecycle → Ometria: full sync, 12,400 of 100,000 orders",
            "Customers → Ometria: catching up, 1,500 contacts so far",
            "Refunds → Ometria: catching up, waiting to start",
        ],
        # Between two slices a run waits its turn with what it has read so far; records
        # added since the source counted are read too.
        brand_b.pk: ["Shipments → Ometria: full sync, 900 of 900 notes"],
    }


def test_the_call_split_says_events_and_bulk_per_vendor(brand_a):
    period = timezone.now() - timedelta(seconds=PERIOD_SECONDS)
    BudgetUsage.objects.create(
        brand=brand_a, system="brightpearl", period=period, events=120, bulk=3_400
    )
    BudgetUsage.objects.create(brand=brand_a, system="ometria", period=period, events=1)
    assert api_calls_last_hour(brand_ids=[brand_a.pk]) == {
        brand_a.pk: [
            "Brightpearl, last hour: 120 calls for events, 3,400 for bulk work",
            "Ometria, last hour: 1 call for events, 0 for bulk work",
        ]
    }


@pytest.mark.parametrize("brands", [1, 5])
def test_progress_and_calls_take_one_query_each_however_many_brands(
    brands, django_assert_num_queries
):
    ids = []
    for i in range(brands):
        brand = Brand.objects.create(name=f"Brand {i}", slug=f"brand-{i}")
        ids.append(brand.pk)
        for flow in ("order_lifecycle", "customers"):
            run(brand, flow=flow, full=True, state=RunState.RUNNING, read=10, total=20)
        for system in ("brightpearl", "ometria"):
            BudgetUsage.objects.create(
                brand=brand, system=system, period=timezone.now(), events=1, bulk=2
            )
    with django_assert_num_queries(1):
        progress = bulk_progress(brand_ids=ids)
    with django_assert_num_queries(1):
        calls = api_calls_last_hour(brand_ids=ids)
    assert len(progress) == len(calls) == brands
    assert all(len(lines) == 2 for lines in [*progress.values(), *calls.values()])

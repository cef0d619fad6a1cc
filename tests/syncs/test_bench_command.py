"""`manage.py bench` syncs N seeded orders through the four flows and prints one JSON line.

No timing is asserted here: the figures are for the README, measured on purpose.
"""

from __future__ import annotations

import json
from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command

from syncs.flows.ometria import FLOWS as OMETRIA_FLOWS
from syncs.models import SyncRun

pytestmark = pytest.mark.django_db(transaction=True)

# What the benchmark measures: the four Brightpearl → Ometria flows.
FOUR = [flow.code for flow in OMETRIA_FLOWS]


def test_bench_syncs_every_order_through_the_four_flows():
    out = StringIO()
    call_command("bench", orders=60, stdout=out, stderr=StringIO())
    [line] = out.getvalue().splitlines()
    figures = json.loads(line)
    assert figures["orders"] == 60
    assert set(figures["flows"]) == set(FOUR)
    assert figures["flows"]["order_lifecycle"]["read"] == 60
    runs = SyncRun.objects.filter(brand__slug="bench")
    assert figures["api_calls"] == sum(runs.values_list("api_calls", flat=True)) > 0
    assert figures["api_calls_per_record"] == round(figures["api_calls"] / 60, 4)
    assert figures["records_per_s"] > 0 and figures["peak_rss_mb"] > 0
    assert {r.state for r in runs} <= {"succeeded", "partial"}


def test_bench_refuses_a_database_that_is_not_migrated():
    with (
        mock.patch(
            "django.db.migrations.executor.MigrationExecutor.migration_plan",
            return_value=[("a migration", False)],
        ),
        pytest.raises(CommandError, match="not up to date"),
    ):
        call_command("bench", orders=10, stdout=StringIO(), stderr=StringIO())


def test_bench_through_a_real_cluster(monkeypatch):
    from tests.fixtures.processes import console_env

    # The cluster the bench starts must work on this test's database, like this process.
    for key, value in console_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("REDIS_URL", raising=False)
    out = StringIO()
    call_command("bench", orders=40, workers=1, stdout=out, stderr=StringIO())
    figures = json.loads(out.getvalue())
    assert figures["workers"] == 1
    assert set(figures["flows"]) == set(FOUR)
    assert figures["flows"]["order_lifecycle"]["read"] == 40
    runs = SyncRun.objects.filter(brand__slug="bench")
    assert {r.trigger for r in runs} == {"manual"} and runs.count() == len(FOUR)
    assert figures["peak_rss_mb"] > 0


def test_bench_through_a_cluster_refuses_a_database_with_other_brands(brand_a):
    with pytest.raises(CommandError, match="holds other brands"):
        call_command("bench", orders=10, workers=1, stdout=StringIO(), stderr=StringIO())


@pytest.mark.longest
@pytest.mark.slow
def test_bench_for_bigcommerce_prints_the_stock_and_order_figures():
    out = StringIO()
    call_command(
        "bench",
        pair="bigcommerce",
        orders=1000,
        skus=2100,
        # Brightpearl's minute lasts 12 s. Faster scales measure the console's own pace, not
        # the cap: at 60 each call waited out a window (4 minutes, a fraction of 0.004).
        time_scale=5,
        stdout=out,
        stderr=StringIO(),
    )
    [line] = out.getvalue().splitlines()
    figures = json.loads(line)
    keys = {"orders_cap_fraction", "bp_calls_per_order", "stock_skus", "stock_calls"}
    keys |= {"stock_written", "stock_bad_tickets", "peak_rss_mb"}
    assert keys <= set(figures)
    # 2,100 changed SKUs at one location: two calls of at most 2,000.
    assert figures["stock_skus"] == 2100 and figures["stock_calls"] == 2
    assert figures["stock_written_first"] == 2100
    # One SKU BigCommerce no longer knows: the rest written, one ticket, one call more.
    assert figures["stock_written"] == 2099 and figures["stock_bad_tickets"] == 1
    assert figures["stock_calls_with_bad_sku"] == 3
    assert figures["orders_created"] > 0 and figures["bp_calls_per_order"] > 0
    # 100 storefront orders, their customers and payments: with batched look-ups, more than
    # one Brightpearl call an order, and fewer than the old per-order search's four.
    assert 100 < figures["bp_calls"] < 400
    # The cap-bound fraction exists only where the cap binds (more than one window's 200).
    fraction = figures["orders_cap_fraction"]
    assert (fraction is None) if figures["bp_calls"] <= 200 else fraction > 0
    assert figures["peak_rss_mb"] > 0


@pytest.mark.longest
def test_bench_salesforce_sends_customers_and_products_200_records_a_call():
    out = StringIO()
    call_command(
        "bench", pair="salesforce", accounts=250, products=450, stdout=out, stderr=StringIO()
    )
    [line] = out.getvalue().splitlines()
    figures = json.loads(line)
    assert figures["customers"] == 250 and figures["products"] == 450
    assert figures["records"] == 500 + 450
    # 250 customers: two collections of Accounts (200 + 50), then two of Contacts; 450
    # products: three collections of Product2 (200 + 200 + 50).
    assert figures["write_calls"] == 4 + 3
    assert figures["accounts_per_call"] == 125.0 and figures["products_per_call"] == 150.0
    assert figures["records_per_call"] == round(950 / 7, 1)
    assert figures["api_calls"] >= figures["write_calls"] + figures["stock_calls"]
    assert figures["daily_allocation"] and figures["peak_rss_mb"] > 0
    assert 0 < figures["daily_allocation_used_pct"] < 100
    # Stock: every product's figure once (three calls), then only the few that moved (one).
    # (the seed's gift wrap, product 1041, is not stock tracked: no figure for it)
    assert figures["stock_written"] == 450 - 1 and figures["stock_calls"] == 3
    assert figures["stock_changed_written"] == figures["stock_changed"] == 7
    assert figures["stock_changed_calls"] == 1
    assert figures["waiting"] == figures["failed"] == 0

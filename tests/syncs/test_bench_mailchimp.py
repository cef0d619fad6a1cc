"""`manage.py bench --pair mailchimp` prints one JSON line with the issue's keys.

No timing is asserted: the figures are for the README, measured on purpose at 10,000
contacts. This runs it small, to show the keys are there and what they count."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from syncs.management.bench_mailchimp import bound_seconds
from syncs.models import SyncRun

pytestmark = pytest.mark.django_db(transaction=True)

KEYS = {
    "contacts",
    "member_calls",
    "cap_fraction",
    "purchase_event_p95_s",
    "duplicates_created",
    "unsubscribes_overwritten",
}


def test_bench_mailchimp_prints_the_figures_of_a_backfill_with_events():
    out = StringIO()
    call_command("bench", pair="mailchimp", contacts=300, event_every=0.2, stdout=out,
                 stderr=StringIO())  # fmt: skip
    [line] = out.getvalue().splitlines()
    figures = json.loads(line)
    assert set(figures) >= KEYS
    assert figures["contacts"] == 300
    backfill = SyncRun.objects.get(brand__slug="bench-mc", flow="mailchimp_contacts")
    assert figures["members_sent"] == backfill.written > 0
    # Each call that wrote members carried at most its cap, so the fill is a fraction.
    assert 1 <= figures["member_calls"] < figures["members_sent"]
    # Throughput over the limit-bound maximum: the least time the limits allow over the time
    # taken, the bound being the binding vendor's.
    bounds = (figures["brightpearl_bound_s"], figures["mailchimp_bound_s"])
    assert figures["limit_bound_s"] == pytest.approx(max(bounds), abs=0.01)
    assert figures["cap_fraction"] == pytest.approx(
        figures["limit_bound_s"] / figures["backfill_seconds"], rel=0.05
    )
    assert figures["brightpearl_requests"] >= figures["brightpearl_reads_needed"] > 0
    assert 0 < figures["call_fraction"] <= 1
    events = SyncRun.objects.filter(brand__slug="bench-mc", flow="mailchimp_purchases")
    assert figures["events"] == events.count() > 0
    assert figures["duplicates_created"] == 0
    assert figures["unsubscribes_overwritten"] == 0
    assert figures["events_undone"] == 0


def test_the_limit_bound_is_derived_from_the_documented_limits():
    """10,000 contacts: 20 search pages of 500, 50 contact GETs of 200, the tag list, and 3
    reads an event, at 200 requests a minute; Mailchimp: 500 members a call, 10 at once."""
    bound = bound_seconds(contacts=10_000, events=10, members=9_000, call_s=0.5)
    assert bound["brightpearl_reads_needed"] == 20 + 50 + 1 + 30
    assert bound["brightpearl_bound_s"] == pytest.approx(101 * 0.3)
    assert bound["mailchimp_bound_s"] == pytest.approx(18 * 0.5 / 10)
    assert bound["binding_limit"] == "brightpearl"
    slow = bound_seconds(contacts=10_000, events=0, members=10_000, call_s=20.0)
    assert slow["binding_limit"] == "mailchimp" and slow["limit_bound_s"] == 40.0


def test_with_the_purchases_backfill_beside_it_no_event_is_undone():
    """Events every 2 s (three Brightpearl reads each): at a faster pace the events alone
    would spend the 200 a minute, and bulk, which gives way to them, would wait."""
    out = StringIO()
    call_command("bench", pair="mailchimp", contacts=300, event_every=2, stdout=out,
                 stderr=StringIO(), purchases_backfill=True)  # fmt: skip
    figures = json.loads(out.getvalue())
    purchases = SyncRun.objects.get(brand__slug="bench-mc", flow="mailchimp_purchases", full=True)
    assert figures["purchases_backfill_orders"] == purchases.written > 20
    assert figures["events"] > 0
    # No backfill wrote an older copy of an order over an event's cancellation.
    assert figures["events_undone"] == 0
    assert figures["duplicates_created"] == 0

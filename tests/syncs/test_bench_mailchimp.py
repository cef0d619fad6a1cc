"""`manage.py bench --pair mailchimp` prints one JSON line with the issue's keys.

No timing is asserted: the figures are for the README, measured on purpose at 10,000
contacts. This runs it small, to show the keys are there and what they count."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from syncs.management.bench_mailchimp import window_figures
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
                 stderr=StringIO(), purchases_backfill=False)  # fmt: skip
    [line] = out.getvalue().splitlines()
    figures = json.loads(line)
    assert set(figures) >= KEYS
    assert figures["contacts"] == 300
    backfill = SyncRun.objects.get(brand__slug="bench-mc", flow="mailchimp_contacts")
    assert figures["members_sent"] == backfill.written > 0
    # Each call that wrote members carried at most its cap, so the fill is a fraction.
    assert 1 <= figures["member_calls"] < figures["members_sent"]
    assert 0 < figures["call_fraction"] <= 1
    # 300 contacts take a few of Brightpearl's 200 a minute, in seconds: no whole window
    # passed during the backfill, no limit bound it, and there is no fraction to give.
    assert figures["cap_fraction"] is None and figures["brightpearl_windows"] == 0
    assert 0 < figures["mailchimp_peak_connections"] <= 10
    events = SyncRun.objects.filter(brand__slug="bench-mc", flow="mailchimp_purchases")
    assert figures["events"] == events.count() > 0
    assert figures["duplicates_created"] == 0
    assert figures["unsubscribes_overwritten"] == 0
    assert figures["events_undone"] == 0


def window(opened, answered, limit=200, refused=0):
    return {"opened_at": opened, "closes_at": opened + 60, "limit": limit,
            "answered": answered, "refused": refused}  # fmt: skip


def test_the_cap_fraction_is_what_the_backfill_had_of_the_whole_windows_after_the_events():
    """Windows at 0, 60, 120 and 180 s; the backfill ran from 30 to 200 s, so only the two
    windows wholly inside count. Events began 50 requests in the first of them, 20 in the
    second (and some outside, which do not count)."""
    windows = [window(0, 200), window(60, 190), window(120, 180), window(180, 40)]
    events = [65.0] * 50 + [130.0] * 20 + [10.0] * 30 + [190.0] * 5
    figures = window_figures(windows, events, began=30.0, ended=200.0)
    assert figures["brightpearl_windows"] == 2
    # The backfill had (200 - 50) + (200 - 20) = 330 after the events, and spent
    # (190 - 50) + (180 - 20) = 300 of them.
    assert figures["cap_fraction"] == round(300 / 330, 3)
    assert figures["brightpearl_window_use"] == round(370 / 400, 3)
    assert figures["brightpearl_events_share"] == round(70 / 400, 3)
    # A backfill inside one window has no whole window: no fraction, not a made-up one.
    assert window_figures(windows, events, began=61.0, ended=119.0)["cap_fraction"] is None


@pytest.mark.longest
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

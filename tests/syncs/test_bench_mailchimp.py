"""`manage.py bench --pair mailchimp` prints one JSON line with the issue's keys.

No timing is asserted: the figures are for the README, measured on purpose at 10,000
contacts. This runs it small, to show the keys are there and what they count."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

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
    assert 0 < figures["cap_fraction"] <= 1
    events = SyncRun.objects.filter(brand__slug="bench-mc", flow="mailchimp_purchases")
    assert figures["events"] == events.count() > 0
    assert figures["duplicates_created"] == 0
    assert figures["unsubscribes_overwritten"] == 0

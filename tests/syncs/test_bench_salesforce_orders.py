"""`manage.py bench_salesforce_orders` sends N seeded orders and their credits to a sandbox
Salesforce and prints one JSON line. No timing is asserted: the figures are for the README."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_every_order_goes_with_its_items_in_collections_of_200():
    out = StringIO()
    call_command("bench_salesforce_orders", orders=300, stdout=out, stderr=StringIO())
    [line] = out.getvalue().splitlines()
    figures = json.loads(line)
    assert figures["orders"] == figures["created"] == 300
    assert figures["waiting"] == figures["failed"] == figures["duplicates"] == 0
    # Two batches (200 + 100), each: its Orders, its items (200 a call, so at most one call
    # more than the items need in all), then the new Orders' status.
    items_calls = -(-figures["order_items"] // 200)
    assert 2 + items_calls <= figures["write_calls"] <= 2 + (items_calls + 1) + 2
    # Products and their prices: one query each per batch at most (SKUs met once a run).
    assert 2 <= figures["query_calls"] <= 4
    assert figures["api_calls"] > figures["write_calls"] and figures["peak_rss_mb"] > 0
    assert figures["credited_orders"] > 0

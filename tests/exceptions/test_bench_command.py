"""`manage.py bench_inbox` fills its own brands once and prints one JSON line.

No timing is asserted here: the figures are for the README, measured on purpose.
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from brands.models import Brand
from exceptions.models import Ticket

pytestmark = pytest.mark.django_db


def bench(tickets: int) -> dict:
    out = StringIO()
    call_command("bench_inbox", tickets=tickets, loads=1, stdout=out, stderr=StringIO())
    [line] = out.getvalue().splitlines()
    return json.loads(line)


def test_bench_fills_once_and_reports(brand_a):
    mine = Ticket.objects.filter(brand=brand_a)
    first = bench(12)
    assert set(first) == {"tickets", "first_page_ms", "queries"}
    assert first["tickets"] == 12
    assert isinstance(first["first_page_ms"], float)
    assert 0 < first["queries"] <= 8
    bench_brands = Brand.objects.filter(slug__startswith="bench-")
    assert Ticket.objects.filter(brand__in=bench_brands).count() == 12
    # Run again with more: only the missing ones are made; with the same count, none.
    assert bench(20)["tickets"] == 20
    assert bench(20)["tickets"] == 20
    assert Ticket.objects.filter(brand__in=bench_brands).count() == 20
    assert not mine.exists()
    spread = Ticket.objects.filter(brand__in=bench_brands).values_list("first_seen", flat=True)
    assert len(set(spread)) > 1  # first seen spread over months, not all "now"

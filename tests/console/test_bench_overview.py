"""The agency-mode benchmark's command: its JSON line, and the brands it makes (not timed:
the figures are the command's to print)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from brands.models import Brand

pytestmark = pytest.mark.django_db


def test_bench_overview_prints_its_figures_for_the_brands_it_made():
    out = StringIO()
    call_command("bench_overview", brands=10, runs=2, repeat=1, stdout=out)
    figures = json.loads(out.getvalue().strip().splitlines()[-1])
    assert {"brands", "render_ms", "queries", "queries_at_10"} <= set(figures)
    assert figures["brands"] == 10 == Brand.objects.filter(slug__startswith="bench-").count()
    # One brand in ten refused, one in ten behind: the page shows each verdict.
    assert figures["verdicts"] == {"Down": 1, "Degraded": 1, "Healthy": 8, "Not live": 0}
    assert figures["queries"] == figures["queries_at_10"] > 0

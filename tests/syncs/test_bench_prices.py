"""`manage.py bench_prices` pushes N SKUs' prices and audits the catalogue, one JSON line.

No timing is asserted here: the figures are for the README, measured on purpose.
"""

from __future__ import annotations

import json
import math
from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_bench_prices_writes_every_good_sku_once_and_tickets_the_bad_one():
    out = StringIO()
    call_command("bench_prices", skus=120, stdout=out, stderr=StringIO())
    [line] = out.getvalue().splitlines()
    figures = json.loads(line)
    # The demo seed's 40 storefront SKUs and the 120 added, one of them refused.
    assert figures["prices_skus"] == 120
    assert figures["prices_written"] == 159 and figures["prices_bad_tickets"] == 1
    # 50 variants a call, and the refused call's 49 others sent again once.
    assert figures["prices_bc_puts"] == math.ceil(160 / 50) + 1
    assert figures["prices_rerun_written"] == 0 and figures["prices_rerun_bc_puts"] == 0
    assert figures["audit_only_in_bigcommerce"] == 1 and figures["audit_only_in_brightpearl"] == 1
    assert figures["peak_rss_mb"] > 0

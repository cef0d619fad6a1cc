"""`manage.py chaos`: the two-way flows under lost answers and a killed cluster."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from syncs.models import SyncRun

pytestmark = pytest.mark.django_db(transaction=True)


def test_chaos_refuses_a_database_with_other_brands(brand_a):
    with pytest.raises(CommandError, match="holds other brands"):
        call_command("chaos", kill_workers=1, stdout=StringIO(), stderr=StringIO())


def test_chaos_refuses_a_share_of_lost_answers_that_is_not_one():
    with pytest.raises(CommandError, match="share of writes"):
        call_command("chaos", lost_responses=1.5, stdout=StringIO(), stderr=StringIO())


@pytest.mark.longest
@pytest.mark.slow
def test_a_small_chaos_run_holds(monkeypatch):
    from tests.fixtures.processes import console_env

    # The cluster it starts must work on this test's database, like this process.
    for key, value in console_env().items():
        monkeypatch.setenv(key, value)
    out = StringIO()
    call_command(
        "chaos",
        lost_responses=0.2,
        kill_workers=1,
        orders=4,
        seed_orders=300,
        latency_ms=0,
        workers=1,
        stdout=out,
        stderr=StringIO(),
    )
    figures = json.loads(out.getvalue().splitlines()[-1])
    assert figures["duplicates"] == figures["lost"] == figures["echoes"] == 0
    assert figures["records"] >= 4 and figures["created"] > 0 and figures["kills"] == 1
    assert figures["repeated_events"] <= figures["resent"]
    assert SyncRun.objects.filter(brand__slug="chaos").count() == figures["runs"]

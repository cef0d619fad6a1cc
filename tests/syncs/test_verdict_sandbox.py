"""The verdict against the sandbox's faults: an outage is Degraded with its reason (not
"Running 0/0/0"), and the connection's line keeps the last error after it heals."""

from __future__ import annotations

import time

import pytest

from syncs.models import RunState, SyncRun
from syncs.overview import brands_overview
from syncs.services import flow_run_now
from tests.fixtures import loopback

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def test_an_ometria_outage_is_degraded_with_its_reason_and_its_error_stays_after(
    sandbox, synced_brand
):
    order = sandbox.state("brightpearl", "orders", status=20, limit=1)["items"][0]["id"]
    loopback.post(
        f"{sandbox.url}/_sandbox/brightpearl/orders/{order}/status", json={"statusId": 21}
    ).raise_for_status()
    time.sleep(1.1)  # a run reads changes up to the second it starts
    sandbox.set_faults("ometria", outage_seconds=60)
    run = flow_run_now(brand=synced_brand, flow="order_lifecycle")
    run = SyncRun.objects.get(pk=run.pk)
    assert run.state == RunState.QUEUED and run.attempts == 1  # it will try again by itself

    (line,) = brands_overview([synced_brand])
    assert line.verdict.label == "Degraded"
    assert any(
        "Order lifecycle → Ometria: a run failed and will try again." in r
        for r in line.verdict.reasons
    )
    ometria = next(c for c in line.connections if c.system == "ometria")
    assert not ometria.failing and ometria.last_failure and ometria.last_failure_at

    sandbox.clear_faults("ometria")
    flow_run_now(brand=synced_brand, flow="order_lifecycle")
    (line,) = brands_overview([synced_brand])
    ometria = next(c for c in line.connections if c.system == "ometria")
    assert ometria.last_ok > ometria.last_failure_at
    assert ometria.last_failure  # still there to read

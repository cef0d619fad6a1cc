"""The flow contract: every registered flow, the same six checks, against the sandbox.

- replaying the same input writes nothing new;
- lost answers on its writes leave 0 duplicates, and the target ends as without them;
- a worker killed (SIGKILL) mid-batch converges: 0 lost, 0 doubled;
- a 429/503 storm on both sides converges;
- an unmapped value is held back with a ticket, then goes when mapped;
- the console's own change coming back is not sent back;
- a backfill and a webhook racing on one record never leave the older read in the target.

Each check compares the target with a clean run's (the sandbox's seed is the same every
time), so "nothing lost, nothing doubled" is checked record by record for every flow.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from django.conf import settings
from django.db import connections

from exceptions.models import OPEN_STATUSES, Ticket
from syncs import services
from syncs.flows import REGISTRY
from syncs.models import RecordLink, RecordState, RecordStatus, RunState, SyncRun
from syncs.services import flow_run, flow_run_now
from tests.contract.scenarios import SCENARIOS, Scenario
from tests.fixtures.processes import console_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

FLOWS = sorted(REGISTRY)
# Runs a converging check may take (each picks up what the last left waiting).
MAX_RUNS = 8
_BASELINES: dict[str, dict] = {}
_WAITING: dict[str, set[str]] = {}


def scenario(code: str) -> Scenario:
    found = SCENARIOS.get(code)
    assert found is not None, (
        f"Flow {code} is registered but has no scenario in tests/contract/scenarios.py: "
        "every flow is held to the contract."
    )
    return found


def converge(brand, code: str, *, trigger: str = "manual") -> list[SyncRun]:
    """Run the flow until a run leaves nothing waiting on an unknown outcome."""
    runs = [flow_run_now(brand=brand, flow=code, full=True, trigger=trigger)]
    while len(runs) < MAX_RUNS and _unsettled(brand, code):
        runs.append(flow_run_now(brand=brand, flow=code, full=True, trigger=trigger))
    return runs


def _unsettled(brand, code: str) -> bool:
    """Records whose last write got no answer, or that failed for a passing reason."""
    return RecordState.objects.filter(
        brand=brand,
        flow=code,
        status__in=[RecordStatus.WAITING, RecordStatus.FAILED],
        detail__regex=r"(no answer|no_outcome|transient|throttled|did not say)",
    ).exists()


def waiting_ids(brand, code: str) -> set[str]:
    return set(
        RecordState.objects.filter(brand=brand, flow=code, status=RecordStatus.WAITING).values_list(
            "source_id", flat=True
        )
    )


def baseline(code: str, brand, sandbox) -> dict:
    """The target after a clean run on the same seed: what every other check must match."""
    if code not in _BASELINES:
        scenario(code).prepare(brand, sandbox)
        converge(brand, code)
        _BASELINES[code] = scenario(code).snapshot(sandbox)
        # Some records wait even in a clean run (the seed's status no default mapping knows).
        _WAITING[code] = waiting_ids(brand, code)
        sandbox.reset("demo")
        RecordState.objects.filter(brand=brand).delete()
        SyncRun.objects.filter(brand=brand).delete()
        Ticket.objects.filter(brand=brand).delete()
        RecordLink.objects.filter(brand=brand).delete()
    scenario(code).prepare(brand, sandbox)
    return _BASELINES[code]


def writes(sandbox, s: Scenario) -> int:
    by_method = sandbox.stats().get(s.target, {}).get("by_method", {})
    return sum(by_method.get(m, 0) for m in s.write_methods)


def assert_nothing_lost_or_doubled(brand, code: str, sandbox, expected: dict) -> None:
    s = scenario(code)
    got = s.snapshot(sandbox)
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    different = sorted(k for k in set(got) & set(expected) if got[k] != expected[k])
    assert not missing, f"{code}: lost {len(missing)}: {missing[:10]}"
    assert not extra, f"{code}: {len(extra)} the clean run did not make: {extra[:10]}"
    assert not different, f"{code}: {len(different)} differ from the clean run: {different[:5]}"
    assert s.duplicates(sandbox) == 0, f"{code}: duplicates in {s.target}"
    # A one-off notification sent again is one the console knew to be in doubt, and counted.
    resent = sum(SyncRun.objects.filter(brand=brand, flow=code).values_list("resent", flat=True))
    assert s.repeated(sandbox) <= resent, f"{code}: sent again without knowing it"


@pytest.fixture(autouse=True)
def _stale_quickly(monkeypatch):
    # A killed worker's run is taken over after a second, not five minutes.
    monkeypatch.setattr(services, "RUN_STALE_SECONDS", 1)


@pytest.mark.parametrize("code", FLOWS)
def test_every_flow_has_a_scenario(code):
    assert scenario(code).flow == code


@pytest.mark.parametrize("code", FLOWS)
def test_replaying_the_same_input_writes_nothing_new(code, sandbox, live_brand):
    s = scenario(code)
    expected = baseline(code, live_brand, sandbox)
    converge(live_brand, code)
    before = writes(sandbox, s)
    again = flow_run_now(brand=live_brand, flow=code, full=True)
    assert again.state in (RunState.SUCCEEDED, RunState.PARTIAL), again.error
    assert again.written == 0 and again.created == 0, again.log
    assert writes(sandbox, s) == before, f"{code} wrote to {s.target} again"
    assert_nothing_lost_or_doubled(live_brand, code, sandbox, expected)


@pytest.mark.parametrize("code", FLOWS)
def test_lost_answers_leave_no_duplicates(code, sandbox, live_brand):
    s = scenario(code)
    expected = baseline(code, live_brand, sandbox)
    # A third of the target's writes are applied, and their answers lost.
    sandbox.set_faults(s.target, lost_write_rate=0.34, seed=7)
    runs = converge(live_brand, code)
    sandbox.clear_faults()
    runs += converge(live_brand, code)
    lost = sandbox.stats()[s.target]["faults"].get("lost_write", 0)
    assert lost > 0, "no answer was lost"
    assert_nothing_lost_or_doubled(live_brand, code, sandbox, expected)
    # Only what was in a request whose answer was lost went again.
    in_doubt = sum(
        len(w.get("keys") or [])
        for w in sandbox.writes(vendor=s.target, status="dropped", limit=100_000)["items"]
    )
    assert s.repeated(sandbox) <= in_doubt


@pytest.mark.parametrize("code", FLOWS)
def test_a_worker_killed_mid_batch_converges(code, sandbox, live_brand):
    s = scenario(code)
    expected = baseline(code, live_brand, sandbox)
    # Slow writes, so that the kill lands while a batch is in flight.
    sandbox.set_faults(s.target, latency_ms=150)
    before = writes(sandbox, s)
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "sync", live_brand.slug, code, "--full"],
        cwd=settings.BASE_DIR,
        env=console_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while writes(sandbox, s) == before and time.monotonic() < deadline:
            assert worker.poll() is None, f"the worker ended before it wrote ({worker.returncode})"
            time.sleep(0.02)
        os.killpg(worker.pid, signal.SIGKILL)
    finally:
        worker.wait(timeout=30)
    sandbox.clear_faults()
    dead = SyncRun.objects.get(brand=live_brand, flow=code, state=RunState.RUNNING)
    time.sleep(1.1)
    # Taken over, as the sweeper would: the same run goes on where the dead worker left it.
    taken = flow_run(run_id=dead.pk)
    assert taken is not None and taken.pk == dead.pk
    converge(live_brand, code)
    assert_nothing_lost_or_doubled(live_brand, code, sandbox, expected)
    flow = REGISTRY[code]
    resent = sum(
        SyncRun.objects.filter(brand=live_brand, flow=code).values_list("resent", flat=True)
    )
    # Only what was in flight when the worker died went again: at most one batch.
    assert s.repeated(sandbox) <= resent <= flow.request_size


@pytest.mark.parametrize("code", FLOWS)
def test_a_throttling_storm_converges(code, sandbox, live_brand):
    s = scenario(code)
    expected = baseline(code, live_brand, sandbox)
    source = REGISTRY[code].source
    # A minute of the vendors' rate windows lasts a second: the console waits as long as a
    # vendor says (Brightpearl: until its window turns), so the test waits that long too.
    sandbox.configure(time_scale=60)
    sandbox.app.throttle.reset()  # windows opened at the old scale would last a real minute
    for vendor in {source, s.target}:
        sandbox.set_faults(vendor, throttle_storm_seconds=1.5)
    runs = converge(live_brand, code)
    stats = sandbox.stats()
    assert any(stats[v]["faults"].get("throttle_storm", 0) for v in {source, s.target})
    assert runs[-1].state in (RunState.SUCCEEDED, RunState.PARTIAL), runs[-1].error
    assert_nothing_lost_or_doubled(live_brand, code, sandbox, expected)


@pytest.mark.parametrize("code", FLOWS)
def test_an_unmapped_value_waits_with_a_ticket_then_goes(code, sandbox, live_brand):
    s = scenario(code)
    expected = baseline(code, live_brand, sandbox)
    already = _WAITING[code]
    restore = s.unmap(live_brand, sandbox)
    if restore is None:
        # The flow translates no value that can be missing: with nothing mapped at all,
        # nothing is held back and nothing is lost.
        converge(live_brand, code)
        assert waiting_ids(live_brand, code) == already
        assert_nothing_lost_or_doubled(live_brand, code, sandbox, expected)
        return
    converge(live_brand, code)
    held = waiting_ids(live_brand, code) - already
    assert held, f"{code}: nothing waited for the missing mapping"
    open_tickets = Ticket.objects.filter(brand=live_brand, status__in=OPEN_STATUSES)
    assert open_tickets.filter(type__code__in=["unmapped_status", "unmapped_value"]).exists()
    restore()
    converge(live_brand, code)
    assert not held & waiting_ids(live_brand, code), f"{code}: still waiting once mapped"
    assert_nothing_lost_or_doubled(live_brand, code, sandbox, expected)


@pytest.mark.parametrize("code", FLOWS)
def test_the_consoles_own_change_is_not_sent_back(code, sandbox, live_brand):
    flow = REGISTRY[code]
    written_kind = flow.target_kind or flow.kind
    back = [
        c
        for c, f in REGISTRY.items()
        if f.source == flow.target and f.target == flow.source and f.kind == written_kind
    ]
    if not back:
        # Nothing reads this flow's target records back into its source: no loop, no echo.
        # (The day a flow does, this case drives it.)
        assert not any(
            f.source == flow.target and f.kind == written_kind for f in REGISTRY.values()
        )
        return
    scenario(code).prepare(live_brand, sandbox)
    converge(live_brand, code)
    # What this flow wrote, as the flows reading that system meet it again (by webhook or
    # by sweep): each is recognised as the console's own, and nothing is sent back.
    written = list(
        RecordLink.objects.filter(brand=live_brand, system=flow.target, written_by=code)
        .exclude(written_hash="")
        .values_list("external_id", flat=True)
    )
    assert written, f"{code} wrote nothing to {flow.target} to come back"
    for other in back:
        before = writes(sandbox, scenario(other))
        run = flow_run_now(brand=live_brand, flow=other, scope=written, trigger="webhook")
        assert run.echoes == len(written), run.log
        assert run.written == 0 and run.created == 0, run.log
        assert writes(sandbox, scenario(other)) == before, f"{other} sent {code}'s writes back"


@pytest.mark.parametrize("code", FLOWS)
def test_a_backfill_racing_a_webhook_never_leaves_the_older_read(code, sandbox, live_brand):
    """The backfill has read a batch; before it writes, the first record changes and its
    webhook run reads and writes the new copy; then the backfill writes. Whatever the order
    the two writes land in, the target must hold what a clean run makes of the source now:
    an older read over a newer one would be corrected only by the next run."""
    s = scenario(code)
    baseline(code, live_brand, sandbox)
    flow = REGISTRY[code]
    write = flow.write
    race: dict = {}

    def webhook(source_id: str) -> None:
        try:
            race["run"] = flow_run_now(
                brand=live_brand, flow=code, trigger="webhook", scope=[source_id]
            )
        finally:
            connections.close_all()

    def backfill_write(self, ctx, pushes):
        if "thread" not in race and not ctx.scope and pushes:
            source_id = pushes[0].source_id
            race["changed"] = s.change(sandbox, source_id)
            race["thread"] = threading.Thread(target=webhook, args=(source_id,))
            race["thread"].start()
            # Let the webhook's run get as far as it can before this write goes.
            race["thread"].join(timeout=3)
        return write(self, ctx, pushes)

    flow.write = backfill_write
    try:
        backfill = flow_run_now(brand=live_brand, flow=code, full=True)
        race["thread"].join(timeout=120)
    finally:
        flow.write = write
    assert not race["thread"].is_alive(), "the webhook's run never ended"
    assert backfill.state in (RunState.SUCCEEDED, RunState.PARTIAL), backfill.error
    after_race = s.snapshot(sandbox)
    converge(live_brand, code)
    truth = s.snapshot(sandbox)
    different = sorted(k for k in truth if after_race.get(k) != truth[k])
    assert not different, f"{code}: the race left older copies of {different[:5]}"
    assert s.duplicates(sandbox) == 0, f"{code}: duplicates in {s.target}"
    resent = sum(
        SyncRun.objects.filter(brand=live_brand, flow=code).values_list("resent", flat=True)
    )
    assert s.repeated(sandbox) <= resent, f"{code}: sent again without knowing it"

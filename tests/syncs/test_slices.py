"""A bulk run in slices: it gives its worker back, and its remainder finishes as one run would."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.utils import timezone
from django_q.models import Schedule

from syncs import services
from syncs.models import FlowConfig, RecordState, RecordStatus, RunState, SyncRun

pytestmark = pytest.mark.django_db(transaction=True)


def _queued(brand, **kw) -> SyncRun:
    return SyncRun.objects.create(brand=brand, flow="order_lifecycle", trigger="manual", **kw)


def test_a_full_run_gives_its_worker_back_and_its_slices_finish_the_job(
    sandbox, live_brand, settings
):
    sandbox.reset("demo", orders=1500)
    settings.BULK_SLICE_SECONDS = 0  # every batch is a slice
    run = _queued(live_brand, full=True)
    handed: list[tuple[int, str | None]] = []
    with mock.patch.object(services, "_enqueue", lambda *args: handed.append(args)):
        first = services.flow_run(run_id=run.pk, sliced=True)
        first_slice_ended = timezone.now()
        assert first.state == RunState.QUEUED
        assert handed == [(run.pk, "bulk")], "the remainder goes to the back of the bulk queue"
        run.refresh_from_db()
        left = run.resume["ids"]
        assert left and run.read > 0 and run.slices == 1 and run.attempts == 0
        assert run.total == run.read + len(left), "the search's total, for the progress line"
        # Nothing read yet is read twice, nothing is skipped.
        done = set(
            RecordState.objects.filter(brand=live_brand, flow="order_lifecycle").values_list(
                "source_id", flat=True
            )
        )
        assert not done & set(left)
        while run.state == RunState.QUEUED:
            services.flow_run(run_id=run.pk, sliced=True)
            run.refresh_from_db()
    assert run.state in (RunState.SUCCEEDED, RunState.PARTIAL), run.error
    assert run.resume == {} and run.slices == len(handed) > 1
    assert run.read == run.total
    # Every slice's calls are counted: at least one GET per 200 orders read.
    assert run.api_calls >= run.total / 200
    assert "Gave its worker back" in run.log
    # The cursor is where the first slice started, not the last: changes made while the
    # slices went on are read by the next incremental run.
    config = FlowConfig.objects.get(brand=live_brand, flow="order_lifecycle")
    assert run.started_at <= config.cursor <= first_slice_ended


def test_sliced_and_whole_runs_leave_the_target_the_same(sandbox, live_brand, settings):
    sandbox.reset("demo", orders=1500)
    settings.BULK_SLICE_SECONDS = 0
    run = _queued(live_brand, full=True)
    with mock.patch.object(services, "_enqueue"):
        while run.state != RunState.SUCCEEDED and run.state != RunState.PARTIAL:
            services.flow_run(run_id=run.pk, sliced=True)
            run.refresh_from_db()
    sliced = sandbox.state("ometria", "orders", limit=100_000)["items"]
    again = services.flow_run_now(brand=live_brand, flow="order_lifecycle", full=True)
    assert again.written == 0, "a whole run after the slices finds nothing left to send"
    assert (
        len(sliced)
        == RecordState.objects.filter(
            brand=live_brand, flow="order_lifecycle", status=RecordStatus.SYNCED
        ).count()
    )


def test_runs_done_here_and_event_runs_are_never_sliced(sandbox, live_brand, settings):
    settings.BULK_SLICE_SECONDS = 0
    here = services.flow_run_now(brand=live_brand, flow="order_lifecycle", full=True)
    assert here.state in (RunState.SUCCEEDED, RunState.PARTIAL) and here.slices == 0
    scoped = _queued(live_brand, scope=["10001", "10002"], full=False)
    done = services.flow_run(run_id=scoped.pk, sliced=True)
    assert done.state != RunState.QUEUED and done.slices == 0


def test_a_bulk_run_gives_its_worker_back_while_its_allowance_is_spent(
    sandbox, live_brand, settings
):
    """A throttled brand does not hold a bulk worker asleep for the next window: its run
    comes back, on a schedule, when the allowance does."""
    from connectors.models import RateBudget

    sandbox.reset("demo", orders=1500)
    settings.BULK_SLICE_SECONDS = 0
    run = _queued(live_brand, full=True)
    with mock.patch.object(services, "_enqueue"):
        services.flow_run(run_id=run.pk, sliced=True)  # lists the ids, gives back
    settings.BULK_SLICE_SECONDS = 600
    RateBudget.objects.filter(brand=live_brand, system="brightpearl").update(
        remaining=0, resets_at=time.time() + 40
    )
    read_before = SyncRun.objects.get(pk=run.pk).read
    started = time.monotonic()
    with mock.patch.object(services, "_enqueue") as enqueue:
        again = services.flow_run(run_id=run.pk, sliced=True)
    assert time.monotonic() - started < 5, "the worker did not sleep through the window"
    assert again.state == RunState.QUEUED and not enqueue.called
    run.refresh_from_db()
    assert run.read == read_before and 35 <= run.resume["wait"] <= 40
    assert "waiting for a vendor's allowance ahead" in run.log
    later = Schedule.objects.get(func="syncs.tasks.run_flow", args=str(run.pk))
    assert 30 <= (later.next_run - timezone.now()).total_seconds() <= 41
    assert later.cluster == "bulk"

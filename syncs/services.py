"""Named services for runs. Views, admin actions, commands and tasks all call these.

The webhook inbox (receive, drain, register) is in syncs/webhooks.py."""

from __future__ import annotations

import logging
import os
import random
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from brands.audit import audit
from brands.models import Brand
from connectors.errors import ConnectorError
from connectors.models import Connection
from connectors.services import connection_seen, connection_trouble
from exceptions.services import ticket_raise, ticket_retry_failed
from syncs import engine
from syncs.flows import REGISTRY, get_flow
from syncs.models import (
    FlowConfig,
    RunState,
    SyncRun,
    Trigger,
)
from syncs.plain_errors import UNEXPECTED, run_crash_sentence

logger = logging.getLogger("syncs")


RUN_MAX_ATTEMPTS = getattr(settings, "RUN_MAX_ATTEMPTS", 3)
# A running run that has not touched its heartbeat for this long has lost its worker.
RUN_STALE_SECONDS = getattr(settings, "RUN_STALE_SECONDS", 300)


# --- starting runs ------------------------------------------------------------------
def flow_enqueue(
    *,
    brand_id: int,
    flow: str,
    trigger: str,
    scope: list[str] | None = None,
    full: bool = False,
    ticket_id: int | None = None,
) -> SyncRun:
    """Record a queued run and hand its id (never anything else) to the task queue on commit."""
    get_flow(flow)  # an unknown flow fails here, in the caller's words
    run = SyncRun.objects.create(
        brand_id=brand_id,
        flow=flow,
        trigger=trigger,
        scope=[str(s) for s in scope or []],
        full=full,
        ticket_id=ticket_id,
    )
    queue = run_queue(run)
    transaction.on_commit(lambda: _enqueue(run.pk, queue))
    return run


def run_queue(run: SyncRun) -> str | None:
    """Which queue a run goes on. Events (a webhook's ids, a retry, one record: scoped and
    urgent) go on the default queue; bulk reads (full or incremental) on the bulk queue,
    served by a cluster of its own, so a brand going live never holds the workers that
    every brand's events need. None: the default queue."""
    if run.scope or not settings.BULK_QUEUE:
        return None
    return settings.BULK_QUEUE


def _enqueue(run_id: int, queue: str | None) -> None:
    async_task(
        "syncs.tasks.run_flow",
        run_id,
        task_name=f"run-{run_id}",
        group="flows",
        cluster=queue,
    )


def flow_run_now(
    *,
    brand: Brand,
    flow: str,
    trigger: str = Trigger.MANUAL,
    full: bool = False,
    scope: list[str] | None = None,
    progress: engine.Progress | None = None,
) -> SyncRun:
    """Create a run and do it here and now (the `sync` command, the benchmark)."""
    get_flow(flow)
    run = SyncRun.objects.create(
        brand=brand, flow=flow, trigger=trigger, full=full, scope=[str(s) for s in scope or []]
    )
    return flow_run(run_id=run.pk, progress=progress) or run


def flow_run(
    *, run_id: int, progress: engine.Progress | None = None, sliced: bool = False
) -> SyncRun | None:
    """Claim a run and do it. A run already claimed by a live worker is left alone, so a
    task delivered twice does nothing; a run whose worker died is taken over.

    `sliced` (a worker of the task queue): a bulk run gives its worker back every few
    seconds and its remainder goes to the back of the bulk queue, so every brand's bulk work
    takes turns instead of one brand's backfill holding the workers for minutes."""
    run = _claim(run_id)
    if run is None:
        return None
    run.log = (
        run.log + f"\n{timezone.now():%H:%M:%S} Claimed by worker pid {os.getpid()}."
    ).strip()
    try:
        done = engine.execute(run, progress=progress, sliced=sliced)
        if done.state == RunState.QUEUED:
            wait = float((done.resume or {}).get("wait") or 0)
            if wait:
                # Back when the vendor's allowance is: no worker sleeps through the wait.
                _enqueue_later(done, seconds=wait, why="the vendor's allowance")
            else:
                _enqueue(done.pk, run_queue(done))
        return done
    except engine.RunTakenOver:
        # Another worker owns the run now; it records the outcome.
        logger.warning("run %s was taken over by another worker; this one stops", run_id)
        return None
    except ConnectorError as exc:
        return _failed(run, exc)
    except Exception:
        logger.exception("run %s failed unexpectedly", run_id)
        run.refresh_from_db()
        run.state = RunState.FAILED
        run.finished_at = timezone.now()
        # Plain words for the pages and the ticket; the exception is in the log line above.
        run.error = run_crash_sentence(run.pk)
        run.save(update_fields=["state", "finished_at", "error"])
        # A bug does not pass on a retry by itself: a ticket, at once, for the agency.
        ticket_raise(
            brand=run.brand_id,
            type_code="run_crashed",
            flow=run.flow,
            title=f"{get_flow(run.flow).label} stopped on an unexpected error",
            source_system="console",
            source_id=f"flow:{run.flow}",
            snapshot={"run": run.pk, "waiting_ids": run.scope[:500]},
            error_code=UNEXPECTED,
            error_message=run.error,
        )
        if run.ticket_id:
            ticket_retry_failed(
                ticket_id=run.ticket_id, note=f"The retry's run failed: {run.error}"
            )
        return run
    finally:
        _wake_waiting(run)


def _wake_waiting(run: SyncRun) -> None:
    """Runs that waited for this one go now, not at their next check up to a minute later
    (the demo's first order sync waited behind the refunds run for a minute)."""
    waiting = Schedule.objects.filter(
        func="syncs.tasks.run_flow", name__endswith=f": {_after(run.pk)}"
    )
    for schedule in waiting:
        # Deleted first: if the scheduler got there at the same moment, a run handed over
        # twice is still claimed once. Still blocked (by a third run), it waits again.
        if schedule.delete()[0]:
            _enqueue(int(schedule.args), schedule.cluster)


def _after(run_id: int) -> str:
    """Why a run waits: the words its wake-up looks for in its schedule's name."""
    return f"after run {run_id}"


def _claim(run_id: int) -> SyncRun | None:
    now = timezone.now()
    stale = now - timedelta(seconds=RUN_STALE_SECONDS)
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().select_related("brand").filter(pk=run_id).first()
        if run is None:
            return None
        claimable = run.state == RunState.QUEUED or (
            run.state == RunState.RUNNING and (run.heartbeat is None or run.heartbeat < stale)
        )
        if not claimable:
            return None
        if not run.brand.active:
            run.state = RunState.FAILED
            run.finished_at = now
            run.error = f"{run.brand} is switched off, so nothing was synced."
            run.save(update_fields=["state", "finished_at", "error"])
            return None
        # Claims of one brand's flow queue up on its config row, so two workers cannot both
        # find the flow free (PostgreSQL; SQLite's write lock does the same).
        FlowConfig.objects.select_for_update().get_or_create(
            brand_id=run.brand_id,
            flow=run.flow,
            defaults={"schedule_minutes": REGISTRY[run.flow].default_schedule_minutes},
        )
        running = SyncRun.objects.filter(
            brand_id=run.brand_id, state=RunState.RUNNING, heartbeat__gte=stale
        ).exclude(pk=run.pk)
        busy = running.filter(flow=run.flow)
        if not REGISTRY[run.flow].once:
            # One reading run per brand and flow at a time; webhook and retry runs (scoped,
            # small, urgent) do not wait behind a long backfill. A one-off notification
            # flow never has two senders at once, scoped or not.
            busy = busy.filter(scope=[]) if not run.scope else busy.none()
        group = REGISTRY[run.flow].lock_group
        if group and not run.scope:
            # Flows that write the same target records (the refunds flow sends whole orders)
            # do not read at the same time, or one could overwrite the other's newer data.
            partners = [c for c, f in REGISTRY.items() if f.lock_group == group and c != run.flow]
            busy = busy | running.filter(flow__in=partners, scope=[])
        other = busy.first()
        if other is not None:
            if run.trigger == Trigger.SCHEDULE and not run.full and other.flow == run.flow:
                # This flow is reading already, and the next schedule reads from the cursor
                # anyway: nothing is lost. (Behind a partner flow it waits instead: the two
                # flows' schedules can meet every time, and it would never run.)
                run.state = RunState.SUCCEEDED
                run.finished_at = now
                run.log = f"{now:%H:%M:%S} Skipped: run {other.pk} of this flow was still reading."
                run.save(update_fields=["state", "finished_at", "log"])
            else:
                # Asked for on purpose (a full run, a webhook, a retry): wait and go after it.
                run.log = (
                    run.log + f"\n{now:%H:%M:%S} Waiting for run {other.pk} to finish."
                ).strip()
                run.save(update_fields=["log"])
                _enqueue_later(run, seconds=30, why=_after(other.pk))
            return None
        if run.state == RunState.RUNNING:
            run.log += f"\n{now:%H:%M:%S} Taken over: the previous worker stopped answering."
        run.state = RunState.RUNNING
        run.started_at = run.started_at or now
        run.heartbeat = now
        run.attempts += 1
        run.error = ""
        run.save(update_fields=["state", "started_at", "heartbeat", "attempts", "error", "log"])
    return run


def _failed(run: SyncRun, exc: ConnectorError) -> SyncRun:
    """A whole run failed. Temporary failures are tried again later; the rest become tickets."""
    run.refresh_from_db()
    now = timezone.now()
    run.finished_at = now
    run.error = exc.plain
    if run.ticket_id:
        ticket_retry_failed(ticket_id=run.ticket_id, note=f"The retry's run failed: {exc.plain}")
    connection = Connection.objects.filter(brand_id=run.brand_id, system=exc.vendor).first()
    record = f"connection:{connection.pk}" if connection else f"system:{exc.vendor}"
    label = get_flow(run.flow).label
    type_code = {
        "auth": "auth_failure",
        "configuration": "configuration_missing",
    }.get(exc.kind)
    if exc.kind == "throttled" and not exc.retryable:
        type_code = "api_allowance_spent"
    if connection and exc.kind in ("auth", "configuration"):
        connection_seen(connection=connection, ok=False, message=exc.plain)
    elif connection:
        connection_trouble(connection=connection, message=exc.plain)
    if type_code:
        # Trying again with the same key fails the same way: the run waits for its
        # connection to be fixed, and then goes by itself (syncs/recovery.py).
        run.state = RunState.FAILED
        run.blocked_on = exc.vendor
        run.save(update_fields=["state", "finished_at", "error", "blocked_on"])
        ticket_raise(
            brand=run.brand_id,
            type_code=type_code,
            flow=run.flow,
            title=f"{label}: {exc.message}",
            source_system=exc.vendor,
            source_id=record,
            snapshot={"run": run.pk, "status": exc.status, "path": exc.path},
            error_code=exc.code,
            error_message=exc.plain,
        )
        return run
    if run.attempts < RUN_MAX_ATTEMPTS:
        delay = min(30 * 2 ** (run.attempts - 1), 900) * random.uniform(0.8, 1.2)
        run.state = RunState.QUEUED
        run.log += (
            f"\n{now:%H:%M:%S} Attempt {run.attempts} failed ({exc}); "
            f"trying again in {delay:.0f} s."
        )
        run.save(update_fields=["state", "finished_at", "error", "log"])
        _enqueue_later(run, seconds=delay, why=f"attempt {run.attempts + 1}")
        return run
    run.state = RunState.FAILED
    run.save(update_fields=["state", "finished_at", "error"])
    _attempts_exhausted(
        run, f"{label} failed {run.attempts} times: {exc.message}", exc.plain, exc.code
    )
    return run


def _enqueue_later(run: SyncRun, *, seconds: float, why: str) -> None:
    Schedule.objects.create(
        name=f"run {run.pk}: {why}"[:100],
        func="syncs.tasks.run_flow",
        args=str(run.pk),
        schedule_type=Schedule.ONCE,
        next_run=timezone.now() + timedelta(seconds=seconds),
        # The cluster that serves the run's queue also runs its schedule.
        cluster=run_queue(run),
    )


def _attempts_exhausted(run: SyncRun, title: str, message: str, code: str = "") -> None:
    """The one ticket for a run that will not be tried again by itself."""
    ticket_raise(
        brand=run.brand_id,
        type_code="attempts_exhausted",
        flow=run.flow,
        title=title,
        source_system="console",
        source_id=f"flow:{run.flow}",
        snapshot={"run": run.pk, "waiting_ids": run.scope[:500]},
        error_code=code,
        error_message=message,
    )


RECONCILE_HOURS = getattr(settings, "RECONCILE_HOURS", 24)


def flow_scheduled(*, config_id: int) -> SyncRun | None:
    """A scheduled run: incremental, except once a day a full one that reconciles.

    The full run reads everything and sends only what differs, catching what no change
    stamp shows (Brightpearl's updatedOn stays put when only a custom field changes).
    """
    config = FlowConfig.objects.select_related("brand").filter(pk=config_id).first()
    if config is None or not config.enabled or not config.brand.active:
        return None
    since = timezone.now() - timedelta(hours=RECONCILE_HOURS)
    reconciled = SyncRun.objects.filter(
        brand=config.brand,
        flow=config.flow,
        full=True,
        queued_at__gte=since,
        state__in=[RunState.SUCCEEDED, RunState.PARTIAL, RunState.RUNNING, RunState.QUEUED],
    ).exists()
    run = SyncRun.objects.create(
        brand=config.brand, flow=config.flow, trigger=Trigger.SCHEDULE, full=not reconciled
    )
    return flow_run(run_id=run.pk, sliced=True)


# --- configuring flows -----------------------------------------------------------------
def flow_configure(
    *, brand: Brand, flow: str, enabled: bool, schedule_minutes: int | None = None, actor=None
) -> FlowConfig:
    """Switch a flow on or off and (re)schedule it. The one place a FlowConfig changes."""
    cls = REGISTRY[flow]
    with transaction.atomic():
        config, _ = FlowConfig.objects.select_for_update().get_or_create(
            brand=brand, flow=flow, defaults={"schedule_minutes": cls.default_schedule_minutes}
        )
        before = (config.enabled, config.schedule_minutes)
        config.enabled = enabled
        if schedule_minutes is not None:
            config.schedule_minutes = schedule_minutes
        flow_schedule_sync(config)
        config.save()
        if before != (config.enabled, config.schedule_minutes):
            audit(
                "flow.configured",
                brand=brand,
                actor=actor,
                target=config,
                summary=f"{'On' if enabled else 'Off'}, every {config.schedule_minutes} min",
            )
    return config


def flow_schedule_sync(config: FlowConfig) -> None:
    """Keep the django-q schedule in step with the config (created, changed or removed)."""
    wanted = config.enabled and config.schedule_minutes > 0
    if not wanted:
        if config.schedule_id:
            Schedule.objects.filter(pk=config.schedule_id).delete()
            config.schedule = None
        return
    schedule = config.schedule or Schedule(
        func="syncs.tasks.scheduled_run",
        schedule_type=Schedule.MINUTES,
        # Spread brands over the minute instead of all starting together.
        next_run=timezone.now() + timedelta(seconds=random.randint(5, 60)),
    )
    schedule.name = f"{config.brand.slug}:{config.flow}"[:100]
    # A scheduled read is bulk work: the bulk queue's cluster runs it.
    schedule.cluster = settings.BULK_QUEUE or None
    schedule.args = str(config.pk)
    schedule.minutes = config.schedule_minutes
    schedule.save()
    config.schedule = schedule

"""The engine every flow runs on: batches, change detection, record state, tickets, counts.

A run reads batches from its flow, transforms each record, skips what the target already
has (same content hash), writes the rest, and records one state per source record:
synced, waiting (with a ticket) or failed (with a ticket). Nothing is lost: a record
either reaches the target or is in exactly one open ticket.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.db.models import F
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from connectors.base import Connector
from connectors.errors import ConfigurationError
from connectors.models import Connection
from connectors.registry import connector_for
from connectors.services import connection_seen
from exceptions.models import OPEN_STATUSES, Ticket
from exceptions.services import ticket_raise, tickets_autoresolve
from syncs.batches import Prepared, finish_batch, prepare_batch, send_batch
from syncs.flows import REGISTRY, get_flow
from syncs.flows.base import Flow
from syncs.flows.reading import EPOCH
from syncs.freshness import pushes_renew
from syncs.models import (
    FlowConfig,
    RecordState,
    RecordStatus,
    RunState,
    StatusMapping,
    SyncRun,
)
from syncs.slices import slice_over
from syncs.valuemaps import quarantine as value_maps

logger = logging.getLogger("syncs.engine")

LOG_LINES = 200
# A run's counts, saved at every checkpoint and at the end.
COUNTS = [
    "read",
    "written",
    "unchanged",
    "waiting",
    "failed",
    "created",
    "echoes",
    "stale",
    "api_calls",
    "throttle_waits",
]

Progress = Callable[[SyncRun, int | None], None]


def stale_seconds() -> float:
    """How old a running run's heartbeat may be before another worker takes it over."""
    from syncs import services

    return float(services.RUN_STALE_SECONDS)


class RunTakenOver(Exception):
    """Another worker took this run over (this one looked dead): stop without writing more."""


class FlowContext:
    """What a flow may use during one run: its connectors, mappings, mode and log."""

    def __init__(self, run: SyncRun, config: FlowConfig, flow: Flow) -> None:
        self.run = run
        self.config = config
        self.flow = flow
        self.brand = run.brand
        self.brand_id = run.brand_id
        self.full = run.full
        self.scope: list[str] = [str(s) for s in run.scope or []]
        self.now = timezone.now()
        self.since: datetime | None = None
        self.until: datetime | None = None
        # A bulk run in slices (syncs/slices.py): the ids its earlier slices left, and the
        # moment its first slice started (the cursor it moves to when it ends).
        resume = run.resume or {}
        self.resume_ids: list[str] | None = resume.get("ids") if resume else None
        if resume:
            self.until = parse_datetime(resume["until"])
        elif not self.scope and not self.full:
            start = config.cursor or EPOCH
            self.since = start - timedelta(minutes=config.lookback_minutes)
            self.until = self.now
        # Set when the slice is due to give its worker back; the reader then lists what is
        # left into `left`.
        self.slice_ends: float | None = None
        self.yielding = False
        self.left: list[str] | None = None
        # Seconds before the next slice may start (a vendor's allowance is spent).
        self.come_back_in = 0.0
        self.slice_batches = 0
        # What the earlier slices of a bulk run spent (this slice's connectors start at 0).
        self._calls_before = (run.api_calls, run.throttle_waits) if resume else (0, 0)
        # Records waiting on a mapping are read again every run: a mapping added since lets
        # them through without a new change in the source. (A refused record is not: it
        # goes again when it changes, or when its ticket is retried.)
        self.retry_ids: list[str] = []
        if not self.scope and not resume:
            self.retry_ids = list(
                RecordState.objects.filter(
                    brand_id=self.brand_id,
                    flow=flow.code,
                    status=RecordStatus.WAITING,
                ).values_list("source_id", flat=True)
            )
        # A one-off notification's batches a stopped worker left on their way: what of them
        # goes again is counted as resent.
        self.unacknowledged: set[str] = set()
        if flow.once:
            for ids in (
                SyncRun.objects.filter(brand_id=self.brand_id, flow=flow.code)
                .exclude(in_flight=[])
                .values_list("in_flight", flat=True)
            ):
                self.unacknowledged.update(str(i) for i in ids)
        # What the console writes into the target is kept on the target's links only where
        # something can come back from there: a flow reads that system, or the flow creates
        # (the ids it gets back). A push-only target (Ometria) keeps it on the record state.
        # Only a flow that reads the kind written counts: Mailchimp's consent flow reads
        # members, so the e-commerce orders written there never come back.
        written_kind = flow.target_kind or flow.kind
        self.target_read_back = flow.creates or any(
            other.source == flow.target and other.kind == written_kind
            for other in REGISTRY.values()
        )
        # Status and purchase events go before bulk backfills (the budget's reserve).
        # Events: a webhook's ids, a retry, one record synced now. Bulk reads are not.
        self.priority = bool(self.scope) or run.trigger in ("webhook", "retry")
        self.total_hint: int | None = run.total
        # When the batch being read began to be read (the records' versions start there).
        self.read_at = self.now
        # Ids the run was asked for that the source no longer has.
        self.missing: list[str] = []
        self.cache: dict[str, Any] = {}
        self._connectors: dict[str, Connector] = {}
        self._log: list[str] = [line for line in (run.log or "").splitlines() if line]

    # --- connectors --------------------------------------------------------------
    def connector(self, system: str) -> Connector:
        if system not in self._connectors:
            connection = Connection.objects.filter(brand_id=self.brand_id, system=system).first()
            if connection is None:
                raise ConfigurationError(
                    f"{self.brand} has no {system.title()} connection.", vendor=system
                )
            connector = connector_for(connection, priority=self.priority)
            connector.budget.on_wait = connector.budget.on_call = self.beat
            if self.flow.once and system == self.flow.target:
                connector.http.on_resend = self._count_resent
            self._connectors[system] = connector
        return self._connectors[system]

    def connectors_open(self) -> dict[str, Connector]:
        """The vendors this run has called so far."""
        return dict(self._connectors)

    def beat(self) -> None:
        """Still alive, while a vendor makes us wait or a long batch of calls goes on: a run
        with a fresh heartbeat is never handed to a second worker. Raises RunTakenOver if one
        has taken it already. Written at most every quarter of the stale time (15 s by
        default), so it costs nothing per call."""
        now = timezone.now()
        interval = min(15.0, stale_seconds() / 4)
        if self.cache.get("beat") and (now - self.cache["beat"]).total_seconds() < interval:
            return
        self.cache["beat"] = now
        if not SyncRun.objects.filter(pk=self.run.pk, attempts=self.run.attempts).update(
            heartbeat=now
        ):
            raise RunTakenOver(self.run.pk)
        pushes_renew(self)

    def _count_resent(self, records: int) -> None:
        """A one-off notification's request goes again after it may have arrived."""
        SyncRun.objects.filter(pk=self.run.pk).update(resent=F("resent") + records)

    def api_calls(self) -> tuple[int, int]:
        """The run's calls and throttle waits: its earlier slices' and this one's."""
        stats = [c.stats for c in self._connectors.values()]
        calls, waits = self._calls_before
        return calls + sum(s.calls for s in stats), waits + sum(s.throttle_waits for s in stats)

    def close(self) -> None:
        for c in self._connectors.values():
            c.close()

    # --- mappings ----------------------------------------------------------------
    @property
    def status_map(self) -> dict[int, StatusMapping]:
        if "status_map" not in self.cache:
            self.cache["status_map"] = {
                m.bp_status_id: m for m in StatusMapping.objects.filter(brand_id=self.brand_id)
            }
        return self.cache["status_map"]

    # --- value maps (syncs/valuemaps) ----------------------------------------------------
    def mapped(self, kind: str, value: Any) -> value_maps.Mapped | None:
        """What the brand maps this value of this kind to (read once per run), or None:
        then the transform returns `value_maps.unmapped_wait(...)` and the record waits."""
        return value_maps.lookup(self, kind, value)

    # --- record states of this or another flow -----------------------------------------
    def states(self, flow: str, source_ids: list[str]) -> dict[str, RecordState]:
        return {
            s.source_id: s
            for s in RecordState.objects.filter(
                brand_id=self.brand_id, flow=flow, source_id__in=source_ids
            )
        }

    def retry_ticket(self) -> Ticket | None:
        """The ticket this run retries, so a failure says "retry failed" on it."""
        if "retry_ticket" not in self.cache:
            ticket_id = self.run.ticket_id
            self.cache["retry_ticket"] = (
                Ticket.objects.filter(pk=ticket_id).first() if ticket_id else None
            )
        return self.cache["retry_ticket"]

    def flow_class(self, code: str) -> type[Flow] | None:
        return REGISTRY.get(code)

    # --- log ---------------------------------------------------------------------
    def log(self, message: str) -> None:
        self._log.append(f"{timezone.now():%H:%M:%S} {message}")
        self._log = self._log[-LOG_LINES:]

    @property
    def log_text(self) -> str:
        return "\n".join(self._log)


def _batches(ctx: FlowContext) -> Iterator[list[Any]]:
    """The flow's batches, each stamped (ctx.read_at) with when its reading began. Before
    each, a bulk run's slice may end (syncs/slices.py): the reader then stops taking ids."""
    batches = iter(ctx.flow.read(ctx))
    while True:
        if not ctx.yielding and slice_over(ctx):
            ctx.yielding = True
        ctx.read_at = timezone.now()
        try:
            batch = next(batches)
        except StopIteration:
            return
        ctx.slice_batches += 1
        yield batch


def process_batch(ctx: FlowContext, records: list[Any], open_tickets: set[str]) -> None:
    """One batch, start to finish (the flows that may not overlap batches)."""
    prepared = prepare_batch(ctx, records)
    finish_batch(ctx, prepared, send_batch(ctx, prepared), open_tickets)


def _after_batch(ctx: FlowContext, progress: Progress | None) -> None:
    _checkpoint(ctx.run, ctx)
    if progress:
        progress(ctx.run, ctx.total_hint)


def _run_overlapped(ctx: FlowContext, open_tickets: set[str], progress: Progress | None) -> None:
    """Write batch N to the target while batch N+1 is read from the source.

    Each side spends most of its time waiting for a vendor, so the two waits overlap.
    The writer thread sends and records what the target acknowledged (send_batch); every
    refusal, ticket and count is recorded here, in order (finish_batch).
    """
    ctx.connector(ctx.flow.target)  # made here, not by two threads at once
    pending: tuple[Prepared, Future] | None = None

    def finish(item: tuple[Prepared, Future]) -> None:
        prepared, future = item
        finish_batch(ctx, prepared, future.result(), open_tickets)
        _after_batch(ctx, progress)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="flow-writer") as writer:
        try:
            for batch in _batches(ctx):
                prepared = prepare_batch(ctx, batch)
                if pending is not None:
                    item, pending = pending, None
                    finish(item)
                # The writer sends and records at once what the target took; a worker killed
                # now re-sends only what was still in flight.
                pending = (prepared, writer.submit(send_batch, ctx, prepared))
            if pending is not None:
                item, pending = pending, None
                finish(item)
        except BaseException:
            # The read failed while a write was in flight: record what the target took
            # before failing the run, or a one-off notification would go out twice.
            if pending is not None:
                try:
                    finish(pending)
                except Exception:
                    logger.exception("run %s: the write in flight failed too", ctx.run.pk)
            raise
        finally:
            # The writer thread's own database connection (its budget transactions).
            writer.submit(connections.close_all).result()


def execute(run: SyncRun, progress: Progress | None = None, *, sliced: bool = False) -> SyncRun:
    """Do a claimed run's work. Raises ConnectorError for failures of the whole run.

    `sliced`: a bulk run on a worker gives the worker back every BULK_SLICE_SECONDS, with
    what it has left queued again at the back of the bulk queue (it comes back QUEUED)."""
    flow = get_flow(run.flow)
    config, _ = FlowConfig.objects.get_or_create(
        brand_id=run.brand_id,
        flow=run.flow,
        defaults={"schedule_minutes": flow.default_schedule_minutes},
    )
    ctx = FlowContext(run, config, flow)
    if sliced and not ctx.scope and settings.BULK_QUEUE:
        ctx.slice_ends = time.monotonic() + settings.BULK_SLICE_SECONDS
    mode = (
        f"ids {', '.join(ctx.scope[:10])}"
        if ctx.scope
        else ("full" if ctx.full else f"changes since {ctx.since:%Y-%m-%d %H:%M}")
    )
    ctx.log(f"Started ({run.get_trigger_display().lower()}, {mode}).")
    open_tickets = set(
        Ticket.objects.filter(
            brand_id=run.brand_id, flow=flow.code, status__in=OPEN_STATUSES
        ).values_list("source_id", flat=True)
    )
    try:
        # Inside a transaction (a caller's atomic block, a test), a second connection could
        # neither see this one's writes nor, on SQLite, get past its lock: one at a time.
        if flow.overlap_batches and not connection.in_atomic_block:
            _run_overlapped(ctx, open_tickets, progress)
        else:
            for batch in _batches(ctx):
                process_batch(ctx, batch, open_tickets)
                _after_batch(ctx, progress)
        _missing(ctx)
        flow.finish(ctx)
        # One ticket per unmapped value records wait on (any flow); resolved once mapped.
        value_maps.value_tickets_sync(ctx)
    finally:
        run.api_calls, run.throttle_waits = ctx.api_calls()
        # The vendors this run actually called: only those are known to work now (a run with
        # nothing to write never reached its target, whose key may still be refused).
        called = {s for s, c in ctx.connectors_open().items() if c.stats.calls}
        ctx.close()
    if ctx.left is not None:
        return _give_back(run, ctx)
    if not ctx.scope:
        # A run that read everything changed up to its start (a full run: everything)
        # moves the cursor there; the next incremental run reads from it, less the look-back.
        FlowConfig.objects.filter(pk=config.pk).update(cursor=ctx.until or ctx.now)
    run.state = "partial" if (run.failed or run.waiting) else "succeeded"
    # Counted in the database as each request goes (a kill cannot lose it): read it back.
    run.resent = SyncRun.objects.values_list("resent", flat=True).get(pk=run.pk)
    extra = "".join(
        f", {n} {what}"
        for n, what in (
            (run.created, "created"),
            (run.echoes, "echoes of its own changes not sent back"),
            (run.stale, "older reads not sent over newer ones"),
            (run.resent, "sent again with their outcome unknown (a stopped worker, a lost answer)"),
        )
        if n
    )
    ctx.log(
        f"Finished: {run.read} read, {run.written} written, {run.unchanged} unchanged, "
        f"{run.waiting} waiting, {run.failed} failed{extra}, {run.api_calls} API calls."
    )
    run.log = ctx.log_text
    run.finished_at = timezone.now()
    run.resume = {}
    run.total = run.total or ctx.total_hint
    _fenced_save(
        run,
        [
            "state",
            "log",
            "finished_at",
            "resume",
            "total",
            *COUNTS,
        ],
    )
    # The flow works again: close the flow-level tickets a failed run raised.
    tickets_autoresolve(
        brand=run.brand_id,
        source_system="console",
        source_ids=[f"flow:{flow.code}"],
        note=f"Run {run.pk} of the flow succeeded.",
    )
    for system in {flow.source, flow.target} & called:
        conn = Connection.objects.filter(brand_id=run.brand_id, system=system).first()
        if conn:
            connection_seen(connection=conn, ok=True)
            tickets_autoresolve(
                brand=run.brand_id,
                source_system=system,
                source_ids=[f"connection:{conn.pk}"],
                type_codes=["auth_failure", "configuration_missing", "api_allowance_spent"],
                note=f"Run {run.pk} reached {system.title()} again.",
            )
    return run


def _fenced_save(run: SyncRun, fields: list[str], **also: Any) -> None:
    """Save only while this worker still owns the run (its attempt number is the fence)."""
    values = {f: getattr(run, f) for f in fields}
    if not SyncRun.objects.filter(pk=run.pk, attempts=run.attempts).update(**values, **also):
        raise RunTakenOver(run.pk)


def _give_back(run: SyncRun, ctx: FlowContext) -> SyncRun:
    """The slice is over: record what is left and queue the run again (QUEUED). A slice is
    not an attempt: the attempt number (the fence against a second worker) goes back."""
    left = ctx.left or []
    run.resume = {
        "ids": left,
        "until": (ctx.until or ctx.now).isoformat(),
        # The next slice waits this long: a vendor's allowance for bulk work is spent.
        "wait": round(ctx.come_back_in, 1),
    }
    run.total = run.total or ctx.total_hint
    run.slices += 1
    run.state = RunState.QUEUED
    run.heartbeat = timezone.now()
    why = (
        f"{ctx.come_back_in:.0f} s of waiting for a vendor's allowance ahead"
        if ctx.come_back_in
        else f"{settings.BULK_SLICE_SECONDS:g} s of work"
    )
    ctx.log(
        f"Gave its worker back ({why}), so other work takes its turn; "
        f"{len(left):,} {ctx.flow.noun} left."
    )
    run.log = ctx.log_text
    _fenced_save(
        run,
        [*COUNTS, "resume", "total", "slices", "state", "heartbeat", "log"],
        attempts=run.attempts - 1,
    )
    run.attempts -= 1
    return run


def _checkpoint(run: SyncRun, ctx: FlowContext) -> None:
    run.total = run.total or ctx.total_hint
    run.api_calls, run.throttle_waits = ctx.api_calls()
    run.heartbeat = timezone.now()
    ctx.cache["beat"] = run.heartbeat
    run.log = ctx.log_text
    _fenced_save(run, ["heartbeat", *COUNTS, "total", "log"])


def _missing(ctx: FlowContext) -> None:
    """Ids the run was asked for (a webhook, a retry, a waiting record) that the source no
    longer has: each gets a ticket, and stops being read again."""
    if not ctx.missing:
        return
    flow = ctx.flow
    RecordState.objects.filter(
        brand_id=ctx.brand_id,
        flow=flow.code,
        source_id__in=ctx.missing,
        status__in=[RecordStatus.WAITING, RecordStatus.FAILED],
    ).delete()
    for source_id in ctx.missing[:500]:
        ticket_raise(
            brand=ctx.brand_id,
            type_code="record_missing",
            title=f"{flow.noun[:-1].title()} {source_id} is not in {flow.source.title()} any more",
            flow=flow.code,
            source_system=flow.source,
            source_id=source_id,
            error_message=f"Run {ctx.run.pk} asked {flow.source.title()} for it and got nothing.",
        )
    ctx.log(
        f"{len(ctx.missing)} id{pluralize(len(ctx.missing))} not found in {flow.source.title()}."
    )

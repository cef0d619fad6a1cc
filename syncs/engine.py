"""The engine every flow runs on: batches, change detection, record state, tickets, counts.

A run reads batches from its flow, transforms each record, skips what the target already
has (same content hash), writes the rest, and records one state per source record:
synced, waiting (with a ticket) or failed (with a ticket). Nothing is lost: a record
either reaches the target or is in exactly one open ticket.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, connections
from django.template.defaultfilters import pluralize
from django.utils import timezone

from connectors.base import Connector
from connectors.errors import ConfigurationError
from connectors.http import BatchResult, RecordError
from connectors.models import Connection
from connectors.registry import connector_for
from connectors.services import connection_seen
from exceptions.models import OPEN_STATUSES, Ticket
from exceptions.services import ticket_raise, tickets_autoresolve
from syncs.flows import get_flow
from syncs.flows.base import Flow, Push, Skip, TicketSpec, Wait, public
from syncs.models import FlowConfig, RecordState, RecordStatus, StatusMapping, SyncRun
from syncs.valuemaps import quarantine as value_maps

logger = logging.getLogger("syncs.engine")

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
LOG_LINES = 200

Progress = Callable[[SyncRun, int | None], None]


class RunTakenOver(Exception):
    """Another worker took this run over (this one looked dead): stop without writing more."""


def content_hash(payload: Any) -> str:
    """The hash of what the target receives (a flow's own `_keys` are not sent, so not hashed)."""
    if isinstance(payload, dict):
        payload = public(payload)
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()


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
        if not self.scope and not self.full:
            start = config.cursor or EPOCH
            self.since = start - timedelta(minutes=config.lookback_minutes)
            self.until = self.now
        # Records waiting on a mapping are read again every run: a mapping added since lets
        # them through without a new change in the source. (A refused record is not: it
        # goes again when it changes, or when its ticket is retried.)
        self.retry_ids: list[str] = []
        if not self.scope:
            self.retry_ids = list(
                RecordState.objects.filter(
                    brand_id=self.brand_id, flow=flow.code, status=RecordStatus.WAITING
                ).values_list("source_id", flat=True)
            )
        # Status and purchase events go before bulk backfills (the budget's reserve).
        self.priority = run.trigger in ("webhook", "retry")
        self.total_hint: int | None = None
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
            connector.budget.on_wait = self.beat
            self._connectors[system] = connector
        return self._connectors[system]

    def beat(self) -> None:
        """Still alive, while a vendor makes us wait: a run with a fresh heartbeat is never
        handed to a second worker. Raises RunTakenOver if one has taken it already."""
        now = timezone.now()
        if self.cache.get("beat") and (now - self.cache["beat"]).total_seconds() < 15:
            return
        self.cache["beat"] = now
        if not SyncRun.objects.filter(pk=self.run.pk, attempts=self.run.attempts).update(
            heartbeat=now
        ):
            raise RunTakenOver(self.run.pk)

    def api_calls(self) -> tuple[int, int]:
        stats = [c.stats for c in self._connectors.values()]
        return sum(s.calls for s in stats), sum(s.throttle_waits for s in stats)

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

    # --- log ---------------------------------------------------------------------
    def log(self, message: str) -> None:
        self._log.append(f"{timezone.now():%H:%M:%S} {message}")
        self._log = self._log[-LOG_LINES:]

    @property
    def log_text(self) -> str:
        return "\n".join(self._log)


def _state(
    ctx: FlowContext,
    source_id: str,
    status: str,
    *,
    previous: RecordState | None,
    content: str | None = None,
    target_id: str = "",
    last_pushed: dict | None = None,
    match_key: str = "",
    detail: str = "",
    source_updated: datetime | None = None,
    flow: str | None = None,
) -> RecordState:
    synced = status == RecordStatus.SYNCED
    held = status in (RecordStatus.WAITING, RecordStatus.FAILED)
    was_held = previous is not None and previous.status in (
        RecordStatus.WAITING,
        RecordStatus.FAILED,
    )
    return RecordState(
        brand_id=ctx.brand_id,
        flow=flow or ctx.flow.code,
        source_id=source_id,
        status=status,
        # A record that waits keeps the hash of what the target last acknowledged.
        content_hash=content
        if content is not None
        else (previous.content_hash if previous else ""),
        target_id=target_id or (previous.target_id if previous else ""),
        last_pushed=last_pushed
        if last_pushed is not None
        else (previous.last_pushed if previous else {}),
        match_key=match_key or (previous.match_key if previous else ""),
        detail=detail[:300],
        source_updated=source_updated or (previous.source_updated if previous else None),
        synced_at=ctx.now if synced else (previous.synced_at if previous else None),
        held_since=((was_held and previous.held_since) or ctx.now) if held else None,
    )


STATE_FIELDS = [
    "status",
    "content_hash",
    "target_id",
    "last_pushed",
    "match_key",
    "detail",
    "source_updated",
    "synced_at",
    "held_since",
]


def _same(value: Any) -> Any:
    return value


def save_states(states: list[RecordState]) -> None:
    """Insert or update a batch of record states in one statement.

    This is bulk_create(update_conflicts=True) without the ORM's per-field preparation,
    which cost more than the database itself on a 200-record batch. The SQL is the same on
    SQLite and PostgreSQL (ON CONFLICT … DO UPDATE with EXCLUDED). Multi-row statements
    (as many rows as the database takes parameters: 76 on SQLite) rather than executemany:
    sqlite3 gives up the GIL for every row of an executemany, and with the writer thread
    busy each row then waited for it again.
    """
    # A record twice in one statement is an error on PostgreSQL; the last state wins, as
    # it would row by row. Rows go in key order, so two runs writing some of the same
    # records (a webhook run beside a full one) lock them in the same order: no deadlock.
    latest = dict(sorted({(s.brand_id, s.flow, s.source_id): s for s in states}.items()))
    if not latest:
        return
    ops = connection.ops
    meta = RecordState._meta
    keys = ["brand_id", "flow", "source_id"]
    columns = [*keys, *STATE_FIELDS, "changed"]
    quoted = [ops.quote_name(meta.get_field(c).column) for c in columns]
    updates = ", ".join(f"{q} = EXCLUDED.{q}" for q in quoted[len(keys) :])
    adapt = {
        "last_pushed": lambda v: ops.adapt_json_value(v, None),
        "source_updated": ops.adapt_datetimefield_value,
        "synced_at": ops.adapt_datetimefield_value,
        "held_since": ops.adapt_datetimefield_value,
    }
    now = ops.adapt_datetimefield_value(timezone.now())
    rows = [
        (*(adapt.get(c, _same)(getattr(s, c)) for c in columns[:-1]), now) for s in latest.values()
    ]
    row_sql = f"({', '.join(['%s'] * len(columns))})"
    size = ops.bulk_batch_size(columns, rows)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            cursor.execute(
                f"INSERT INTO {ops.quote_name(meta.db_table)} ({', '.join(quoted)}) "
                f"VALUES {', '.join([row_sql] * len(chunk))} "
                f"ON CONFLICT ({', '.join(quoted[: len(keys)])}) DO UPDATE SET {updates}",
                [value for row in chunk for value in row],
            )


@dataclass
class Prepared:
    """A batch transformed and compared with what the target has: what to write, and the
    states of the records that need no write."""

    previous: dict[str, RecordState]
    states: list[RecordState]
    to_write: list[tuple[Push, str]]
    # Records held back earlier, never sent, that need nothing any more (a sales credit a
    # webhook named as an order): their waiting state goes, or it would wait for ever.
    dropped: list[int] = field(default_factory=list)


def process_batch(ctx: FlowContext, records: list[Any], open_tickets: set[str]) -> None:
    """One batch, start to finish (the flows that may not overlap batches)."""
    prepared = prepare_batch(ctx, records)
    result = (
        ctx.flow.write(ctx, [push for push, _ in prepared.to_write]) if prepared.to_write else None
    )
    finish_batch(ctx, prepared, result, open_tickets)


def _transform(ctx: FlowContext, record: Any) -> Push | Wait | Skip:
    """One record; a record that breaks the transform fails alone, with a ticket."""
    try:
        return ctx.flow.transform(ctx, record)
    except Exception as exc:
        source_id = ctx.flow.source_id_of(record)
        logger.exception(
            "run %s: %s %s could not be transformed", ctx.run.pk, ctx.flow.code, source_id
        )
        message = f"{type(exc).__name__}: {exc}"[:300]
        return Wait(
            source_id=source_id,
            reason=f"Could not be read: {message}",
            ticket=TicketSpec(
                type_code="record_unreadable",
                title=f"{ctx.flow.noun[:-1].title()} {source_id} could not be read",
                source_id=source_id,
                source_system=ctx.flow.source,
                error_code=type(exc).__name__,
                error_message=message,
            ),
            failed=True,
        )


def prepare_batch(ctx: FlowContext, records: list[Any]) -> Prepared:
    flow, run = ctx.flow, ctx.run
    outcomes = [_transform(ctx, record) for record in records]
    run.read += len(outcomes)
    previous = ctx.states(flow.code, [o.source_id for o in outcomes])
    states: list[RecordState] = []
    to_write: list[tuple[Push, str]] = []
    dropped: list[int] = []
    for outcome in outcomes:
        before = previous.get(outcome.source_id)
        if isinstance(outcome, Skip):
            run.unchanged += 1
            if (
                before is not None
                and before.status != RecordStatus.SYNCED
                and not before.last_pushed
            ):
                dropped.append(before.pk)
            continue
        if isinstance(outcome, Wait):
            if outcome.failed:
                run.failed += 1
            else:
                run.waiting += 1
            states.append(
                _state(
                    ctx,
                    outcome.source_id,
                    RecordStatus.FAILED if outcome.failed else RecordStatus.WAITING,
                    previous=before,
                    match_key=outcome.match_key,
                    detail=outcome.reason,
                    source_updated=outcome.source_updated,
                )
            )
            if outcome.ticket is not None:
                spec = outcome.ticket
                ticket_raise(
                    brand=ctx.brand_id,
                    type_code=spec.type_code,
                    title=spec.title,
                    flow=flow.code,
                    source_system=spec.source_system,
                    source_id=spec.source_id,
                    source_url=spec.source_url,
                    snapshot=spec.snapshot,
                    error_code=spec.error_code,
                    error_message=spec.error_message,
                    retry_of=ctx.retry_ticket(),
                )
            continue
        digest = content_hash(outcome.payload)
        if (
            before is not None
            and before.status == RecordStatus.FAILED
            and before.content_hash == digest
            and run.trigger != "retry"
        ):
            # The target refused exactly this content; sending it again would fail the same
            # way. A change in the source, or a retry from the ticket, sends it again.
            run.unchanged += 1
            continue
        if before is not None and before.status == RecordStatus.SYNCED:
            if before.content_hash == digest or flow.once:
                run.unchanged += 1
                continue
            if (
                outcome.source_updated
                and before.source_updated
                and outcome.source_updated < before.source_updated
            ):
                # An older read than what we already sent (a slower run overtaken by a
                # webhook): sending it would put the target back in time.
                run.unchanged += 1
                continue
        to_write.append((outcome, digest))
    return Prepared(previous, states, to_write, dropped)


def finish_batch(
    ctx: FlowContext, prepared: Prepared, result: BatchResult | None, open_tickets: set[str]
) -> None:
    """Record what the target acknowledged or refused, and close the tickets it settles."""
    flow, run = ctx.flow, ctx.run
    previous, states = prepared.previous, prepared.states
    if prepared.dropped:
        RecordState.objects.filter(pk__in=prepared.dropped).delete()
    extra_states: list[RecordState] = []
    synced_ids: list[str] = []
    if result is not None:
        ok = set(result.ok)
        for push, digest in prepared.to_write:
            before = previous.get(push.source_id)
            failure = result.failed.get(push.source_id)
            if failure is None and push.source_id not in ok:
                # Neither taken nor refused: never assume it arrived.
                failure = RecordError(
                    "no_outcome", f"{flow.target.title()} did not say whether it took this record."
                )
            if failure is not None:
                run.failed += 1
                states.append(
                    _state(
                        ctx,
                        push.source_id,
                        RecordStatus.FAILED,
                        previous=before,
                        content=digest,
                        match_key=push.match_key,
                        detail=f"{failure.code}: {failure.message}",
                        source_updated=push.source_updated,
                    )
                )
                ticket_raise(
                    brand=ctx.brand_id,
                    type_code="rejected_by_target",
                    flow=flow.code,
                    title=f"{flow.noun[:-1].title()} {push.source_id} refused by {flow.target}",
                    source_system=flow.source,
                    source_id=push.source_id,
                    snapshot={"sent": flow.state_of(push.payload)},
                    error_code=failure.code,
                    error_message=failure.message,
                    retry_of=ctx.retry_ticket(),
                )
                continue
            run.written += 1
            summary = flow.state_of(push.payload)
            states.append(
                _state(
                    ctx,
                    push.source_id,
                    RecordStatus.SYNCED,
                    previous=before,
                    content=digest,
                    target_id=push.target_id,
                    last_pushed=summary,
                    match_key=push.match_key,
                    source_updated=push.source_updated,
                )
            )
            if push.also_state is not None:
                # The other record's own update time, when the flow gives it: a credit's
                # time on its order's state would make the order flow take its next read
                # of the order for an older one and skip it (a remapped status never sent).
                other_flow, other_id, other_key, *other_updated = push.also_state
                extra_states.append(
                    _state(
                        ctx,
                        other_id,
                        RecordStatus.SYNCED,
                        previous=None,
                        content=digest,
                        target_id=push.target_id,
                        last_pushed=summary,
                        match_key=other_key,
                        source_updated=other_updated[0] if other_updated else push.source_updated,
                        flow=other_flow,
                    )
                )
            synced_ids.append(push.source_id)

    save_states(states)
    # Another flow's record went out as a side effect (a refund pushes its whole order).
    save_states(extra_states)
    # A record that now syncs cleanly closes its tickets, whatever made it sync.
    cleared = [sid for sid in synced_ids if sid in open_tickets]
    if cleared:
        tickets_autoresolve(
            brand=ctx.brand_id,
            source_system=flow.source,
            source_ids=cleared,
            flow=flow.code,
            # Ometria checks a record after it answers OK: whether it took it this time is
            # known only later (ometria_rejections_collect).
            except_type_codes=["async_rejection"],
            note=f"It synced cleanly in run {run.pk}.",
        )


def _after_batch(ctx: FlowContext, progress: Progress | None) -> None:
    _checkpoint(ctx.run, ctx)
    if progress:
        progress(ctx.run, ctx.total_hint)


def _run_overlapped(ctx: FlowContext, open_tickets: set[str], progress: Progress | None) -> None:
    """Write batch N to the target while batch N+1 is read from the source.

    Each side spends most of its time waiting for a vendor, so the two waits overlap.
    The writer thread only sends; every state, ticket and count is recorded here, in order.
    """
    ctx.connector(ctx.flow.target)  # made here, not by two threads at once
    pending: tuple[Prepared, Future | None] | None = None

    def finish(item: tuple[Prepared, Future | None]) -> None:
        prepared, future = item
        finish_batch(ctx, prepared, future.result() if future else None, open_tickets)
        _after_batch(ctx, progress)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="flow-writer") as writer:
        try:
            for batch in ctx.flow.read(ctx):
                prepared = prepare_batch(ctx, batch)
                if pending is not None:
                    item, pending = pending, None
                    finish(item)
                pushes = [push for push, _ in prepared.to_write]
                pending = (prepared, writer.submit(ctx.flow.write, ctx, pushes) if pushes else None)
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


def execute(run: SyncRun, progress: Progress | None = None) -> SyncRun:
    """Do a claimed run's work. Raises ConnectorError for failures of the whole run."""
    flow = get_flow(run.flow)
    config, _ = FlowConfig.objects.get_or_create(
        brand_id=run.brand_id,
        flow=run.flow,
        defaults={"schedule_minutes": flow.default_schedule_minutes},
    )
    ctx = FlowContext(run, config, flow)
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
            for batch in flow.read(ctx):
                process_batch(ctx, batch, open_tickets)
                _after_batch(ctx, progress)
        _missing(ctx)
        flow.finish(ctx)
        # One ticket per unmapped value records wait on (any flow); resolved once mapped.
        value_maps.value_tickets_sync(ctx)
    finally:
        run.api_calls, run.throttle_waits = ctx.api_calls()
        ctx.close()
    if not ctx.scope:
        # A run that read everything changed up to its start (a full run: everything)
        # moves the cursor there; the next incremental run reads from it, less the look-back.
        FlowConfig.objects.filter(pk=config.pk).update(cursor=ctx.until or ctx.now)
    run.state = "partial" if (run.failed or run.waiting) else "succeeded"
    ctx.log(
        f"Finished: {run.read} read, {run.written} written, {run.unchanged} unchanged, "
        f"{run.waiting} waiting, {run.failed} failed, {run.api_calls} API calls."
    )
    run.log = ctx.log_text
    run.finished_at = timezone.now()
    _fenced_save(
        run,
        [
            "state",
            "log",
            "finished_at",
            "read",
            "written",
            "unchanged",
            "waiting",
            "failed",
            "api_calls",
            "throttle_waits",
        ],
    )
    # The flow works again: close the flow-level tickets a failed run raised.
    tickets_autoresolve(
        brand=run.brand_id,
        source_system="console",
        source_ids=[f"flow:{flow.code}"],
        note=f"Run {run.pk} of the flow succeeded.",
    )
    for system in {flow.source, flow.target}:
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


def _fenced_save(run: SyncRun, fields: list[str]) -> None:
    """Save only while this worker still owns the run (its attempt number is the fence)."""
    values = {f: getattr(run, f) for f in fields}
    if not SyncRun.objects.filter(pk=run.pk, attempts=run.attempts).update(**values):
        raise RunTakenOver(run.pk)


def _checkpoint(run: SyncRun, ctx: FlowContext) -> None:
    run.api_calls, run.throttle_waits = ctx.api_calls()
    run.heartbeat = timezone.now()
    ctx.cache["beat"] = run.heartbeat
    run.log = ctx.log_text
    _fenced_save(
        run,
        [
            "heartbeat",
            "read",
            "written",
            "unchanged",
            "waiting",
            "failed",
            "api_calls",
            "throttle_waits",
            "log",
        ],
    )


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

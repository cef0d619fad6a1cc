"""Never push an older read of a record over a newer one.

A backfill reads order 74345, the order changes, a webhook reads it again and pushes the new
copy, and then the backfill pushes its stale copy: the target is back in time until the next
run. Checking versions when a batch is prepared cannot stop it, because both runs prepare
before either sends. So every write takes the record first, at the version it was read at:

- a record's version is its source change time (the source's clock, the same for every
  worker) and then when the console read it, as fixed-width digits that sort as they compare;
- before a write, the run claims each record in one statement: it takes the record only if
  no newer version has been claimed and no other run is sending it now, and writes its
  version there;
- a record already claimed at a newer version is not sent (it is counted as `stale`): the
  newer copy went, or is going;
- a record another run is sending is waited for (that run's write ends in seconds), then
  claimed: a newer read waits for an older one's write to land and then goes over it;
- the claim is released when the write ends, or expires after LEASE_SECONDS if the worker
  died (the run's heartbeat renews it while the write goes on).

It holds for every flow and target, because it sits in the engine between prepare and send.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils import timezone

from syncs.flows.base import Push
from syncs.models import RecordState, RecordStatus

if TYPE_CHECKING:
    from syncs.engine import FlowContext

# A claim not renewed for this long belongs to a worker that died.
LEASE_SECONDS = 60.0
# How often a run waiting for another run's write looks again.
POLL_SECONDS = 0.05
_NEVER = "0" * 20


def _digits(moment: datetime | None) -> str:
    if moment is None:
        return _NEVER
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S%f")


def version_of(push: Push, read_at: datetime) -> str:
    """The source's change time first: two reads of one change are equal whatever the
    workers' clocks; then the read time, for a change that leaves the change time as it was
    (Brightpearl keeps updatedOn when only a custom field changes)."""
    return _digits(push.source_updated) + _digits(read_at)


def pushes_claim(ctx: FlowContext, entries: list, read_at: datetime) -> tuple[list, list]:
    """Claim the records of a batch before it is written. `entries` are (push, hash) pairs;
    returns those this run may send, and those a newer read has overtaken."""
    if not entries:
        return [], []
    versions = {push.source_id: version_of(push, read_at) for push, _ in entries}
    pending = set(versions)
    claimed: set[str] = set()
    stale: set[str] = set()
    while pending:
        taken, newer = _claim_once(ctx, pending, versions)
        claimed |= taken
        stale |= newer
        pending -= taken | newer
        if pending:
            # Another run is writing these now: its write ends, or its lease runs out.
            ctx.beat()
            time.sleep(POLL_SECONDS)
    keep = [e for e in entries if e[0].source_id in claimed]
    dropped = [e for e in entries if e[0].source_id in stale]
    return keep, dropped


def _claim_once(
    ctx: FlowContext, ids: set[str], versions: dict[str, str]
) -> tuple[set[str], set[str]]:
    """One statement claims what is free and not newer (creating the state of a record never
    seen, as on its way); a second reads back what this run holds and what is newer."""
    now = timezone.now()
    until = now + timedelta(seconds=LEASE_SECONDS)
    ops = connection.ops
    table = ops.quote_name(RecordState._meta.db_table)
    run_id = ctx.run.pk
    columns = (
        "brand_id",
        "flow",
        "source_id",
        "status",
        "content_hash",
        "target_id",
        "last_pushed",
        "match_key",
        "detail",
        "held_since",
        "changed",
        "version",
        "sending_run",
        "sending_until",
    )
    detail = f"On its way to {ctx.flow.target.title()}; not acknowledged yet."
    stamp = ops.adapt_datetimefield_value(now)
    rows = [
        (
            ctx.brand_id,
            ctx.flow.code,
            source_id,
            RecordStatus.WAITING,
            "",
            "",
            ops.adapt_json_value({}, None),
            "",
            detail,
            stamp,
            stamp,
            versions[source_id],
            run_id,
            ops.adapt_datetimefield_value(until),
        )
        for source_id in sorted(ids)
    ]
    row_sql = f"({', '.join(['%s'] * len(columns))})"
    size = ops.bulk_batch_size(list(columns), rows)
    # The conditions read the row as it is (the table's name) against this claim (EXCLUDED):
    # free (nobody sending, a dead sender's lease over, or this run itself), and not newer.
    free = (
        f"({table}.sending_run IS NULL OR {table}.sending_until < EXCLUDED.changed "
        f"OR {table}.sending_run = EXCLUDED.sending_run)"
    )
    not_newer = f"{table}.version <= EXCLUDED.version"
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            cursor.execute(
                # bandit B608 is wrong here: the model's quoted names, values bound.
                f"INSERT INTO {table} ({', '.join(columns)}) "  # nosec B608
                f"VALUES {', '.join([row_sql] * len(chunk))} "
                "ON CONFLICT (brand_id, flow, source_id) DO UPDATE SET "
                "version = EXCLUDED.version, sending_run = EXCLUDED.sending_run, "
                f"sending_until = EXCLUDED.sending_until WHERE {free} AND {not_newer}",
                [value for row in chunk for value in row],
            )
        held = RecordState.objects.filter(
            brand_id=ctx.brand_id, flow=ctx.flow.code, source_id__in=ids
        ).values_list("source_id", "version", "sending_run")
        taken: set[str] = set()
        newer: set[str] = set()
        for source_id, version, sender in held:
            if version > versions[source_id]:
                newer.add(source_id)
            elif sender == run_id and version == versions[source_id]:
                taken.add(source_id)
    return taken, newer


def pushes_release(ctx: FlowContext, source_ids: list[str]) -> None:
    """The write ended (acknowledged, refused or unanswered): others may claim them now."""
    if source_ids:
        RecordState.objects.filter(
            brand_id=ctx.brand_id,
            flow=ctx.flow.code,
            source_id__in=source_ids,
            sending_run=ctx.run.pk,
        ).update(sending_run=None, sending_until=None)


def pushes_renew(ctx: FlowContext) -> None:
    """Still writing (the run's heartbeat): its claims do not expire under it."""
    RecordState.objects.filter(sending_run=ctx.run.pk).update(
        sending_until=timezone.now() + timedelta(seconds=LEASE_SECONDS)
    )

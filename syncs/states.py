"""What each record last looked like: one row per flow and source record, saved a batch at
a time."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.utils import timezone

from syncs.flows.base import public
from syncs.models import RecordState, RecordStatus

if TYPE_CHECKING:
    from syncs.engine import FlowContext


def content_hash(payload: Any) -> str:
    """The hash of what the target receives (a flow's own `_keys` are not sent, so not hashed)."""
    if isinstance(payload, dict):
        payload = public(payload)
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()


def record_state(
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
    link_id: int | None = None,
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
        link_id=link_id or (previous.link_id if previous else None),
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
    "link_id",
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
    # A state written for another flow's record (a refund sends its whole order) does not
    # know that record's link: it keeps the one it has.
    link = ops.quote_name(meta.get_field("link_id").column)
    updates = ", ".join(
        f"{q} = COALESCE(EXCLUDED.{q}, {ops.quote_name(meta.db_table)}.{q})"
        if q == link
        else f"{q} = EXCLUDED.{q}"
        for q in quoted[len(keys) :]
    )
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
                # bandit B608 is wrong here: the model's quoted names, values bound.
                f"INSERT INTO {ops.quote_name(meta.db_table)} ({', '.join(quoted)}) "  # nosec B608
                f"VALUES {', '.join([row_sql] * len(chunk))} "
                f"ON CONFLICT ({', '.join(quoted[: len(keys)])}) DO UPDATE SET {updates}",
                [value for row in chunk for value in row],
            )

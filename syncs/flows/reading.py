"""How the Brightpearl flows read: ids from a scope, a full listing or a changed-since search,
plus the records that waited last time, fetched 200 at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from itertools import chain
from typing import TYPE_CHECKING, Any

from django.utils.dateparse import parse_datetime

from connectors.http import chunks

if TYPE_CHECKING:
    from syncs.engine import FlowContext

# Before any record a flow can meet: a first run reads from here.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def unique(ids: Iterable[Any]) -> Iterator[str]:
    seen: set[str] = set()
    for i in ids:
        key = str(i)
        if key not in seen:
            seen.add(key)
            yield key


def source_ids(
    ctx: FlowContext,
    *,
    full: Callable[[], Iterable[dict]],
    changed: Callable[[datetime, datetime], Iterable[dict]],
    id_column: str,
    include_retry: bool = True,
) -> Iterator[str]:
    """The ids this run must read, streamed (a search page at a time, never all at once).

    A bulk run's slice that is due to give its worker back (ctx.yielding) stops taking ids;
    the ids it has not reached are listed (the rest of the search's pages, no record read)
    into ctx.left, and its next slice reads those (ctx.resume_ids)."""
    if ctx.scope:
        ctx.total_hint = len(ctx.scope)
        yield from unique(ctx.scope)
        return
    if ctx.resume_ids is not None:
        yield from _sliced(ctx, iter(ctx.resume_ids))
        return
    rows = full() if ctx.full else changed(ctx.since, ctx.until)
    retry = ctx.retry_ids if include_retry else []
    yield from _sliced(ctx, unique(chain(_counted(ctx, rows, id_column), retry)))


def _sliced(ctx: FlowContext, ids: Iterator[str]) -> Iterator[str]:
    for source_id in ids:
        if ctx.yielding:
            ctx.left = [source_id, *ids]
            return
        yield source_id


def _counted(ctx: FlowContext, rows: Iterable[dict], id_column: str) -> Iterator[Any]:
    for row in rows:
        if ctx.total_hint is None:
            # The search says how many rows there are on its first page: the progress bar's total.
            total = getattr(ctx.connector("brightpearl"), "last_search_total", None)
            ctx.total_hint = (total or 0) + len(ctx.retry_ids) or None
        yield row[id_column]


def fetched(
    ctx: FlowContext,
    ids: Iterable[str],
    fetch: Callable[[list[str]], Iterable[dict]],
    key: Callable[[dict], Any],
    size: int = 200,
) -> Iterator[list[dict]]:
    """Fetch ids in batches; ids the source no longer has are noted for the engine."""
    for batch in chunks(ids, size):
        records = list(fetch(batch))
        found = {str(key(r)) for r in records}
        ctx.missing.extend(i for i in batch if i not in found)
        yield records


def id_order(value: Any) -> tuple[int, str]:
    """Sort numeric ids as numbers, the rest after them as text."""
    text = str(value)
    return (int(text), "") if text.isdigit() else (0, text)


def when(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None

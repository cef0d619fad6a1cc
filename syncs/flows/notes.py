"""How the flows that send shipments read Brightpearl's goods-out notes: by their own ids
(webhooks, retries) or through their orders (a schedule), plus the notes that waited.

Shared by Shipments → Ometria and Shipments → BigCommerce, so both find the same notes the
same way, with the same guard against reading one note twice in a run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from connectors.http import chunks
from syncs.flows.reading import source_ids, unique

if TYPE_CHECKING:
    from syncs.engine import FlowContext

NoteBatch = tuple[list[tuple[int, dict]], bool]


def note_batches(ctx: FlowContext) -> Iterator[NoteBatch]:
    """Batches of (note id, note), each with whether it was read by note id (True) or
    through its orders (False). Notes read are remembered in ctx.cache["notes_read"]."""
    bp = ctx.connector("brightpearl")
    if ctx.scope:
        # Webhooks and retries name notes.
        batches: Iterator[NoteBatch] = (
            (list(bp.goods_out_notes(note_ids=batch)), True)
            for batch in chunks(unique(ctx.scope), 500)
        )
    else:
        # A schedule finds notes through their orders: shipping a note changes its order.
        # Notes that waited are read by their own ids, below, not as order ids.
        order_ids = source_ids(
            ctx,
            full=bp.all_order_ids,
            changed=bp.changed_order_ids,
            id_column="orderId",
            include_retry=False,
        )
        retry = set(ctx.retry_ids)
        batches = (
            (list(bp.goods_out_notes(order_ids=batch)), False) for batch in chunks(order_ids, 200)
        )
        if retry:
            batches = _then(batches, lambda: _waited(ctx, retry))
    seen: set[str] = ctx.cache.setdefault("notes_read", set())
    for notes, by_note in batches:
        seen.update(str(note_id) for note_id, _ in notes)
        yield notes, by_note


def _waited(ctx: FlowContext, waited: set[str]) -> NoteBatch | None:
    """The notes that waited last time, by their ids, but for those this run already read
    through their orders: read twice in one run, a note could be sent twice (the first
    send's answer not yet recorded when the second batch is compared)."""
    left = sorted(waited - ctx.cache.get("notes_read", set()))
    if not left:
        return None
    return list(ctx.connector("brightpearl").goods_out_notes(note_ids=left)), True


def _then(first: Iterator[NoteBatch], last: Callable[[], NoteBatch | None]) -> Iterator[NoteBatch]:
    yield from first
    then = last()
    if then:
        yield then


def is_shipped(note: dict) -> bool:
    return bool((note.get("status") or {}).get("shipped"))

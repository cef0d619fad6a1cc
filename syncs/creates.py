"""The safe-create protocol, around a flow's write: a record is created in its target exactly
once, whatever answers are lost and whichever workers die.

Before the write, each record without a target id gets a pending link (committed at once);
one whose earlier create left its link pending is looked up by its natural key first (and,
for a flow that says so, every new one is). After the write, each create's id completes its
link, a refused create drops its link, and one whose answer never came keeps it pending: the
next attempt looks before it creates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from syncs import links
from syncs.flows.base import Push
from syncs.states import content_hash

if TYPE_CHECKING:
    from syncs.batches import Sent
    from syncs.engine import FlowContext


def target_written(ctx: FlowContext, push: Push, digest: str = "") -> links.Written:
    view = ctx.flow.written_view(push)
    return links.Written(
        entity=push.entity,
        external_id=push.target_id,
        digest=content_hash(view) if view else digest,
        view=view,
        flow=ctx.flow.code,
    )


def creates_begin(
    ctx: FlowContext, pushes: list[Push], sent: Sent
) -> tuple[list[Push], dict[str, links.Link]]:
    """The safe-create protocol, before the write. A record already linked is updated; one
    with a create in flight from an earlier attempt is looked up by its natural key first;
    a new one gets a pending link, committed before anything is sent."""
    flow = ctx.flow
    targets = links.links_of_entities(
        brand_id=ctx.brand_id,
        kind=flow.target_kind or flow.kind,
        system=flow.target,
        entities=[p.entity for p in pushes],
    )
    pending: dict[str, links.Link] = {}
    unknown: list[Push] = []
    for push in pushes:
        link = targets.get(push.entity)
        if link is not None and link.external_id:
            push.target_id = link.external_id
            continue
        push.target_id = ""
        if link is None:
            link = links.create_begin(
                brand_id=ctx.brand_id,
                kind=flow.target_kind or flow.kind,
                system=flow.target,
                entity=push.entity,
                create_key=f"{flow.code}:{push.source_id}",
                natural_key=push.natural_key,
            )
            if link.external_id:  # completed by a run that raced this one
                push.target_id = link.external_id
                continue
            if flow.lookup_first:
                unknown.append(push)
        else:
            unknown.append(push)
        pending[push.source_id] = link
    if unknown:
        found = flow.lookup(ctx, unknown)
        for push in unknown:
            target_id = found.get(push.source_id)
            if target_id:
                # It exists: made by an earlier attempt whose answer was lost (or whose
                # worker stopped before saving it), or by someone else before the console.
                links.create_done(pending.pop(push.source_id), external_id=str(target_id))
                push.target_id = str(target_id)
                sent.found += 1
    return pushes, pending


def creates_end(
    ctx: FlowContext, pushes: list[Push], pending: dict[str, links.Link], sent: Sent
) -> None:
    result = sent.result
    for push in pushes:
        link = pending.get(push.source_id)
        if link is None:
            continue
        target_id = result.created.get(push.source_id)
        failure = result.failed.get(push.source_id)
        if target_id:
            push.target_id = str(target_id)
            written = target_written(ctx, push)
            links.create_done(
                link,
                external_id=push.target_id,
                digest=written.digest,
                view=written.view,
                flow=ctx.flow.code,
            )
            sent.created += 1
        elif failure is not None and failure.definite:
            links.create_abandon(link)
        else:
            # No answer: it may exist now. The link stays pending; the next attempt looks.
            sent.unknown[push.source_id] = (
                failure.message if failure else "No answer came back for the create."
            )

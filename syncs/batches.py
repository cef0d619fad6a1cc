"""One batch of a run: compare, send, acknowledge, record.

`prepare_batch` transforms a batch and decides what to write (echoes and unchanged records
are not); `send_batch` is the target side (safe creates, the write itself, and recording at
once what the target acknowledged, so a worker killed a moment later never sends it
again); `finish_batch` records the rest (refusals, waits, tickets, counts). In an
overlapped run `send_batch` runs on the writer thread while the next batch is read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import F

from connectors.http import BatchResult, RecordError
from exceptions.services import ticket_raise, tickets_autoresolve
from syncs import links
from syncs.creates import creates_begin, creates_end, target_written
from syncs.flows.base import Push, Skip, TicketSpec, Wait
from syncs.freshness import pushes_claim, pushes_release
from syncs.models import RecordState, RecordStatus, SyncRun
from syncs.plain_errors import unreadable_reason
from syncs.states import content_hash, record_state, save_states

if TYPE_CHECKING:
    from syncs.engine import FlowContext

logger = logging.getLogger("syncs.engine")


# --- a batch ------------------------------------------------------------------------------
@dataclass
class Prepared:
    """A batch transformed and compared with what the target has: what to write, and the
    states of the records that need no write."""

    previous: dict[str, RecordState]
    states: list[RecordState]
    to_write: list[tuple[Push, str]]
    # The source records' links, by source id.
    links: dict[str, links.Link] = field(default_factory=dict)
    # Records held back earlier, never sent, that need nothing any more (a sales credit a
    # webhook named as an order): their waiting state goes, or it would wait for ever.
    dropped: list[int] = field(default_factory=list)
    # When the batch's reading began: with each record's change time, its version.
    read_at: datetime | None = None


@dataclass
class Sent:
    """What the target side of a batch did: the vendor's per-record result, and what the
    engine's protocol added (creates, look-ups, sends repeated after a crash)."""

    result: BatchResult
    created: int = 0
    found: int = 0
    # Creates whose answer never came: they wait, and the next run looks them up first.
    unknown: dict[str, str] = field(default_factory=dict)
    # Records already in the target that the flow does not update: nothing was written.
    untouched: set[str] = field(default_factory=set)
    # Records not sent because a newer read of them had been sent (syncs/freshness.py).
    stale: int = 0


def _transform(ctx: FlowContext, record: Any) -> Push | Wait | Skip:
    """One record; a record that breaks the transform fails alone, with a ticket."""
    try:
        return ctx.flow.transform(ctx, record)
    except Exception as exc:
        source_id = ctx.flow.source_id_of(record)
        logger.exception(
            "run %s: %s %s could not be transformed", ctx.run.pk, ctx.flow.code, source_id
        )
        # A sentence for the ticket; the exception itself is in the log line above.
        code, message = unreadable_reason(exc)
        return Wait(
            source_id=source_id,
            reason=f"Could not be read: {message}",
            ticket=TicketSpec(
                type_code="record_unreadable",
                title=f"{ctx.flow.noun[:-1].title()} {source_id} could not be read",
                source_id=source_id,
                source_system=ctx.flow.source,
                error_code=code,
                error_message=message,
            ),
            failed=True,
        )


def _echo(ctx: FlowContext, record: Any, link: links.Link | None) -> bool | None:
    """True: this record is the console's own write coming back to the system it came
    from; False: a change made elsewhere since; None: nothing to compare."""
    stamped = ctx.flow.stamped_echo(ctx, record)
    if stamped is not None:
        # The source says who changed it: the console's own user, or someone else.
        return stamped if (stamped or link is not None) else None
    if link is None or not link.written_hash:
        return None
    writer = ctx.flow_class(link.written_by)
    if writer is None or writer.source != ctx.flow.target:
        # Written from another system: going on to this target is not going back.
        return None
    view = ctx.flow.echo_view(record)
    if view is None:
        return None
    return content_hash(view) == link.written_hash


def prepare_batch(ctx: FlowContext, records: list[Any]) -> Prepared:
    flow, run = ctx.flow, ctx.run
    source_links = links.links_resolve(
        brand_id=ctx.brand_id,
        kind=flow.kind,
        system=flow.source,
        ids=[flow.source_id_of(r) for r in records],
    )
    outcomes: list[Push | Wait | Skip] = []
    diverged: list[int] = []
    for record in records:
        link = source_links.get(flow.source_id_of(record))
        echo = _echo(ctx, record, link)
        if echo:
            run.echoes += 1
            outcomes.append(Skip(flow.source_id_of(record), "The console's own change."))
            continue
        if echo is False and link is not None:
            diverged.append(link.pk)
            flow.diverged(ctx, record, link)
        outcomes.append(_transform(ctx, record))
    links.links_forget_written(diverged)
    run.read += len(outcomes)
    previous = ctx.states(flow.code, [o.source_id for o in outcomes])
    states: list[RecordState] = []
    to_write: list[tuple[Push, str]] = []
    dropped: list[int] = []
    for outcome in outcomes:
        before = previous.get(outcome.source_id)
        link = source_links.get(outcome.source_id)
        if isinstance(outcome, Skip):
            run.unchanged += 1
            if (
                before is not None
                and before.status in (RecordStatus.WAITING, RecordStatus.FAILED)
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
                record_state(
                    ctx,
                    outcome.source_id,
                    RecordStatus.FAILED if outcome.failed else RecordStatus.WAITING,
                    previous=before,
                    match_key=outcome.match_key,
                    detail=outcome.reason,
                    source_updated=outcome.source_updated,
                    link_id=link.pk if link else None,
                )
            )
            if outcome.ticket is not None:
                _raise(ctx, outcome.ticket)
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
        outcome.entity = link.entity if link else ""
        to_write.append((outcome, digest))
    return Prepared(previous, states, to_write, source_links, dropped, read_at=ctx.read_at)


def _raise(ctx: FlowContext, spec: TicketSpec) -> None:
    ticket_raise(
        brand=ctx.brand_id,
        type_code=spec.type_code,
        title=spec.title,
        flow=ctx.flow.code,
        source_system=spec.source_system,
        source_id=spec.source_id,
        source_url=spec.source_url,
        snapshot=spec.snapshot,
        error_code=spec.error_code,
        error_message=spec.error_message,
        retry_of=ctx.retry_ticket(),
    )


# --- the target side ----------------------------------------------------------------------
def send_batch(ctx: FlowContext, prepared: Prepared) -> Sent | None:
    """Write the batch and record at once what the target acknowledged. Each record is
    claimed at its version first: one a newer read has overtaken is not sent."""
    if not prepared.to_write:
        return None
    prepared.to_write, stale = pushes_claim(ctx, prepared.to_write, prepared.read_at or ctx.now)
    sent = Sent(result=BatchResult(), stale=len(stale))
    try:
        _send(ctx, prepared, sent)
    finally:
        pushes_release(ctx, [push.source_id for push, _ in prepared.to_write])
    return sent


def _send(ctx: FlowContext, prepared: Prepared, sent: Sent) -> None:
    pushes = [push for push, _ in prepared.to_write]
    if not pushes:
        return
    flow = ctx.flow
    if flow.once:
        _send_once(ctx, prepared, sent)
        return
    pending: dict[str, links.Link] = {}
    if flow.creates:
        pushes, pending = creates_begin(ctx, pushes, sent)
        if not flow.updates:
            # Already in the target, and not updated there: nothing to send, nothing written.
            posted = [p for p in pushes if p.target_id and p.source_id not in pending]
            sent.result.ok.extend(p.source_id for p in posted)
            sent.untouched.update(p.source_id for p in posted)
            pushes = [p for p in pushes if p not in posted]
    if pushes:
        sent.result.merge(flow.write(ctx, pushes))
    if flow.creates:
        creates_end(ctx, pushes, pending, sent)
    acknowledge(ctx, prepared, sent.result, sent.untouched)


def _send_once(ctx: FlowContext, prepared: Prepared, sent: Sent) -> None:
    """One-off notifications go one vendor request at a time, each noted on its way before
    it goes and acknowledged the moment the vendor answers: a worker killed at any point
    leaves at most one request's worth whose outcome is unknown.

    What goes again with its outcome unknown is counted on the run before it goes, so a kill
    cannot lose the count: what a stopped worker left on its way in the statement that notes
    the request, and what the HTTP layer sends again after a lost answer as it does
    (FlowContext.connector)."""
    size = max(ctx.flow.request_size, 1)
    runs = SyncRun.objects.filter(pk=ctx.run.pk)
    for start in range(0, len(prepared.to_write), size):
        step = Prepared(
            previous=prepared.previous,
            states=[],
            to_write=prepared.to_write[start : start + size],
            links=prepared.links,
        )
        ids = [push.source_id for push, _ in step.to_write]
        again = len(ctx.unacknowledged.intersection(ids))
        runs.update(in_flight=ids, resent=F("resent") + again)
        result = ctx.flow.write(ctx, [push for push, _ in step.to_write])
        acknowledge(ctx, step, result)
        runs.update(in_flight=[])
        sent.result.merge(result)


def acknowledge(
    ctx: FlowContext, prepared: Prepared, result: BatchResult, untouched: set[str] = frozenset()
) -> None:
    """What the target took, recorded now: its state, and what was written to its link."""
    flow = ctx.flow
    ok = set(result.ok) | set(result.created)
    states: list[RecordState] = []
    written: list[links.Written] = []
    acknowledged: list[tuple[Push, str]] = []
    for push, digest in prepared.to_write:
        if push.source_id not in ok or push.source_id in result.failed:
            continue
        before = prepared.previous.get(push.source_id)
        link = prepared.links.get(push.source_id)
        summary = flow.state_of(push.payload)
        states.append(
            record_state(
                ctx,
                push.source_id,
                RecordStatus.SYNCED,
                previous=before,
                content=digest,
                target_id=push.target_id,
                last_pushed=summary,
                match_key=push.match_key,
                source_updated=push.source_updated,
                link_id=link.pk if link else None,
            )
        )
        if (
            push.target_id
            and push.source_id not in untouched
            and not (flow.creates and push.source_id in result.created)
        ):
            written.append(target_written(ctx, push, digest))
            acknowledged.append((push, digest))
        if push.also_state is not None:
            # The other record's own update time, when the flow gives it: a credit's
            # time on its order's state would make the order flow take its next read
            # of the order for an older one and skip it (a remapped status never sent).
            other_flow, other_id, other_key, *other_updated = push.also_state
            states.append(
                record_state(
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
    kind = flow.target_kind or flow.kind
    if ctx.target_read_back:
        links.links_written(brand_id=ctx.brand_id, kind=kind, system=flow.target, written=written)
    else:
        # Linked the first time it is sent; after that the record's state says the rest.
        links.links_ensure(
            brand_id=ctx.brand_id,
            kind=kind,
            system=flow.target,
            records=[
                (w.entity, w.external_id)
                for w, (push, _) in zip(written, acknowledged, strict=True)
                if _first_time(prepared.previous.get(push.source_id), push)
            ],
        )
    save_states(states)


def _first_time(before: RecordState | None, push: Push) -> bool:
    return (
        before is None or before.status != RecordStatus.SYNCED or before.target_id != push.target_id
    )


def finish_batch(
    ctx: FlowContext, prepared: Prepared, sent: Sent | None, open_tickets: set[str]
) -> None:
    """Record what the target refused or left unanswered, and close the tickets it settles."""
    flow, run = ctx.flow, ctx.run
    previous, states = prepared.previous, prepared.states
    if prepared.dropped:
        RecordState.objects.filter(pk__in=prepared.dropped).delete()
    synced_ids: list[str] = []
    if sent is not None:
        result = sent.result
        run.created += sent.created
        if sent.stale:
            run.stale += sent.stale
            run.unchanged += sent.stale
            ctx.log(
                f"{sent.stale} not sent: a newer read of them had gone to "
                f"{flow.target.title()} already (a webhook ahead of this run)."
            )
        if sent.found:
            ctx.log(
                f"{sent.found} found already in {flow.target.title()} by "
                f"{'their natural key' if flow.lookup_first else 'a look-up after a lost answer'}; "
                "not created again."
            )
        ok = set(result.ok) | set(result.created)
        for push, digest in prepared.to_write:
            before = previous.get(push.source_id)
            link = prepared.links.get(push.source_id)
            if push.source_id in sent.unknown:
                run.waiting += 1
                states.append(
                    record_state(
                        ctx,
                        push.source_id,
                        RecordStatus.WAITING,
                        previous=before,
                        match_key=push.match_key,
                        detail=f"Sent, no answer yet ({sent.unknown[push.source_id]}); "
                        f"the next run looks it up in {flow.target.title()} before creating it.",
                        source_updated=push.source_updated,
                        link_id=link.pk if link else None,
                    )
                )
                continue
            failure = result.failed.get(push.source_id)
            if failure is None and push.source_id not in ok:
                # Neither taken nor refused: never assume it arrived.
                failure = RecordError(
                    "no_outcome", f"{flow.target.title()} did not say whether it took this record."
                )
            if failure is not None:
                run.failed += 1
                states.append(
                    record_state(
                        ctx,
                        push.source_id,
                        RecordStatus.FAILED,
                        previous=before,
                        content=digest,
                        match_key=push.match_key,
                        detail=f"{failure.code}: {failure.message}",
                        source_updated=push.source_updated,
                        link_id=link.pk if link else None,
                    )
                )
                spec = flow.refusal(ctx, push, failure)
                if spec is not None:
                    _raise(ctx, spec)
                    continue
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
            synced_ids.append(push.source_id)
    save_states(states)
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

"""The Ometria pushes the flows remember (syncs/pushlog.py), and the records an error Ometria
lists later can be about.

An error names a field's path and nothing else (docs.ometria.com/docs/list-errors). The records
it can be about are those of the pushes made since the previous read (less the time Ometria may
take to check a record), of the kind of record that has that field. When several remain, those
whose value at that field was plainly wrong (an email that is not an address) are taken.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from connectors.ometria.readback import PushError, indexes, matchable
from syncs.models import OmetriaPush

if TYPE_CHECKING:
    from syncs.engine import FlowContext

# How long pushes are remembered: far longer than Ometria's check takes, short enough that the
# table stays small (one row per push of 100 records).
KEEP = timedelta(days=1)


def push_remembered(ctx: FlowContext, by_target: dict[str, str]) -> Callable[[dict], None]:
    """A hook for Ometria.on_push: remember each push as Ometria takes it."""

    def remember(push: dict[str, Any]) -> None:
        OmetriaPush.objects.create(
            brand_id=ctx.brand_id,
            flow=ctx.flow.code,
            record_type=push["type"],
            request_id=push["request_id"][:64],
            records=[[i, by_target.get(i, i)] for i in push["ids"]],
            paths=push["paths"],
            suspects=push["suspects"],
        )

    return remember


@dataclass(frozen=True)
class Candidate:
    flow: str
    record_type: str
    ometria_id: str
    source_id: str


@dataclass
class Match:
    """What one error (or several alike) can be about."""

    error: PushError
    count: int
    candidates: list[Candidate] = field(default_factory=list)
    # The candidates the error is about for certain (as many as the errors, or fewer).
    found: list[Candidate] = field(default_factory=list)
    # How they were found, for the ticket.
    how: str = ""


def recent_pushes(brand_id: int, since: datetime) -> list[OmetriaPush]:
    return list(OmetriaPush.objects.filter(brand_id=brand_id, pushed_at__gte=since))


def forget_old_pushes(brand_id: int) -> None:
    OmetriaPush.objects.filter(brand_id=brand_id, pushed_at__lt=timezone.now() - KEEP).delete()


def match(error: PushError, count: int, pushes: list[OmetriaPush]) -> Match:
    """The records `count` alike errors can be about, among `pushes`.

    The field narrows the kind of record: an error at "root > lineitems" is about one of the
    orders pushed, not the contacts. Within that kind any record can be the one (a value that
    is wrong, or one that is missing), unless the error is about as many records as there
    are, or only so many had a plainly wrong value there."""
    result = Match(error=error, count=count)
    path = matchable(error.path)
    kinds = {push.record_type for push in pushes if path in push.paths}
    pool, suspects = [], []
    for push in pushes:
        if kinds and push.record_type not in kinds:
            continue
        odd = set(indexes(push.suspects.get(path, []), len(push.records)))
        for n, (ometria_id, source_id) in enumerate(push.records):
            candidate = Candidate(push.flow, push.record_type, str(ometria_id), str(source_id))
            pool.append(candidate)
            if n in odd:
                suspects.append(candidate)
    result.candidates = _unique(pool)
    suspects = _unique(suspects)
    if 0 < len(result.candidates) <= count:
        result.found = result.candidates
        result.how = "the only record pushed in that time that it can be about"
    elif 0 < len(suspects) <= count:
        result.found = suspects
        result.how = "its value there is not a valid one"
    return result


def _unique(candidates: list[Candidate]) -> list[Candidate]:
    """One per record: a record pushed twice in the window is one candidate."""
    return list({(c.flow, c.source_id): c for c in candidates}.values())

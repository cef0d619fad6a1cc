"""The flow side of value maps: translate a value, hold back a record whose value has no
mapping, and keep one ticket per (brand, kind, value) listing every record that waits on it.

A flow's transform asks `ctx.mapped(kind, value)`; on None it returns `unmapped_wait(...)`.
The record then waits (RecordState WAITING, match_key `map:<kind>:<value>`) and is read
again on every run; after each run the engine calls `value_tickets_sync`, which raises the
value's ticket for the kind's team, and resolves it once the value is mapped or nothing
waits on it any more. Saving the mapping also queues the waiting records at once
(syncs.valuemaps.followup).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.template.defaultfilters import pluralize

from exceptions.models import OPEN_STATUSES, Ticket
from exceptions.services import ticket_raise, tickets_autoresolve
from syncs.flows.base import Wait
from syncs.flows.reading import id_order
from syncs.models import RecordState, RecordStatus, ValueMap
from syncs.valuemaps.registry import get_kind, kinds

if TYPE_CHECKING:
    from syncs.engine import FlowContext

TICKET_TYPE = "unmapped_value"
PREFIX = "map:"
# One ticket lists at most this many waiting records per flow (the count is always exact).
WAITING_LISTED = 500
# A ticket's record id has room for this many characters (Ticket.source_id).
TICKET_ID_MAX = 120


@dataclass(frozen=True)
class Mapped:
    """What a value maps to: the target, and the further parts of a two-part target."""

    value: str
    extra: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.value

    def __getitem__(self, name: str) -> str:
        return self.extra[name]


def source_value(kind: str, value: Any) -> str:
    """A value as the kind stores it (an id “25.0” is “25”)."""
    return get_kind(kind).source.clean(value)[0]


def value_key(kind: str, value: Any) -> str:
    """What a waiting record's match_key says it waits on."""
    return f"{PREFIX}{kind}:{source_value(kind, value)}"


def parse_value_key(key: str) -> tuple[str, str] | None:
    if not key.startswith(PREFIX):
        return None
    kind, sep, value = key[len(PREFIX) :].partition(":")
    return (kind, value) if sep else None


def value_ticket_id(kind: str, value: str) -> str:
    """The value's ticket's record id: its key, or the kind and a digest of a long value."""
    key = f"{PREFIX}{kind}:{value}"
    if len(key) <= TICKET_ID_MAX:
        return key
    return f"{PREFIX}{kind}:#{hashlib.sha256(value.encode()).hexdigest()[:24]}"


def lookup(ctx: FlowContext, kind: str, value: Any) -> Mapped | None:
    """The brand's mapping of this value, read once per run and kind (ctx.mapped)."""
    cached = ctx.cache.get(f"{PREFIX}{kind}")
    if cached is None:
        get_kind(kind)  # a kind that does not exist is a bug in the flow: say so loudly
        cached = {
            m.source_value: Mapped(m.target_value, dict(m.extra or {}))
            for m in ValueMap.objects.filter(brand_id=ctx.brand_id, kind=kind)
        }
        ctx.cache[f"{PREFIX}{kind}"] = cached
    return cached.get(source_value(kind, value))


def unmapped_wait(
    kind: str,
    value: Any,
    *,
    source_id: str,
    label: str = "",
    source_updated: datetime | None = None,
) -> Wait:
    """Hold a record back until `value` is mapped: it waits, with the value's ticket.
    `label` is the value's name in the source system, when it has one ("Klarna", "Fraud")."""
    declared = get_kind(kind)
    stored = source_value(kind, value)
    if not stored:
        # No value is not an unmapped value: no mapping could ever release it. Raised in a
        # transform, the engine holds the record as unreadable, with its own ticket.
        raise ValueError(f"The record has no {declared.source_label}.")
    named = f"“{label}” ({stored})" if label and label != stored else f"“{stored}”"
    return Wait(
        source_id=str(source_id),
        reason=(
            f"{declared.source_label[:1].upper()}{declared.source_label[1:]} {named} has no "
            f"mapping to a {declared.target_label} (value maps: {declared.label})."
        ),
        source_updated=source_updated,
        match_key=f"{PREFIX}{kind}:{stored}",
    )


def used(payload: dict, kind: str, value: Any) -> dict:
    """Note in a payload (under `_maps`, never sent nor hashed) which value of a kind it was
    translated from, so a preview can count the synced records that used it. A flow whose
    `state_of` keeps a summary keeps `_maps` in it."""
    payload.setdefault("_maps", {})[kind] = source_value(kind, value)
    return payload


@dataclass
class _Waiting:
    by_flow: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    label: str = ""

    @property
    def count(self) -> int:
        return sum(len(ids) for ids in self.by_flow.values())


def label_from_detail(detail: str) -> str:
    # detail reads: BigCommerce payment method “Klarna” has no mapping…, or “Name” (id).
    if "“" in detail and "”" in detail:
        return detail.split("“", 1)[1].split("”", 1)[0]
    return ""


def waiting_on_values(brand_id: int) -> dict[tuple[str, str], _Waiting]:
    """Every record waiting on an unmapped value, by (kind, value), any flow."""
    waiting: dict[tuple[str, str], _Waiting] = defaultdict(_Waiting)
    rows = RecordState.objects.filter(
        brand_id=brand_id, status=RecordStatus.WAITING, match_key__startswith=PREFIX
    ).values_list("flow", "source_id", "match_key", "detail")
    for flow, record_id, key, detail in rows.iterator(chunk_size=2000):
        parsed = parse_value_key(key)
        if parsed is None:
            continue
        entry = waiting[parsed]
        entry.by_flow[flow].append(record_id)
        entry.label = entry.label or label_from_detail(detail)
    return waiting


def value_tickets_sync(ctx: FlowContext) -> None:
    """After a run: one ticket per unmapped (kind, value) that records wait on, whatever
    flow they are in; a value mapped since, or that nothing waits on any more, has its
    ticket resolved. Cheap when nothing waits: one query."""
    brand_id = ctx.brand_id
    waiting = waiting_on_values(brand_id)
    declared = kinds()
    mapped = set()
    if waiting:
        mapped = set(
            ValueMap.objects.filter(
                brand_id=brand_id, kind__in={k for k, _ in waiting}
            ).values_list("kind", "source_value")
        )
    still: set[str] = set()
    for (kind_code, value), entry in sorted(waiting.items()):
        kind = declared.get(kind_code)
        if kind is None or (kind_code, value) in mapped:
            continue
        ticket_id = value_ticket_id(kind_code, value)
        still.add(ticket_id)
        flows = sorted(entry.by_flow, key=lambda f: (-len(entry.by_flow[f]), f))
        for ids in entry.by_flow.values():
            ids.sort(key=id_order)
        name = (
            f"“{entry.label}” ({value})" if entry.label and entry.label != value else f"“{value}”"
        )
        n = entry.count
        ticket_raise(
            brand=brand_id,
            type_code=TICKET_TYPE,
            title=f"{kind.source_label} {name} has no mapping ({kind.label}): "
            f"{n} record{pluralize(n)} waiting",
            flow=flows[0],
            source_system=kind.source_system,
            source_id=ticket_id,
            snapshot={
                "kind": kind_code,
                "kind_label": kind.label,
                "value": value,
                "value_label": entry.label,
                "waiting_count": n,
                "waiting": {f: entry.by_flow[f][:WAITING_LISTED] for f in flows},
            },
            error_message=f"{kind.source_label[:1].upper()}{kind.source_label[1:]} {name} is "
            f"not mapped to a {kind.target_label}. Map it on the Mappings page, tab "
            f"“{kind.label}”.",
            retry_of=ctx.retry_ticket(),
            team=kind.team,
        )
    stale: dict[str, list[str]] = defaultdict(list)
    for source_id, system in Ticket.objects.filter(
        brand_id=brand_id, type__code=TICKET_TYPE, status__in=OPEN_STATUSES
    ).values_list("source_id", "source_system"):
        if source_id not in still:
            stale[system].append(source_id)
    for system, source_ids in stale.items():
        tickets_autoresolve(
            brand=brand_id,
            source_system=system,
            source_ids=source_ids,
            type_codes=[TICKET_TYPE],
            note="The value is mapped now, and no record waits on it any more.",
        )

"""What saving value map changes would do, worked out before anything is saved: how many
waiting records each change releases (and through which flows), which tickets it resolves,
and how many records already synced used the value under its old mapping. Nothing here
writes, and nothing here calls a vendor."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from brands.models import Brand
from exceptions.models import OPEN_STATUSES, Ticket
from syncs.flows import REGISTRY, flow_label
from syncs.models import FlowConfig
from syncs.valuemaps.changes import ValueChange
from syncs.valuemaps.followup import waiting_by_flow
from syncs.valuemaps.quarantine import TICKET_TYPE, value_ticket_id
from syncs.valuemaps.registry import get_kind
from syncs.valuemaps.selectors import value_counts


@dataclass
class ValueRow:
    """One change and what it does."""

    label: str
    before: str
    after: str
    # Records that wait on the value and would be sent, by flow code.
    released: dict[str, int] = field(default_factory=dict)
    # Records already synced that were translated through the old mapping.
    synced_old: int = 0
    # A removal: records with this value wait from now on.
    stops: bool = False
    ticket: Ticket | None = None

    @property
    def released_count(self) -> int:
        return sum(self.released.values())


@dataclass
class FlowRelease:
    flow: str
    label: str
    records: int
    # Queued at once on saving (the flow is on); otherwise they go on its next run.
    now: bool


@dataclass
class ValuePreview:
    rows: list[ValueRow] = field(default_factory=list)
    flows: list[FlowRelease] = field(default_factory=list)

    @property
    def released(self) -> int:
        return sum(r.released_count for r in self.rows)

    @property
    def synced_old(self) -> int:
        return sum(r.synced_old for r in self.rows)

    @property
    def stops(self) -> int:
        return sum(1 for r in self.rows if r.stops)

    @property
    def tickets(self) -> list[Ticket]:
        return [r.ticket for r in self.rows if r.ticket is not None]


def value_map_preview(*, brand: Brand, changes: Sequence[ValueChange]) -> ValuePreview:
    """What saving `changes` (value maps, of one or more kinds) would do."""
    preview = ValuePreview()
    by_flow: dict[str, int] = defaultdict(int)
    for change in changes:
        kind = get_kind(change.kind)
        before = change.expected if isinstance(change.expected, dict) else None
        if before is None:
            saved = change.saved(brand)
            before = change.value_of(saved)
        row = ValueRow(
            label=change.label,
            before=kind.describe(before),
            after=kind.describe(change.after),
            stops=change.after is None and before is not None,
        )
        if change.after is not None:
            for flow, ids in waiting_by_flow(brand, change.kind, [change.key]).items():
                row.released[flow] = len(ids)
                by_flow[flow] += len(ids)
            row.ticket = Ticket.objects.filter(
                brand=brand,
                type__code=TICKET_TYPE,
                source_id=value_ticket_id(change.kind, change.key),
                status__in=OPEN_STATUSES,
            ).first()
        if before is not None and before != change.after:
            counts = value_counts(brand=brand, kind=kind, values=[change.key])
            row.synced_old = counts.synced.get(change.key, 0)
        preview.rows.append(row)
    enabled = set(
        FlowConfig.objects.filter(brand=brand, enabled=True, flow__in=list(by_flow)).values_list(
            "flow", flat=True
        )
    )
    preview.flows = [
        FlowRelease(flow, flow_label(flow), n, now=flow in REGISTRY and flow in enabled)
        for flow, n in sorted(by_flow.items())
    ]
    return preview

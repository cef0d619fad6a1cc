"""One entity's page: the record in each system, what each flow last sent for it and how
that went, the runs that could have carried it, its tickets, and the records it belongs
with (an order's customer, refunds and shipments).

A fixed number of queries whatever the entity holds: links, states, configs, runs (one
windowed query for every flow), tickets, and the related records (two).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.db.models import BooleanField, Case, F, Q, TextField, Value, When, Window
from django.db.models.functions import Cast, RowNumber

from brands.models import Brand
from exceptions.models import OPEN_STATUSES, Ticket
from syncs.flows import REGISTRY, flow_label
from syncs.models import RecordLink, RecordState, RecordStatus, SyncRun
from syncs.records import (
    STATUS_WORDS,
    Entity,
    SyncPlanItem,
    kind_label,
    links_by_keys,
    pushed_facts,
    pushed_headline,
    source_key,
    state_sentence,
    states_of_links,
    switched_off_reason,
    sync_plan,
    system_label,
)

RUNS_PER_FLOW = 5
TICKETS_SHOWN = 30
RELATED_PER_FLOW = 10


@dataclass
class LinkRow:
    """The record in one system. What the console last wrote there is on the link for a
    system something is read back from; for a push-only one (Ometria) it is the state of
    the flow that sent it, which `pushed` holds."""

    link: RecordLink
    pushed: RecordState | None = None

    @property
    def system(self) -> str:
        return system_label(self.link.system)

    @property
    def kind(self) -> str:
        return kind_label(self.link.kind)

    @property
    def written_at(self):
        return self.link.written_at or (self.pushed.synced_at if self.pushed else None)

    @property
    def written_by(self) -> str:
        flow = self.link.written_by or (self.pushed.flow if self.pushed else "")
        return flow_label(flow) if flow else ""

    @property
    def written(self) -> list[tuple[str, str]]:
        if self.link.written_at:
            return pushed_facts(self.link.written)
        return pushed_facts(self.pushed.last_pushed) if self.pushed else []


def _pushed_into(link: RecordLink, states: list[RecordState]) -> RecordState | None:
    """The latest state of a flow that sent this record into the link's system."""
    sent = [
        s
        for s in states
        if s.status == RecordStatus.SYNCED
        and s.target_id == link.external_id
        and (cls := REGISTRY.get(s.flow)) is not None
        and cls.target == link.system
    ]
    return max(sent, key=lambda s: s.synced_at or s.changed, default=None)


@dataclass
class FlowRow:
    """What one flow last did with this record."""

    flow: str
    source_id: str
    state: RecordState | None
    enabled: bool | None  # None: a flow that does not read it (its state hangs off the link)
    runs: list[SyncRun] = field(default_factory=list)

    @property
    def label(self) -> str:
        return flow_label(self.flow)

    @property
    def target(self) -> str:
        cls = REGISTRY.get(self.flow)
        return system_label(cls.target) if cls else "its target"

    @property
    def status_words(self) -> str:
        return STATUS_WORDS.get(self.state.status, "") if self.state else "Not read yet"

    @property
    def sentence(self) -> str:
        if self.state is None:
            return (
                "This flow has not read this record yet: it reads it when it changes, "
                "or when you press Sync now."
            )
        return state_sentence(self.state, self.target)

    @property
    def facts(self) -> list[tuple[str, str]]:
        return pushed_facts(self.state.last_pushed) if self.state else []

    @property
    def held(self) -> bool:
        return self.state is not None and self.state.status != RecordStatus.SYNCED


@dataclass
class Related:
    relation: str
    title: str
    entity: str  # "" when the console has no link for it
    status: str = ""
    headline: str = ""

    @property
    def status_words(self) -> str:
        return STATUS_WORDS.get(self.status, "")


@dataclass
class RecordPage:
    entity: Entity
    links: list[LinkRow]
    flows: list[FlowRow]
    tickets: list[Ticket]
    related: list[Related]
    plan: list[SyncPlanItem]
    off_reason: str

    @property
    def can_sync(self) -> bool:
        return not self.off_reason

    @property
    def will_sync(self) -> list[SyncPlanItem]:
        return [item for item in self.plan if item.enabled]

    @property
    def switched_off(self) -> list[SyncPlanItem]:
        return [item for item in self.plan if not item.enabled]


def record_page(*, brand: Brand, entity: str) -> RecordPage | None:
    """The page of one entity of this brand; None when the brand has no such entity."""
    links = list(RecordLink.objects.filter(brand=brand, entity=entity).order_by("pk"))
    if not links:
        return None
    found = Entity(brand, entity, links)
    pairs = states_of_links(links)
    found.states = [state for state, _ in pairs]
    plan = sync_plan(brand, links)
    flows = _flow_rows(found.states, plan)
    _attach_runs(brand, flows)
    return RecordPage(
        entity=found,
        links=[LinkRow(link, _pushed_into(link, found.states)) for link in links],
        flows=flows,
        tickets=_tickets(brand, links, found.states),
        related=_related(brand, links, found.states),
        plan=plan,
        off_reason=switched_off_reason(brand, plan),
    )


def _flow_rows(states: list[RecordState], plan: list[SyncPlanItem]) -> list[FlowRow]:
    by_source = {(s.flow, s.source_id): s for s in states}
    rows = []
    for item in plan:
        state = by_source.pop((item.flow, item.source_id), None)
        rows.append(FlowRow(item.flow, item.source_id, state, item.enabled))
    # States tied to a link by a flow that does not read it from there (kept, not hidden).
    rows += [FlowRow(s.flow, s.source_id, s, None) for s in by_source.values()]
    return rows


def _attach_runs(brand: Brand, rows: list[FlowRow]) -> None:
    """The latest runs of each flow that could have carried this record: the ones that
    read everything changed (no scope), and the ones asked for this very record."""
    if not rows:
        return
    cond = Q()
    for row in rows:
        # A scope is a JSON list of ids: '"1001"' in its text is 1001 itself, never 11001.
        cond |= Q(flow=row.flow) & (
            Q(scope=[]) | Q(scope_text__contains=json.dumps(str(row.source_id)))
        )
    runs = (
        SyncRun.objects.filter(brand=brand)
        .annotate(scope_text=Cast("scope", TextField()))
        .filter(cond)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("flow")],
                order_by=[F("queued_at").desc(), F("pk").desc()],
            )
        )
        .filter(rank__lte=RUNS_PER_FLOW)
        .defer("log")
        .order_by("flow", "-queued_at", "-pk")
    )
    by_flow: dict[str, list[SyncRun]] = {}
    for run in runs:
        by_flow.setdefault(run.flow, []).append(run)
    for row in rows:
        row.runs = by_flow.get(row.flow, [])


def _tickets(brand: Brand, links: list[RecordLink], states: list[RecordState]) -> list[Ticket]:
    """Tickets about these records, open first: each record's own (by system and id, from
    a flow that handles its kind), and those about what holds it back (the unmapped status
    an order waits on, the e-mail a contact shares)."""
    cond = Q()
    for link in links:
        if not link.external_id:
            continue
        # The flows that read this record, or write it: contact 1001 and order 1001 share
        # a Brightpearl id, and each has its own tickets.
        flows = [
            code
            for code, cls in REGISTRY.items()
            if (cls.source == link.system and cls.kind == link.kind)
            or (cls.target == link.system and (cls.target_kind or cls.kind) == link.kind)
        ]
        cond |= Q(source_system=link.system, source_id=link.external_id) & (
            Q(flow__in=flows) | Q(flow="")
        )
    for state in states:
        if "@" in state.match_key:
            cond |= Q(source_system="email", source_id=state.match_key, flow=state.flow)
        if state.status == RecordStatus.WAITING and state.match_key:
            cond |= Q(source_id=f"status:{state.match_key}", flow=state.flow)
    if not cond:
        return []
    return list(
        Ticket.objects.filter(brand=brand)
        .filter(cond)
        .select_related("type", "assignee")
        .defer("snapshot")
        .annotate(
            still_open=Case(
                When(status__in=OPEN_STATUSES, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by("-still_open", "-last_seen", "-pk")[:TICKETS_SHOWN]
    )


# --- related records -------------------------------------------------------------------------
@dataclass(frozen=True)
class Pointer:
    """A record state that names another record: the refund's order (its match key), the
    shipment's order and the order's customer (keys of what was sent)."""

    flow: str
    field: str  # "match_key", or a key of last_pushed
    kind: str  # what it names, in the flow's source system
    forward: str  # the named record, seen from the one whose state names it
    backward: str  # the naming record, seen from the named one

    def value(self, state: RecordState) -> str:
        if self.field == "match_key":
            return state.match_key
        return str((state.last_pushed or {}).get(self.field) or "")

    def lookup(self, value: str) -> Q:
        if self.field == "match_key":
            return Q(flow=self.flow, match_key=value)
        return Q(flow=self.flow, **{f"last_pushed__{self.field}": value})


POINTERS = (
    Pointer("refunds", "match_key", "order", "Its order", "A refund of this order"),
    Pointer("shipments", "order_id", "order", "Its order", "A shipment of this order"),
    Pointer("order_lifecycle", "contact", "contact", "Its customer", "An order of this customer"),
)


def _related(brand: Brand, links: list[RecordLink], states: list[RecordState]) -> list[Related]:
    pointers = [p for p in POINTERS if p.flow in REGISTRY]
    rows: list[tuple[str, tuple[int, str, str, str], RecordState | None]] = []
    # Forward: what this record's own states name.
    for state in states:
        for p in pointers:
            value = p.value(state) if p.flow == state.flow else ""
            if value:
                system = REGISTRY[p.flow].source
                rows.append((p.forward, (brand.pk, p.kind, system, value), None))
    # Backward: the states of other records that name this one (one query).
    cond = Q()
    for link in links:
        for p in pointers:
            if link.external_id and link.kind == p.kind and link.system == REGISTRY[p.flow].source:
                cond |= p.lookup(link.external_id)
    if cond:
        naming = (
            RecordState.objects.filter(brand=brand)
            .filter(cond)
            .annotate(
                rank=Window(
                    RowNumber(),
                    partition_by=[F("flow")],
                    order_by=[F("changed").desc(), F("pk").desc()],
                )
            )
            .filter(rank__lte=RELATED_PER_FLOW)
            .order_by("flow", "-changed", "-pk")
        )
        own = {(s.flow, s.source_id) for s in states}
        for state in naming:
            key = source_key(state)
            if key is None or (state.flow, state.source_id) in own:
                continue
            p = next(p for p in pointers if p.flow == state.flow)
            rows.append((p.backward, (brand.pk, *key), state))
    if not rows:
        return []
    found = links_by_keys(key for _, key, _ in rows)
    out, seen = [], set()
    for relation, key, state in rows:
        if (relation, key) in seen:
            continue
        seen.add((relation, key))
        link = found.get(key)
        out.append(
            Related(
                relation=relation,
                title=f"{kind_label(key[1])} {key[3]}",
                entity=link.entity if link else "",
                status=state.status if state else "",
                headline=pushed_headline(state.last_pushed) if state else "",
            )
        )
    return out

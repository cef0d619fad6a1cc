"""Records as people look for them: one entity's ids in every system, what the console last
sent for it, in words, and a sync of just that record.

An entity is the record links that share one `entity` key (syncs.links): one order, contact,
credit or shipment seen from each system. Everything here is scoped by brand (the tenant
wall) and costs a fixed number of queries, however many links, states, runs or tickets the
records have. The search is in syncs/record_search.py, the entity's page in
syncs/record_detail.py.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q

from brands.audit import audit
from brands.models import Brand, Membership
from connectors.registry import REGISTRY as VENDORS
from syncs.flows import REGISTRY, flow_label
from syncs.models import (
    FlowConfig,
    LifecycleStage,
    OmetriaOrderStatus,
    RecordLink,
    RecordState,
    RecordStatus,
    RunState,
    SyncRun,
    Trigger,
)
from syncs.services import flow_enqueue

# What each kind of record is called, alone and in a sentence.
KINDS = {
    "order": "Order",
    "contact": "Contact",
    "credit": "Sales credit",
    "shipment": "Shipment",
}
KIND_EXPLAINED = {
    "order": "a sales order",
    "contact": "a customer",
    "credit": "a refund (a sales credit)",
    "shipment": "a shipment (a goods-out note)",
}
# Worst first: an entity's status is its worst record's.
STATUS_RANK = {RecordStatus.FAILED: 0, RecordStatus.WAITING: 1, RecordStatus.SYNCED: 2}
STATUS_WORDS = {
    RecordStatus.SYNCED: "Synced",
    RecordStatus.WAITING: "Waiting",
    RecordStatus.FAILED: "Failed",
}


class RecordActionError(Exception):
    """Sync now cannot do what was asked, in words the person can act on."""


class RecordNotFound(RecordActionError):
    """The brand has no such record (or no longer)."""


# --- words -------------------------------------------------------------------------------
def system_label(system: str) -> str:
    vendor = VENDORS.get(system)
    return vendor.label if vendor else system.replace("_", " ").title()


def kind_label(kind: str) -> str:
    return KINDS.get(kind, "Record")


def _money(value: Any, currency: str = "") -> str:
    try:
        amount = f"{float(value):,.2f}"
    except (TypeError, ValueError):
        amount = str(value)
    return f"{amount} {currency}".strip()


def _compact(value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


def _attributes(properties: Any) -> str:
    if not isinstance(properties, dict) or not properties:
        return "none"
    return ", ".join(f"{k} = {_compact(v)}" for k, v in sorted(properties.items()))


def _credit_lines(lines: Any) -> str:
    if not isinstance(lines, dict) or not lines:
        return "none"
    return "; ".join(
        f"product {pid}: {line.get('quantity', '?')} for {_money(line.get('amount'))}"
        for pid, line in sorted(lines.items())
        if isinstance(line, dict)
    )


_STAGES = dict(LifecycleStage.choices)
_STATUSES = dict(OmetriaOrderStatus.choices)
# A flow's `state_of` summary, key by key: what it is called and how it reads. Keys no flow
# uses yet still show, under their own name.
_FACTS: dict[str, tuple[str, Any]] = {
    "email": ("E-mail", lambda v, s: _compact(v)),
    "contact": ("Customer (contact id)", lambda v, s: _compact(v)),
    "status": ("Order status", lambda v, s: _STATUSES.get(v, _compact(v))),
    "stage": ("Lifecycle stage", lambda v, s: _STAGES.get(v, _compact(v))),
    "valid": ("Counts as a sale", lambda v, s: _compact(v)),
    "total": ("Total", lambda v, s: _money(v, s.get("currency", ""))),
    "refunded": ("Refunded", lambda v, s: _money(v, s.get("currency", ""))),
    "credit_lines": ("Refunded products", lambda v, s: _credit_lines(v)),
    "properties": ("Attributes", lambda v, s: _attributes(v)),
    "order_id": ("Order", lambda v, s: _compact(v)),
    "sent": ("Sent as", lambda v, s: _compact(v)),
}
_SHOWN_WITH = {"currency"}  # shown inside another fact (the total's)


def pushed_facts(summary: dict | None) -> list[tuple[str, str]]:
    """What was sent (or written), as (label, value) pairs in words."""
    if not summary:
        return []
    facts = []
    # Known keys in one order whatever the database kept (PostgreSQL reorders JSON keys).
    known = list(_FACTS)
    for key in sorted(summary, key=lambda k: (known.index(k) if k in known else len(known), k)):
        value = summary[key]
        if key in _SHOWN_WITH:
            continue
        label, show = _FACTS.get(key, (key.replace("_", " ").capitalize(), None))
        facts.append((label, show(value, summary) if show else _compact(value)))
    return facts


def pushed_headline(summary: dict | None) -> str:
    """The two or three facts that tell one record from another in a list of results."""
    summary = summary or {}
    parts = []
    if summary.get("email"):
        parts.append(str(summary["email"]))
    if summary.get("total") is not None:
        parts.append(_money(summary["total"], summary.get("currency", "")))
    if summary.get("stage"):
        parts.append(_STAGES.get(summary["stage"], str(summary["stage"])))
    if summary.get("order_id"):
        parts.append(f"order {summary['order_id']}")
    return " · ".join(parts)


def state_sentence(state: RecordState, target: str) -> str:
    """Where a record stands with its target, in one sentence."""
    if state.status == RecordStatus.SYNCED:
        return f"{target} has what the console last sent."
    if state.status == RecordStatus.WAITING:
        return f"Not sent yet: {state.detail or 'it waits for a fix.'}"
    return f"Not taken: {state.detail or 'the last send failed.'}"


# --- flows and records ---------------------------------------------------------------------
def reading_flows(kind: str, system: str) -> list[str]:
    """The flows that read records of this kind from this system (in the registry's order)."""
    return [code for code, cls in REGISTRY.items() if cls.source == system and cls.kind == kind]


def source_key(state: RecordState) -> tuple[str, str, str] | None:
    """The (kind, system, id) of the record a state is about; None for a flow gone since."""
    cls = REGISTRY.get(state.flow)
    return (cls.kind, cls.source, state.source_id) if cls else None


def links_by_keys(keys: Iterable[tuple[int, str, str, str]]) -> dict[tuple, RecordLink]:
    """Links by (brand id, kind, system, id), in one query."""
    groups: dict[tuple[int, str, str], set[str]] = defaultdict(set)
    for brand_id, kind, system, external_id in keys:
        if external_id:
            groups[(brand_id, kind, system)].add(external_id)
    if not groups:
        return {}
    cond = Q()
    for (brand_id, kind, system), ids in groups.items():
        cond |= Q(brand_id=brand_id, kind=kind, system=system, external_id__in=sorted(ids))
    return {
        (link.brand_id, link.kind, link.system, link.external_id): link
        for link in RecordLink.objects.filter(cond)
    }


@dataclass
class Entity:
    """One entity of one brand: its links (the record in each system) and record states."""

    brand: Brand
    key: str
    links: list[RecordLink] = field(default_factory=list)
    states: list[RecordState] = field(default_factory=list)

    @property
    def origin(self) -> RecordLink:
        """The record the console met first: it names the entity."""
        linked = [link for link in self.links if link.external_id]
        return (linked or self.links)[0]

    @property
    def kind(self) -> str:
        return self.origin.kind

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)

    @property
    def explained(self) -> str:
        return KIND_EXPLAINED.get(self.kind, "a record")

    @property
    def title(self) -> str:
        return f"{self.kind_label} {self.origin.external_id or '(being created)'}"

    @property
    def systems(self) -> list[str]:
        """“Brightpearl 10001”, “Ometria gon-50006”, “BigCommerce (being created)”."""
        out = []
        for link in self.links:
            kind = "" if link.kind == self.kind else f" {kind_label(link.kind).lower()}"
            ident = link.external_id or "(being created)"
            out.append(f"{system_label(link.system)}{kind} {ident}")
        return out

    @property
    def status(self) -> str:
        """The worst of its records' states ("" when no flow has read it)."""
        ranked = sorted(self.states, key=lambda s: STATUS_RANK.get(s.status, 9))
        return ranked[0].status if ranked else ""

    @property
    def status_words(self) -> str:
        return STATUS_WORDS.get(self.status, "Not read yet")

    @property
    def headline(self) -> str:
        for state in self.states:
            if state.last_pushed:
                return pushed_headline(state.last_pushed)
        return ""

    @property
    def held(self) -> RecordState | None:
        """The state that waits or failed, for its reason."""
        for state in self.states:
            if state.status != RecordStatus.SYNCED:
                return state
        return None


def entities_load(brands: dict[int, Brand], keys: Iterable[tuple[int, str]]) -> list[Entity]:
    """These entities (brand id, entity key) with their links and states, in two queries."""
    keys = set(keys)
    if not keys:
        return []
    links = RecordLink.objects.filter(
        brand_id__in={b for b, _ in keys}, entity__in={e for _, e in keys}
    ).order_by("pk")
    entities: dict[tuple[int, str], Entity] = {}
    for link in links:
        key = (link.brand_id, link.entity)
        if key in keys:
            entities.setdefault(key, Entity(brands[link.brand_id], link.entity)).links.append(link)
    all_links = [link for e in entities.values() for link in e.links]
    for state, link in states_of_links(all_links):
        entities[(link.brand_id, link.entity)].states.append(state)
    return list(entities.values())


def states_of_links(links: list[RecordLink]) -> list[tuple[RecordState, RecordLink]]:
    """The record states of these source records, each with its link, in one query: by the
    flows that read each record, and its id (the index every state is kept by)."""
    by_source: dict[tuple[int, str, str], RecordLink] = {}
    for link in links:
        if link.external_id:
            for code in reading_flows(link.kind, link.system):
                by_source[(link.brand_id, code, link.external_id)] = link
    if not by_source:
        return []
    rows = RecordState.objects.filter(
        brand_id__in={brand for brand, _, _ in by_source},
        flow__in={code for _, code, _ in by_source},
        source_id__in={sid for _, _, sid in by_source},
    )
    order = list(REGISTRY)
    found = []
    for state in sorted(rows, key=lambda s: order.index(s.flow) if s.flow in order else 99):
        link = by_source.get((state.brand_id, state.flow, state.source_id))
        if link is not None:
            found.append((state, link))
    return found


# --- Sync now --------------------------------------------------------------------------------
@dataclass
class SyncPlanItem:
    """One flow that reads this record from its system, and whether it may run now."""

    flow: str
    source_id: str
    source: str
    enabled: bool

    @property
    def label(self) -> str:
        return flow_label(self.flow)


def sync_plan(brand: Brand, links: list[RecordLink]) -> list[SyncPlanItem]:
    """Each flow that reads one of these records, with the record's id there (one query)."""
    wanted = [
        (code, link)
        for link in links
        if link.external_id
        for code in reading_flows(link.kind, link.system)
    ]
    if not wanted:
        return []
    enabled = set(
        FlowConfig.objects.filter(
            brand=brand, flow__in={code for code, _ in wanted}, enabled=True
        ).values_list("flow", flat=True)
    )
    return [
        SyncPlanItem(
            flow=code,
            source_id=link.external_id,
            source=link.system,
            enabled=brand.active and code in enabled,
        )
        for code, link in wanted
    ]


def switched_off_reason(brand: Brand, plan: list[SyncPlanItem]) -> str:
    """Why Sync now has nothing to queue, or "" when it has."""
    if not plan:
        return (
            "No flow reads this record from its system, so there is nothing to sync; "
            "it changes when the records it belongs to are synced."
        )
    if not brand.active:
        return (
            f"{brand} is switched off, so none of its records sync. "
            "An agency admin can switch it on."
        )
    if not any(item.enabled for item in plan):
        names = ", ".join(item.label for item in plan)
        return (
            f"The flows that read this record are switched off for {brand}: {names}. "
            "An agency admin can switch them on; until then this record is not synced."
        )
    return ""


@dataclass
class Queued:
    item: SyncPlanItem
    run: SyncRun
    already: bool  # an identical sync was queued already: that run carries it


def record_sync_now(*, brand: Brand, entity: str, actor) -> list[Queued]:
    """Queue a run of each switched-on flow that reads this record, for this record alone.

    A sync of the same record by the same flow that is still queued is not queued twice
    (two presses of the button are one sync). Audited; refused in words when the person is
    not one of the brand's people or when the flows are switched off.
    """
    if not Membership.objects.filter(user_id=getattr(actor, "pk", None), brand=brand).exists():
        raise RecordActionError(
            f"Only the people of {brand} can sync its records; ask one of them or an agency admin."
        )
    links = list(RecordLink.objects.filter(brand=brand, entity=entity).order_by("pk"))
    if not links:
        raise RecordNotFound("The console holds no such record for this brand.")
    plan = sync_plan(brand, links)
    reason = switched_off_reason(brand, plan)
    if reason:
        raise RecordActionError(reason)
    queued: list[Queued] = []
    with transaction.atomic():
        for item in (i for i in plan if i.enabled):
            waiting = (
                SyncRun.objects.filter(
                    brand=brand, flow=item.flow, state=RunState.QUEUED, scope=[item.source_id]
                )
                .order_by("-pk")
                .first()
            )
            if waiting is not None:
                queued.append(Queued(item, waiting, already=True))
                continue
            run = flow_enqueue(
                brand_id=brand.pk, flow=item.flow, trigger=Trigger.MANUAL, scope=[item.source_id]
            )
            queued.append(Queued(item, run, already=False))
        origin = Entity(brand, entity, links).title
        audit(
            "record.sync_now",
            brand=brand,
            actor=actor,
            target=origin,
            summary="; ".join(
                f"{q.item.label}: run {q.run.pk}{' (already queued)' if q.already else ''}"
                for q in queued
            ),
            entity=entity,
            runs=[q.run.pk for q in queued],
            flows=[q.item.flow for q in queued],
        )
    return queued

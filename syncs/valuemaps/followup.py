"""What a saved value map unblocks: the records that waited on the value are queued, one
scoped run per flow that holds some, and the value's ticket is resolved with a note."""

from __future__ import annotations

from collections import defaultdict

from django.template.defaultfilters import pluralize

from brands.models import Brand
from exceptions.models import OPEN_STATUSES, Ticket
from exceptions.services import ticket_resolve
from syncs.flows import REGISTRY, flow_label
from syncs.flows.reading import id_order
from syncs.models import ChangeVia, FlowConfig, MappingChange, RecordState, RecordStatus, SyncRun
from syncs.valuemaps.quarantine import PREFIX, TICKET_TYPE, value_ticket_id
from syncs.valuemaps.registry import get_kind


def waiting_by_flow(brand: Brand, kind: str, values: list[str]) -> dict[str, list[str]]:
    """The records waiting on these values of a kind, by flow."""
    out: dict[str, list[str]] = defaultdict(list)
    rows = RecordState.objects.filter(
        brand=brand,
        status=RecordStatus.WAITING,
        match_key__in=[f"{PREFIX}{kind}:{v}" for v in values],
    ).values_list("flow", "source_id")
    for flow, source_id in rows:
        out[flow].append(source_id)
    return out


def value_followup(
    *, brand: Brand, entries: list[MappingChange], actor=None
) -> tuple[list[Ticket], list[SyncRun]]:
    from syncs.services import flow_enqueue

    mapped = [e for e in entries if e.after is not None]
    if not mapped:
        return [], []
    # Every waiting record of every entry, by flow: one run per flow for the whole save.
    scope: dict[str, set[str]] = defaultdict(set)
    per_entry: dict[int, dict[str, list[str]]] = {}
    for entry in mapped:
        found = waiting_by_flow(brand, entry.kind, [entry.key])
        per_entry[entry.pk] = found
        for flow, ids in found.items():
            scope[flow].update(ids)
    enabled = set(
        FlowConfig.objects.filter(brand=brand, enabled=True, flow__in=list(scope)).values_list(
            "flow", flat=True
        )
    )
    runs: dict[str, SyncRun] = {}
    for flow in sorted(scope):
        if flow in REGISTRY and flow in enabled:
            runs[flow] = flow_enqueue(
                brand_id=brand.pk,
                flow=flow,
                trigger="manual",
                scope=sorted(scope[flow], key=id_order),
            )
    by_ticket = {value_ticket_id(e.kind, e.key): e for e in mapped}
    tickets: list[Ticket] = []
    for ticket in Ticket.objects.filter(
        brand=brand, type__code=TICKET_TYPE, source_id__in=list(by_ticket), status__in=OPEN_STATUSES
    ):
        entry = by_ticket[ticket.source_id]
        kind = get_kind(entry.kind)
        found = per_entry[entry.pk]
        waiting = sum(len(ids) for ids in found.values())
        queued = [
            f"run {runs[flow].pk} ({flow_label(flow)})" for flow in sorted(found) if flow in runs
        ]
        later = [flow_label(flow) for flow in sorted(found) if flow not in runs]
        what = []
        if queued:
            what.append(
                f"The {waiting} waiting record{pluralize(waiting)} "
                f"{pluralize(waiting, 'is,are')} queued: " + ", ".join(queued) + "."
            )
        if later:
            what.append("Records of " + ", ".join(later) + " go when that flow next runs.")
        who = entry.actor.get_username() if entry.actor else "The console"
        ticket_resolve(
            ticket=ticket,
            actor=actor,
            note=f"{who} mapped {kind.source_label} “{entry.label}” to "
            f"{kind.describe(entry.after)} ({ChangeVia(entry.via).label.lower()}, mapping "
            f"change #{entry.pk}). " + " ".join(what),
        )
        entry.note = " ".join(
            p
            for p in (
                entry.note,
                f"Resolved ticket #{ticket.pk}: {waiting} record{pluralize(waiting)} "
                f"{pluralize(waiting, 'was,were')} waiting on this value.",
            )
            if p
        )
        entry.save(update_fields=["note"])
        tickets.append(ticket)
    return tickets, list(runs.values())

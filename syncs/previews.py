"""What a mapping change would do, worked out before it is saved. Nothing here writes.

An order status preview reads the orders the console knows in the changed statuses from
`RecordState` (what Ometria holds now: each order's `last_pushed` summary) and, for the
orders that wait on an unmapped status and so were never sent, their current version from
Brightpearl (their value and customer). It builds each order's new state with the flow's
own `order_payload`, so it predicts exactly what the run queued by the save will send.

An attribute preview reads the contacts the console has sent from Brightpearl and computes
their attributes with the customers flow's own `attributes()`, old mapping against new.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.template.defaultfilters import pluralize

from brands.models import Brand
from connectors.errors import ConnectorError
from connectors.http import chunks
from connectors.models import Connection
from connectors.registry import connector_live
from exceptions.models import OPEN_STATUSES, Ticket
from syncs.flows.ometria.customers import FLOW as CUSTOMERS_FLOW
from syncs.flows.ometria.customers import attributes, contact_tag_ids, uses_custom_fields
from syncs.flows.ometria.order_lifecycle import FLOW as ORDER_FLOW
from syncs.flows.ometria.order_lifecycle import (
    order_payload,
    order_status,
    order_summary,
    refunds_by_order,
)
from syncs.mappings import AttributeChange, StatusChange, brightpearl_tags
from syncs.models import (
    AttributeMapping,
    LifecycleStage,
    OmetriaOrderStatus,
    RecordState,
    RecordStatus,
    StatusMapping,
)

# The contacts an attribute preview reads from Brightpearl at most (200 a request). Beyond
# it, the preview covers the most recently changed ones and says so; the save still
# queues a run over every contact.
CONTACT_PREVIEW_LIMIT = 5000
# Waiting orders read from Brightpearl for their value, at most.
WAITING_PREVIEW_LIMIT = 5000


def _stage_label(value: str) -> str:
    return dict(LifecycleStage.choices).get(value, value)


def _status_label(value: str) -> str:
    return dict(OmetriaOrderStatus.choices).get(value, value)


def order_state(summary: dict | None) -> dict | None:
    """The part of an order's Ometria state a status mapping decides."""
    if not summary:
        return None
    return {"status": summary["status"], "stage": summary["stage"], "valid": summary["valid"]}


def state_words(state: dict | None) -> str:
    if state is None:
        return "Not in Ometria yet"
    words = f"{_status_label(state['status'])} · {_stage_label(state['stage'])}"
    return words if state["valid"] else f"{words} (not valid: no revenue)"


@dataclass
class Move:
    """Orders going from one Ometria state to another (before None: sent for the first time;
    after None: they would wait, unsent, with a ticket)."""

    before: dict | None
    after: dict | None
    orders: int = 0
    contacts: set[str] = field(default_factory=set)
    revenue: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    @property
    def before_words(self) -> str:
        return state_words(self.before)

    @property
    def after_words(self) -> str:
        return (
            "Waits, not sent (Ometria keeps its last state)"
            if self.after is None
            else state_words(self.after)
        )

    @property
    def revenue_items(self) -> list[tuple[str, Decimal]]:
        return sorted(self.revenue.items())


@dataclass
class Preview:
    """What saving these status changes would do to the orders the console knows."""

    changes: list[StatusChange]
    moves: list[Move] = field(default_factory=list)
    # order id → the state Ometria will hold after the run ({status, stage, valid}).
    predicted: dict[str, dict] = field(default_factory=dict)
    # order id → (value, currency, contact) of each order in `predicted`.
    facts: dict[str, tuple[Decimal, str, str]] = field(default_factory=dict)
    first_time: int = 0
    will_wait: int = 0
    unchanged: int = 0
    # Waiting orders that Brightpearl no longer has, or that moved to a status still unmapped.
    still_waiting: int = 0
    value_unknown: int = 0
    tickets: list[Ticket] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def orders(self) -> int:
        return len(self.predicted)

    @property
    def contacts(self) -> int:
        return len({contact for _, _, contact in self.facts.values() if contact})

    @property
    def revenue(self) -> list[tuple[str, Decimal]]:
        out: dict[str, Decimal] = defaultdict(Decimal)
        for value, currency, _ in self.facts.values():
            out[currency] += value
        return sorted(out.items())

    @property
    def counted_revenue(self) -> list[tuple[str, Decimal]]:
        """How Ometria's counted revenue moves: an order leaving `valid` takes its value out."""
        out: dict[str, Decimal] = defaultdict(Decimal)
        for move in self.moves:
            if move.after is None:
                continue
            was = bool(move.before and move.before["valid"])
            if was != move.after["valid"]:
                for currency, amount in move.revenue.items():
                    out[currency] += amount if move.after["valid"] else -amount
        return sorted((c, v) for c, v in out.items() if v)

    @property
    def revalidated(self) -> int:
        """Orders Ometria treats as cancelled (fraud, say) that would become sales again."""
        return sum(
            m.orders
            for m in self.moves
            if m.before is not None and not m.before["valid"] and m.after and m.after["valid"]
        )

    @property
    def changes_anything(self) -> bool:
        return bool(self.predicted or self.will_wait)


def target_state(mapping: StatusMapping) -> dict:
    """The state the flow sends for a status mapped this way (cancels included)."""
    stub = {"id": 0, "orderStatus": {"orderStatusId": mapping.bp_status_id, "name": ""}}
    return order_state(order_summary(order_payload(stub, mapping, {})))


def _refunds(brand: Brand, order_ids: list[str]) -> dict[str, dict[str, dict]]:
    """Refunded lines per order, exactly as the flow adds them. The flow's helper reads
    only its run context's brand id, so a stand-in carrying that id is enough here."""
    return refunds_by_order(brand.pk, order_ids)


def mapping_preview(*, brand: Brand, changes: Sequence[StatusChange]) -> Preview:
    """What saving `changes` would do, order by order, without writing anything."""
    preview = Preview(changes=list(changes))
    current = {m.bp_status_id: m for m in StatusMapping.objects.filter(brand=brand)}
    proposed: dict[int, StatusMapping | None] = {}
    for change in changes:
        after = change.after
        proposed[change.bp_status_id] = (
            None
            if after is None
            else StatusMapping(
                brand=brand,
                bp_status_id=change.bp_status_id,
                bp_status_name=change.bp_status_name,
                ometria_status=after["ometria_status"],
                lifecycle_stage=after["lifecycle_stage"],
            )
        )
    effective = {**current, **proposed}
    moves: dict[tuple, Move] = {}

    def move(before: dict | None, after: dict | None) -> Move:
        key = (tuple(sorted((before or {}).items())), tuple(sorted((after or {}).items())))
        if key not in moves:
            moves[key] = Move(before=before, after=after)
        return moves[key]

    def record(order_id: str, before, after, value: Decimal, currency: str, contact: str):
        m = move(before, after)
        m.orders += 1
        if contact:
            m.contacts.add(contact)
        m.revenue[currency] += value
        if after is not None:
            preview.predicted[order_id] = after
            preview.facts[order_id] = (value, currency, contact)

    unsent: list[str] = []
    rows = RecordState.objects.filter(
        brand=brand, flow=ORDER_FLOW, match_key__in=[c.key for c in changes]
    ).values_list("source_id", "status", "match_key", "last_pushed")
    for source_id, status, match_key, pushed in rows.iterator(chunk_size=2000):
        mapping = proposed.get(int(match_key)) if match_key.isdigit() else None
        before = order_state(pushed)
        if mapping is None:
            if status != RecordStatus.WAITING:
                preview.will_wait += 1
                record(
                    source_id,
                    before,
                    None,
                    Decimal(str(pushed.get("total", 0))),
                    pushed.get("currency", ""),
                    pushed.get("contact", ""),
                )
            continue
        if status == RecordStatus.WAITING or before is None:
            # Never sent with this status: its value and customer are in Brightpearl.
            unsent.append(source_id)
            continue
        after = target_state(mapping)
        if after == before:
            preview.unchanged += 1
            continue
        record(
            source_id,
            before,
            after,
            Decimal(str(pushed.get("total", 0))),
            pushed.get("currency", ""),
            pushed.get("contact", ""),
        )

    if unsent:
        _preview_unsent(brand, preview, unsent, effective, record)
    preview.moves = sorted(
        moves.values(), key=lambda m: (m.before is not None, m.after is None, -m.orders)
    )
    fixed = [f"status:{c.key}" for c in changes if c.after is not None]
    preview.tickets = list(
        Ticket.objects.filter(
            brand=brand,
            type__code="unmapped_status",
            source_id__in=fixed,
            status__in=OPEN_STATUSES,
        ).order_by("pk")
    )
    return preview


def _preview_unsent(brand, preview: Preview, ids: list[str], effective, record) -> None:
    """Orders that wait (never sent in this status): read them from Brightpearl to know what
    the run will send: their value and customer, or that they still wait."""
    pushed_before = dict(
        RecordState.objects.filter(brand=brand, flow=ORDER_FLOW, source_id__in=ids).values_list(
            "source_id", "last_pushed"
        )
    )
    readable = ids[:WAITING_PREVIEW_LIMIT]
    found: set[str] = set()
    try:
        connection = Connection.objects.get(brand=brand, system="brightpearl")
        # A person waits on the preview: no wait for a spent allowance, no retries.
        with connector_live(connection) as bp:
            for batch in chunks(readable, 200):
                orders = list(bp.orders(batch))
                refunds = _refunds(brand, [str(o["id"]) for o in orders])
                for order in orders:
                    order_id = str(order["id"])
                    found.add(order_id)
                    mapping = effective.get(order_status(order)[0])
                    if mapping is None:
                        preview.still_waiting += 1
                        continue
                    summary = order_summary(order_payload(order, mapping, refunds[order_id]))
                    before = order_state(pushed_before.get(order_id))
                    if before is None:
                        preview.first_time += 1
                    elif before == order_state(summary):
                        preview.unchanged += 1
                        continue
                    record(
                        order_id,
                        before,
                        order_state(summary),
                        Decimal(str(summary["total"])),
                        summary["currency"],
                        summary["contact"],
                    )
    except (ConnectorError, Connection.DoesNotExist) as exc:
        reason = exc.plain if isinstance(exc, ConnectorError) else "it is not connected"
        missing = [i for i in ids if i not in found]
        preview.warnings.append(
            f"Brightpearl could not be read ({reason}), so the value and customers of "
            f"{len(missing)} waiting order{pluralize(len(missing))} "
            f"{pluralize(len(missing), 'is,are')} not counted below; still sent."
        )
        preview.first_time += len(missing)
        preview.value_unknown += len(missing)
        return
    preview.still_waiting += len([i for i in readable if i not in found])
    if len(ids) > len(readable):
        rest = len(ids) - len(readable)
        preview.value_unknown += rest
        preview.first_time += rest
        preview.warnings.append(
            f"{rest} more waiting order{pluralize(rest)} {pluralize(rest, 'is,are')} sent too; "
            "the preview read only the first "
            f"{len(readable)} from Brightpearl."
        )


# --- attributes ------------------------------------------------------------------------------
@dataclass
class AttributeMove:
    attribute: str
    before: object
    after: object
    contacts: int = 0


MISSING = "(not sent)"


@dataclass
class AttributePreview:
    changes: list[AttributeChange]
    moves: list[AttributeMove] = field(default_factory=list)
    # contact id → the properties Ometria will hold after the run.
    predicted: dict[str, dict] = field(default_factory=dict)
    examined: int = 0
    known: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def contacts(self) -> int:
        return len(self.predicted)

    @property
    def complete(self) -> bool:
        return self.examined >= self.known and not self.warnings


def proposed_attribute_mappings(
    brand: Brand, changes: Sequence[AttributeChange]
) -> list[AttributeMapping]:
    """The brand's attribute mappings as they would be, in the flow's order."""
    mappings = {(m.source, m.source_name): m for m in AttributeMapping.objects.filter(brand=brand)}
    for change in changes:
        key = (change.source, change.source_name)
        if change.remove:
            mappings.pop(key, None)
        else:
            mappings[key] = AttributeMapping(
                brand=brand,
                source=change.source,
                source_name=change.source_name,
                ometria_attribute=change.ometria_attribute,
                value=change.value,
                absent_value=change.absent_value,
            )
    # The model's ordering, which the flow's query follows.
    return sorted(mappings.values(), key=lambda m: (m.ometria_attribute, m.source_name))


def attribute_mapping_preview(
    *, brand: Brand, changes: Sequence[AttributeChange]
) -> AttributePreview:
    """Which contacts' attributes in Ometria would change, from what to what. Reads the
    contacts the console has sent from Brightpearl; writes nothing."""
    preview = AttributePreview(changes=list(changes))
    new = proposed_attribute_mappings(brand, changes)
    synced = RecordState.objects.filter(
        brand=brand, flow=CUSTOMERS_FLOW, status=RecordStatus.SYNCED
    ).exclude(Q(last_pushed={}))
    preview.known = synced.count()
    rows = dict(
        synced.order_by("-source_updated", "-pk").values_list("source_id", "last_pushed")[
            :CONTACT_PREVIEW_LIMIT
        ]
    )
    if preview.known > len(rows):
        preview.warnings.append(
            f"The preview covers the {len(rows):,} most recently changed contacts of "
            f"{preview.known:,}; saving re-reads every contact."
        )
    moves: dict[tuple, AttributeMove] = {}
    try:
        tags = {tid: name.lower() for tid, name in brightpearl_tags(brand=brand).items()}
        connection = Connection.objects.get(brand=brand, system="brightpearl")
        # A person waits on the preview: no wait for a spent allowance, no retries.
        with connector_live(connection) as bp:
            for batch in chunks(list(rows), 200):
                for contact in bp.contacts(batch, custom_fields=uses_custom_fields(new)):
                    contact_id = str(contact["contactId"])
                    preview.examined += 1
                    names = {tags.get(t, "") for t in contact_tag_ids(contact)}
                    after = attributes(contact, names, new)
                    before = rows[contact_id].get("properties") or {}
                    if after == before:
                        continue
                    preview.predicted[contact_id] = after
                    for attribute in sorted({*before, *after}):
                        old = before.get(attribute, MISSING)
                        value = after.get(attribute, MISSING)
                        if old == value:
                            continue
                        key = (attribute, repr(old), repr(value))
                        moves.setdefault(key, AttributeMove(attribute, old, value)).contacts += 1
    except (ConnectorError, Connection.DoesNotExist) as exc:
        reason = exc.plain if isinstance(exc, ConnectorError) else "it is not connected"
        preview.warnings.append(
            f"Brightpearl could not be read ({reason}), so the contacts cannot be previewed. "
            "Saving still works: the next customers run applies the new mapping."
        )
    preview.moves = sorted(moves.values(), key=lambda m: (m.attribute, -m.contacts))
    return preview

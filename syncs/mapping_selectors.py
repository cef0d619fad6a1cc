"""Read-only queries behind the mappings pages. Nothing here changes a mapping."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count

from brands.models import Brand, Team, user_teams
from connectors.errors import ConnectorError
from connectors.models import Connection
from exceptions.models import OPEN_STATUSES, Ticket
from syncs.flows.ometria.order_lifecycle import FLOW as ORDER_FLOW
from syncs.mappings import brightpearl_statuses, brightpearl_tags
from syncs.models import (
    AttributeMapping,
    MappingChange,
    MappingKind,
    RecordState,
    RecordStatus,
    StatusMapping,
)

# Who may change a brand's mappings; every other member of the brand may look.
EDITOR_TEAMS = {Team.MARKETING, Team.ADMIN}
HISTORY_SHOWN = 50


def can_edit_mappings(user, brand: Brand) -> bool:
    return bool(user_teams(user, brand) & EDITOR_TEAMS)


@dataclass
class StatusRow:
    id: int
    name: str
    mapping: StatusMapping | None = None
    disabled: bool = False
    in_brightpearl: bool = True
    waiting: int = 0
    synced: int = 0
    ticket: Ticket | None = None
    # What the form shows: the saved values, or what the person chose before an error.
    ometria_status: str = ""
    lifecycle_stage: str = ""
    errors: list[str] = field(default_factory=list)
    changed: bool = False


@dataclass
class StatusTable:
    unmapped: list[StatusRow] = field(default_factory=list)
    mapped: list[StatusRow] = field(default_factory=list)
    gone: list[StatusRow] = field(default_factory=list)
    # Why Brightpearl's list is missing (empty when it answered).
    error: str = ""
    statuses: list[dict] | None = None

    @property
    def rows(self) -> list[StatusRow]:
        return [*self.unmapped, *self.mapped, *self.gone]

    def row(self, status_id: int) -> StatusRow | None:
        return next((r for r in self.rows if r.id == status_id), None)


def status_table(*, brand: Brand) -> StatusTable:
    """Every Brightpearl status of the brand beside its mapping, unmapped ones first (most
    orders waiting first). When Brightpearl cannot be reached, the saved mappings alone."""
    table = StatusTable()
    try:
        table.statuses = brightpearl_statuses(brand=brand)
    except Connection.DoesNotExist:
        table.error = (
            f"{brand.name} has no Brightpearl connection yet, so its statuses cannot be listed. "
            "An agency admin connects it (Onboarding, or the admin's Connections)."
        )
    except ConnectorError as exc:
        table.error = (
            f"Brightpearl could not be reached: {exc.plain} The saved mappings are shown "
            "below; statuses that are not mapped yet show again when Brightpearl answers."
        )
    mappings = {m.bp_status_id: m for m in StatusMapping.objects.filter(brand=brand)}
    counts: dict[tuple[str, str], int] = {
        (row["match_key"], row["status"]): row["n"]
        for row in RecordState.objects.filter(brand=brand, flow=ORDER_FLOW)
        .values("match_key", "status")
        .annotate(n=Count("id"))
    }
    tickets = {
        t.source_id: t
        for t in Ticket.objects.filter(
            brand=brand, type__code="unmapped_status", status__in=OPEN_STATUSES
        )
    }

    def make(status_id: int, name: str, **extra) -> StatusRow:
        mapping = mappings.get(status_id)
        key = str(status_id)
        return StatusRow(
            id=status_id,
            name=name,
            mapping=mapping,
            waiting=counts.get((key, RecordStatus.WAITING), 0),
            synced=counts.get((key, RecordStatus.SYNCED), 0),
            ticket=tickets.get(f"status:{key}"),
            ometria_status=mapping.ometria_status if mapping else "",
            lifecycle_stage=mapping.lifecycle_stage if mapping else "",
            **extra,
        )

    seen: set[int] = set()
    for status in table.statuses or []:
        seen.add(status["id"])
        row = make(status["id"], status["name"], disabled=status["disabled"])
        (table.mapped if row.mapping else table.unmapped).append(row)
    for status_id, mapping in sorted(mappings.items(), key=lambda i: i[1].bp_status_name.lower()):
        if status_id in seen:
            continue
        row = make(status_id, mapping.bp_status_name, in_brightpearl=table.statuses is None)
        (table.mapped if table.statuses is None else table.gone).append(row)
    # Statuses orders wait on that Brightpearl did not list (it could not be reached).
    if table.statuses is None:
        for key, state in list(counts):
            if state == RecordStatus.WAITING and key.isdigit() and int(key) not in mappings:
                ticket = tickets.get(f"status:{key}")
                name = (ticket.snapshot.get("status_name") if ticket else "") or f"Status {key}"
                table.unmapped.append(make(int(key), name, in_brightpearl=False))
    table.unmapped.sort(key=lambda r: (-r.waiting, r.name.lower()))
    return table


@dataclass
class AttributeRow:
    mapping: AttributeMapping
    ometria_attribute: str = ""
    value: str = ""
    absent_value: str = ""
    remove: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.mapping.source}:{self.mapping.source_name}"


@dataclass
class AttributeTable:
    rows: list[AttributeRow] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    error: str = ""
    contacts: int = 0


def attribute_table(*, brand: Brand) -> AttributeTable:
    table = AttributeTable(
        rows=[
            AttributeRow(
                mapping=m,
                ometria_attribute=m.ometria_attribute,
                value=m.value,
                absent_value=m.absent_value,
            )
            for m in AttributeMapping.objects.filter(brand=brand).order_by(
                "ometria_attribute", "source_name"
            )
        ]
    )
    try:
        table.tags = sorted(brightpearl_tags(brand=brand).values(), key=str.lower)
    except Connection.DoesNotExist:
        table.error = f"{brand.name} has no Brightpearl connection yet, so its tags are unknown."
    except ConnectorError as exc:
        table.error = (
            f"Brightpearl could not be reached: {exc.plain} The saved mappings are shown below."
        )
    table.contacts = RecordState.objects.filter(
        brand=brand, flow="customers", status=RecordStatus.SYNCED
    ).count()
    return table


def mapping_history(*, brand: Brand, kind: str) -> tuple[list[MappingChange], int]:
    qs = MappingChange.objects.filter(brand=brand, kind=kind)
    entries = list(
        qs.select_related("actor", "reverts").prefetch_related("reverted_by")[:HISTORY_SHOWN]
    )
    return entries, qs.count()


def waiting_by_brand(brands: list[Brand]) -> dict[int, tuple[int, int]]:
    """Per brand: (unmapped statuses with waiting orders, orders waiting on them)."""
    out: dict[int, tuple[int, int]] = {}
    rows = (
        RecordState.objects.filter(brand__in=brands, flow=ORDER_FLOW, status=RecordStatus.WAITING)
        .values("brand_id", "match_key")
        .annotate(n=Count("id"))
    )
    for row in rows:
        statuses, orders = out.get(row["brand_id"], (0, 0))
        out[row["brand_id"]] = (statuses + 1, orders + row["n"])
    return out


KIND_LABELS = dict(MappingKind.choices)

"""Read-only queries behind the mappings pages. Nothing here changes a mapping."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count

from brands.models import Brand, Team, user_teams
from connectors.errors import ConnectorError
from connectors.models import Connection
from exceptions.models import OPEN_STATUSES, Ticket
from syncs.flows.ometria.order_lifecycle import FLOW as ORDER_FLOW
from syncs.mapping_tables import Cell, Row, Section, Table
from syncs.models import (
    AttributeMapping,
    LifecycleStage,
    MappingChange,
    OmetriaOrderStatus,
    RecordState,
    RecordStatus,
    StatusMapping,
)
from syncs.status_mappings import status_value
from syncs.vendor_lists import brightpearl_statuses, brightpearl_tags, lists_age_note

# Who may change a brand's mappings; every other member of the brand may look.
EDITOR_TEAMS = {Team.MARKETING, Team.ADMIN}
HISTORY_SHOWN = 50


def can_edit_mappings(user, brand: Brand, kind: str = "") -> bool:
    """Marketing and admins change every mapping. A kind of value map can also be changed by
    the team its tickets go to (finance its payment methods, ecommerce its customer groups):
    the people who get the ticket can fix it."""
    from syncs.valuemaps.registry import get_kind, is_kind

    teams = user_teams(user, brand)
    if teams & EDITOR_TEAMS:
        return True
    return bool(kind and is_kind(kind) and get_kind(kind).team in teams)


def _status_cells(status_id: int, name: str, mapping: StatusMapping | None) -> list[Cell]:
    saved = (mapping.ometria_status, mapping.lifecycle_stage) if mapping else ("", "")
    return [
        Cell(
            part="ometria",
            name=f"s-{status_id}-ometria",
            label=f"Ometria order status for {name}",
            value=saved[0],
            saved=saved[0],
            choices=list(OmetriaOrderStatus.choices),
            display=mapping.get_ometria_status_display() if mapping else "",
        ),
        Cell(
            part="stage",
            name=f"s-{status_id}-stage",
            label=f"Lifecycle stage for {name}",
            value=saved[1],
            saved=saved[1],
            choices=list(LifecycleStage.choices),
            display=mapping.get_lifecycle_stage_display() if mapping else "",
        ),
    ]


def status_table(*, brand: Brand) -> Table:
    """Every Brightpearl status of the brand beside its mapping, unmapped ones first (most
    orders waiting first). When Brightpearl cannot be reached, the saved mappings alone."""
    statuses = None
    error = ""
    try:
        statuses = brightpearl_statuses(brand=brand)
    except Connection.DoesNotExist:
        error = (
            f"{brand.name} has no Brightpearl connection yet, so its statuses cannot be listed. "
            "An agency admin connects it (Onboarding, or the admin's Connections)."
        )
    except ConnectorError as exc:
        error = (
            f"Brightpearl could not be reached: {exc.plain} The saved mappings are shown "
            "below; statuses that are not mapped yet show again when Brightpearl answers."
        )
    unmapped = Section(
        "unmapped",
        "Statuses that need a mapping",
        "Orders in these statuses are not sent to Ometria. Choose an Ometria order status and "
        "a lifecycle stage for each; the preview then shows which orders would be sent.",
        empty="Every status is mapped.",
    )
    mapped = Section(
        "mapped",
        "Mapped statuses",
        "Changing one moves the orders already in Ometria to the new stage on the next run; "
        "the preview shows how many, and how much revenue.",
        empty="No status is mapped yet.",
    )
    gone = Section(
        "gone",
        "Mapped, but no longer in Brightpearl",
        "Brightpearl does not list these statuses any more. Their mappings do no harm; set "
        "both choices to “not mapped” to remove one.",
    )
    table = Table(
        note=lists_age_note(brand=brand),
        sections=[unmapped, mapped, gone],
        source_header="Brightpearl status",
        counts_header="Orders",
        headers=["Ometria order status", "Lifecycle stage"],
        synced_words="in Ometria",
        row_attribute="status",
        error=error,
        extra={"statuses": statuses},
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

    def make(status_id: int, name: str, notes: list[str]) -> Row:
        mapping = mappings.get(status_id)
        key = str(status_id)
        return Row(
            key=key,
            name=name,
            detail=f"(id {status_id})",
            notes=notes,
            cells=_status_cells(status_id, name, mapping),
            expected=status_value(mapping),
            waiting=counts.get((key, RecordStatus.WAITING), 0),
            synced=counts.get((key, RecordStatus.SYNCED), 0),
            ticket=tickets.get(f"status:{key}"),
        )

    unconfirmed = ["Not confirmed by Brightpearl"]
    seen: set[int] = set()
    for status in statuses or []:
        seen.add(status["id"])
        notes = ["Switched off in Brightpearl"] if status["disabled"] else []
        row = make(status["id"], status["name"], notes)
        (mapped if row.expected else unmapped).rows.append(row)
    for status_id, mapping in sorted(mappings.items(), key=lambda i: i[1].bp_status_name.lower()):
        if status_id in seen:
            continue
        row = make(status_id, mapping.bp_status_name, unconfirmed if statuses is None else [])
        (mapped if statuses is None else gone).rows.append(row)
    # Statuses orders wait on that Brightpearl did not list (it could not be reached).
    if statuses is None:
        for key, state in list(counts):
            if state == RecordStatus.WAITING and key.isdigit() and int(key) not in mappings:
                ticket = tickets.get(f"status:{key}")
                name = (ticket.snapshot.get("status_name") if ticket else "") or f"Status {key}"
                unmapped.rows.append(make(int(key), name, unconfirmed))
    unmapped.rows.sort(key=lambda r: (-r.waiting, r.name.lower()))
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
    note: str = ""
    contacts: int = 0


def attribute_table(*, brand: Brand) -> AttributeTable:
    table = AttributeTable(
        note=lists_age_note(brand=brand),
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
        ],
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


def values_waiting_by_brand(brands: list[Brand]) -> dict[int, tuple[int, int]]:
    """Per brand: (unmapped values of value maps that records wait on, those records)."""
    out: dict[int, tuple[int, int]] = {}
    rows = (
        RecordState.objects.filter(
            brand__in=brands, status=RecordStatus.WAITING, match_key__startswith="map:"
        )
        .values("brand_id", "match_key")
        .annotate(n=Count("id"))
    )
    for row in rows:
        values, records = out.get(row["brand_id"], (0, 0))
        out[row["brand_id"]] = (values + 1, records + row["n"])
    return out

"""Read-only queries behind a value map's tab: its table, and the counts beside each value."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Min
from django.db.models.fields.json import KT

from brands.models import Brand
from exceptions.models import OPEN_STATUSES, Ticket
from syncs.mapping_tables import Cell, Row, Section, Table, field_id
from syncs.models import RecordState, RecordStatus, ValueMap
from syncs.valuemaps.changes import known_values, value_of
from syncs.valuemaps.kinds import Known, Part, ValueKind, system_name
from syncs.valuemaps.quarantine import PREFIX, TICKET_TYPE, label_from_detail, value_ticket_id
from syncs.vendor_lists import lists_age_note


@dataclass
class Counts:
    """Per source value of one kind: records waiting on it, records synced with it."""

    waiting: dict[str, int] = field(default_factory=dict)
    synced: dict[str, int] = field(default_factory=dict)
    # The value's name in the source system, as the waiting records gave it.
    labels: dict[str, str] = field(default_factory=dict)


def value_counts(*, brand: Brand, kind: ValueKind, values: list[str] | None = None) -> Counts:
    counts = Counts()
    prefix = f"{PREFIX}{kind.code}:"
    waiting = RecordState.objects.filter(brand=brand, status=RecordStatus.WAITING)
    if values is None:
        waiting = waiting.filter(match_key__startswith=prefix)
    else:
        waiting = waiting.filter(match_key__in=[prefix + v for v in values])
    for row in waiting.values("match_key").annotate(n=Count("id"), detail=Min("detail")):
        value = row["match_key"][len(prefix) :]
        counts.waiting[value] = row["n"]
        counts.labels[value] = label_from_detail(row["detail"] or "")
    # Synced records say which value they were translated from (quarantine.used).
    synced = (
        RecordState.objects.filter(brand=brand, status=RecordStatus.SYNCED, flow__in=kind.flows)
        .annotate(used=KT(f"last_pushed___maps__{kind.code}"))
        .exclude(used=None)
    )
    if values is not None:
        # The JSON lookup, not the text annotation: on SQLite `used__in` compares JSON.
        synced = synced.filter(**{f"last_pushed___maps__{kind.code}__in": values})
    for row in synced.values("used").annotate(n=Count("id")):
        counts.synced[str(row["used"])] = row["n"]
    return counts


def _cell(part: Part, *, name: str, label: str, saved: str, listed, table: Table) -> Cell:
    """A select when the part's values are a fixed or a strict known list; a text field
    (with the known values as suggestions) otherwise."""
    choices = list(part.choices) or None
    if listed is not None and part.strict:
        choices = list(listed)
    names = dict(choices or listed or [])
    options = None
    if choices is not None:
        options = [
            (v, f"{n} ({v})" if n and n != v and part.whole_number else (n or v))
            for v, n in choices
        ]
        if saved and saved not in names:
            options.append((saved, f"{saved} (not in the list any more)"))
    suggestions = ""
    if choices is None and listed:
        suggestions = f"known-{part.name}"
        table.suggestions[suggestions] = list(listed)
    display = saved
    if saved and names.get(saved) and names[saved] != saved:
        display = f"{names[saved]} ({saved})"
    return Cell(
        part=part.name,
        name=name,
        label=label,
        value=saved,
        saved=saved,
        choices=options,
        blank="— not mapped —" if part.name == "value" else "— choose —",
        display=display,
        placeholder=part.example,
        suggestions=suggestions,
        max_length=part.max_length,
    )


def value_cells(
    kind: ValueKind, row_name: str, prefix: str, saved: dict | None, known: Known, table: Table
) -> list[Cell]:
    """The target, each further part and the note, for one row."""
    saved = saved or {}
    extra = saved.get("extra") or {}
    cells = [
        _cell(
            kind.target,
            name=f"{prefix}target",
            label=f"{kind.target.label[:1].upper()}{kind.target.label[1:]} for {row_name}",
            saved=str(saved.get("target", "")),
            listed=known.parts.get("target"),
            table=table,
        )
    ]
    cells[0].part = "target"
    for part in kind.extra:
        cells.append(
            _cell(
                part,
                name=f"{prefix}{part.name}",
                label=f"{part.label[:1].upper()}{part.label[1:]} for {row_name}",
                saved=str(extra.get(part.name, "")),
                listed=known.parts.get(part.name),
                table=table,
            )
        )
    cells.append(
        Cell(
            part="note",
            name=f"{prefix}note",
            label=f"Note for {row_name}",
            value=saved.get("note", ""),
            saved=saved.get("note", ""),
            display=saved.get("note", ""),
            placeholder="why (optional)",
            max_length=300,
        )
    )
    return cells


def value_table(*, brand: Brand, kind: ValueKind) -> Table:
    """The kind's values: those that need a mapping first (most records waiting first, then
    the values the source system lists that nothing maps yet), then the mapped ones, then
    mapped values the source system no longer lists."""
    known = known_values(brand=brand, kind=kind)
    source_name = system_name(kind.source_system)
    unmapped = Section(
        "unmapped",
        "Values that need a mapping",
        f"Records with these values are not sent: they wait, with a ticket for "
        f"{kind.team.replace('_', ' ')}. Map each; the preview then shows what would be sent.",
        empty="Nothing waits on a value with no mapping.",
    )
    mapped = Section(
        "mapped",
        "Mapped values",
        "A change applies to the records synced from now on; the preview shows how many "
        "records used the old mapping. Empty the target to remove a mapping.",
        empty="Nothing is mapped yet.",
    )
    gone = Section(
        "gone",
        f"Mapped, but no longer in {source_name}",
        f"{source_name} does not list these any more. Their mappings do no harm; empty the "
        "target to remove one.",
    )
    table = Table(
        sections=[unmapped, mapped, gone],
        source_header=f"{kind.source.label[:1].upper()}{kind.source.label[1:]}",
        counts_header=kind.noun[:1].upper() + kind.noun[1:],
        headers=[f"{p.label[:1].upper()}{p.label[1:]}" for p in kind.parts] + ["Note"],
        error=" ".join(known.errors),
        note=lists_age_note(brand=brand),
        extra={"known": known},
    )
    maps = {m.source_value: m for m in ValueMap.objects.filter(brand=brand, kind=kind.code)}
    counts = value_counts(brand=brand, kind=kind)
    tickets = {
        t.source_id: t
        for t in Ticket.objects.filter(
            brand=brand,
            type__code=TICKET_TYPE,
            status__in=OPEN_STATUSES,
            source_id__startswith=f"{PREFIX}{kind.code}:",
        )
    }
    listed = dict(known.source or [])

    def make(value: str, label: str, notes: list[str]) -> Row:
        mapping = maps.get(value)
        label = (mapping.source_label if mapping else "") or label or listed.get(value, "")
        name = label or value
        return Row(
            key=value,
            name=name,
            detail=f"({value})" if name != value else "",
            notes=notes,
            cells=value_cells(kind, name, f"v-{field_id(value)}-", value_of(mapping), known, table),
            expected=value_of(mapping),
            waiting=counts.waiting.get(value, 0),
            synced=counts.synced.get(value, 0),
            ticket=tickets.get(value_ticket_id(kind.code, value)),
        )

    for value in counts.waiting:
        if value not in maps:
            unmapped.rows.append(make(value, counts.labels.get(value, ""), []))
    strict_list = known.source is not None and kind.source.strict
    # A strict list is every value there is (each needs a mapping); any other list only
    # suggests what may be typed.
    for value, label in known.source if strict_list else []:
        if value not in maps and value not in counts.waiting:
            unmapped.rows.append(make(value, label, []))
    for value in sorted(maps, key=lambda v: (maps[v].source_label or v).lower()):
        if strict_list and value not in listed:
            gone.rows.append(make(value, "", []))
        else:
            mapped.rows.append(make(value, "", []))
    unmapped.rows.sort(key=lambda r: (-r.waiting, r.name.lower()))
    if not strict_list:
        table.new = Row(key="", name="", cells=new_cells(kind, known, table))
        table.new_help = (
            f"Type the {kind.source.label} exactly as {source_name} gives it, then what it "
            "maps to. The values records wait on have a row above already."
        )
    return table


def new_cells(kind: ValueKind, known: Known, table: Table) -> list[Cell]:
    """The empty row a value is typed into: the source value first, then the target."""
    source = _cell(
        kind.source,
        name="new-source",
        label=f"{kind.source.label[:1].upper()}{kind.source.label[1:]}",
        saved="",
        listed=known.source,
        table=table,
    )
    source.part = "source"
    source.choices = None  # typed: a listed value has its own row already
    cells = value_cells(kind, "", "new-", None, known, table)
    for cell in cells:
        # Beside each other under their own labels: “Nominal code”, not “… for …”.
        cell.label = cell.label.removesuffix(" for ")
    return [source, *cells]

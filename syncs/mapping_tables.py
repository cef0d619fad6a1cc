"""The editable table every mappings page shows (order statuses and each kind of value map):
rows of things to map, each with the cells a person fills in, its waiting and synced
counts and its ticket. One template (mappings/_editor_row.html) draws every kind."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from exceptions.models import Ticket


def field_id(value: str) -> str:
    """A short, stable name for a value in a form field's name and id (values may hold
    spaces and quotes; ids may not)."""
    return hashlib.sha256(value.encode()).hexdigest()[:12]


@dataclass
class Cell:
    """One input of a row: a select when it has choices, a text field otherwise."""

    # Which part of the mapping it holds ("ometria", "stage", "target", "note", an extra).
    part: str
    # The form field's name (and id): unique on the page.
    name: str
    # For screen readers and Playwright: “Ometria order status for Awaiting gift wrap”.
    label: str
    # What the field shows (what is saved, or what the person chose before an error).
    value: str = ""
    # What is saved ("" when nothing is).
    saved: str = ""
    choices: list[tuple[str, str]] | None = None
    # The first option of a select: what choosing nothing means.
    blank: str = "— not mapped —"
    # The saved value in words, for people who may only look.
    display: str = ""
    placeholder: str = ""
    # The id of a <datalist> of suggestions.
    suggestions: str = ""
    max_length: int = 120


@dataclass
class Row:
    key: str
    name: str
    detail: str = ""
    notes: list[str] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    # The saved mapping's value, as its change's `expected` (None: not mapped).
    expected: Any = None
    waiting: int = 0
    synced: int = 0
    ticket: Ticket | None = None
    errors: list[str] = field(default_factory=list)
    changed: bool = False

    def cell(self, part: str) -> Cell | None:
        return next((c for c in self.cells if c.part == part), None)

    def values(self) -> dict[str, str]:
        return {c.part: c.value for c in self.cells}

    def fill(self, values: dict[str, str]) -> None:
        for cell in self.cells:
            if cell.part in values:
                cell.value = values[cell.part]

    @property
    def differs(self) -> bool:
        return any(c.value != c.saved for c in self.cells)


@dataclass
class Section:
    id: str
    title: str
    intro: str = ""
    rows: list[Row] = field(default_factory=list)
    # Said when it has no rows; with none, an empty section is not shown at all.
    empty: str = ""


@dataclass
class Table:
    """A kind's rows in sections (to map, mapped, gone), and how to word them."""

    sections: list[Section] = field(default_factory=list)
    # The first column's header, the counts column's header, one header per cell.
    source_header: str = ""
    counts_header: str = "Records"
    headers: list[str] = field(default_factory=list)
    # After a synced count: “in Ometria”, “synced”.
    synced_words: str = "synced"
    # The data attribute naming each row (data-status="25", data-value="…").
    row_attribute: str = "value"
    # Why a vendor's list is missing, in words (the saved mappings still show).
    error: str = ""
    # How old the vendors' lists shown are, when they are being read again (vendor_lists).
    note: str = ""
    # The empty row a new value is typed into (kinds whose values are typed), or None.
    new: Row | None = None
    # What to type into it, in words.
    new_help: str = ""
    # <datalist> id → [(value, label)]: suggestions for typed values.
    suggestions: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    # Whatever the kind's editor needs again (the vendor lists it read).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> list[Row]:
        return [row for section in self.sections for row in section.rows]

    def row(self, key: str) -> Row | None:
        return next((r for r in self.rows if r.key == key), None)

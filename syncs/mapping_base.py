"""What every kind of mapping change shares: its errors, the "not checked" marker, and the
result of a save. The kinds live in status_mappings, attribute_mappings and
valuemaps.changes; syncs.mappings saves, records and reverts them all alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from exceptions.models import Ticket
from syncs.models import MappingChange, SyncRun


class MappingError(Exception):
    """A change that cannot be made, in words the person can act on. `errors` maps a row's key
    (a status id, an attribute mapping's "source:name", a value map's source value) to what
    is wrong with that row."""

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class _NotChecked:
    def __repr__(self) -> str:
        return "NOT_CHECKED"


# The value a person saw is unknown (an import, a command): no conflict check.
NOT_CHECKED: Any = _NotChecked()


def change_as_dict(change: Any, **fields: Any) -> dict:
    """A change as plain data (signed into a preview's Save button); `change_from_dict`
    reads it back. What the person saw goes too, when it is known."""
    out = {"kind": str(change.kind), **fields}
    if change.expected is not NOT_CHECKED:
        out["expected"] = change.expected
    return out


def user_or_none(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def count_errors(errors: dict[str, list[str]]) -> str:
    n = len(errors)
    return f"{n} row{'s' if n != 1 else ''} cannot be saved: nothing was changed."


@dataclass
class SaveResult:
    """What a save did: the history entries, the tickets it resolved, the runs it queued."""

    entries: list[MappingChange] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    runs: list[SyncRun] = field(default_factory=list)

    def summary(self) -> str:
        if not self.entries:
            return "Nothing changed: the mappings already say that."
        n = len(self.entries)
        parts = [f"{n} mapping{'s' if n != 1 else ''} saved."]
        for ticket in self.tickets:
            parts.append(f"Ticket #{ticket.pk} resolved.")
        for run in self.runs:
            count = len(run.scope)
            what = f"{count} {'record' if count == 1 else 'records'}" if count else "every record"
            parts.append(f"Run {run.pk} queued to sync {what} ({run.flow.replace('_', ' ')}).")
        return " ".join(parts)

"""A change to one value map, and its checks against the kind's declaration and the lists
its vendors keep. Saved, recorded and reverted through syncs.mappings, like the others."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from brands.models import Brand
from connectors.errors import ConnectorError
from connectors.models import Connection
from syncs.mapping_base import (
    NOT_CHECKED,
    MappingError,
    change_as_dict,
    count_errors,
    user_or_none,
)
from syncs.models import MappingChange, ValueMap
from syncs.valuemaps.kinds import Known, Part, ValueKind, system_name
from syncs.valuemaps.registry import get_kind


def value_of(mapping: ValueMap | None) -> dict | None:
    """A value map as the history keeps it (None: not mapped)."""
    if mapping is None:
        return None
    return {
        "target": mapping.target_value,
        "extra": dict(mapping.extra or {}),
        "note": mapping.note,
    }


@dataclass(frozen=True)
class ValueChange:
    """Map one source value of one kind to a target (and its further parts); an empty target
    and empty parts remove the mapping."""

    kind: str
    source_value: str
    source_label: str = ""
    target_value: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    note: str = ""
    expected: Any = NOT_CHECKED

    @property
    def value_kind(self) -> ValueKind:
        return get_kind(self.kind)

    @property
    def key(self) -> str:
        return self.source_value

    @property
    def label(self) -> str:
        if self.source_label and self.source_label != self.source_value:
            return f"{self.source_label} ({self.source_value})"
        return self.source_value

    @classmethod
    def from_instance(cls, mapping: ValueMap, *, remove: bool = False) -> ValueChange:
        if remove:
            return cls(
                kind=mapping.kind,
                source_value=mapping.source_value,
                source_label=mapping.source_label,
            )
        return cls(
            kind=mapping.kind,
            source_value=mapping.source_value,
            source_label=mapping.source_label,
            target_value=mapping.target_value,
            extra=dict(mapping.extra or {}),
            note=mapping.note,
        )

    @classmethod
    def from_dict(cls, data: dict) -> ValueChange:
        return cls(
            kind=str(data["kind"]),
            source_value=str(data["source"]),
            source_label=str(data.get("source_label", "")),
            target_value=str(data.get("target", "")),
            extra={str(k): str(v) for k, v in (data.get("extra") or {}).items()},
            note=str(data.get("note", "")),
            expected=data.get("expected", NOT_CHECKED),
        )

    @classmethod
    def revert_of(cls, entry: MappingChange) -> ValueChange:
        """The change that puts the value map back as it was before `entry`."""
        current = ValueMap.objects.filter(
            brand_id=entry.brand_id, kind=entry.kind, source_value=entry.key
        ).first()
        before = entry.before or {}
        return cls(
            kind=entry.kind,
            source_value=entry.key,
            source_label=current.source_label if current else "",
            target_value=before.get("target", ""),
            extra=dict(before.get("extra") or {}),
            note=before.get("note", ""),
            expected=value_of(current),
        )

    @staticmethod
    def lock(brand: Brand, changes: Sequence[ValueChange]) -> dict[tuple, ValueMap]:
        kinds = {c.kind for c in changes}
        values = [c.source_value for c in changes]
        return {
            ("value", m.kind, m.source_value): m
            for m in ValueMap.objects.select_for_update().filter(
                brand=brand, kind__in=kinds, source_value__in=values
            )
        }

    def saved(self, brand: Brand) -> ValueMap | None:
        return ValueMap.objects.filter(
            brand=brand, kind=self.kind, source_value=self.source_value
        ).first()

    @property
    def ident(self) -> tuple:
        return ("value", self.kind, self.source_value)

    @staticmethod
    def value_of(mapping: ValueMap | None) -> dict | None:
        return value_of(mapping)

    def describe(self, value: dict | None) -> str:
        return self.value_kind.describe(value)

    def history_label(self, current: ValueMap | None) -> str:
        if not self.source_label and current is not None and current.source_label:
            return ValueChange(self.kind, self.source_value, current.source_label).label
        return self.label

    def write(self, current: ValueMap | None, *, brand: Brand, actor) -> ValueMap:
        mapping = current or ValueMap(brand=brand, kind=self.kind, source_value=self.source_value)
        mapping.source_label = self.source_label or mapping.source_label
        mapping.target_value = self.target_value
        mapping.extra = {k: v for k, v in self.extra.items() if v}
        mapping.note = self.note
        mapping.updated_by = user_or_none(actor)
        mapping.save()
        return mapping

    @property
    def after(self) -> dict | None:
        extra = {k: v for k, v in self.extra.items() if v}
        if not self.target_value and not extra:
            return None
        return {"target": self.target_value, "extra": extra, "note": self.note}

    def as_dict(self) -> dict:
        return change_as_dict(
            self,
            source=self.source_value,
            source_label=self.source_label,
            target=self.target_value,
            extra=dict(self.extra),
            note=self.note,
        )


# --- what the vendors know --------------------------------------------------------------------
def _read(part: Part, brand: Brand, errors: list[str], system: str):
    if part.values is None:
        return None
    try:
        return [(str(v), str(label)) for v, label in part.values(brand)]
    except Connection.DoesNotExist:
        errors.append(
            f"{brand.name} has no {system_name(system)} connection, so the list to choose "
            f"the {part.label} from cannot be read."
        )
    except ConnectorError as exc:
        errors.append(
            f"{system_name(system)} could not be reached to read the list to choose the "
            f"{part.label} from: {exc.plain}"
        )
    return None


def known_values(*, brand: Brand, kind: ValueKind) -> Known:
    """The values each side's vendor lists for the brand (read live, kept ten minutes)."""
    known = Known()
    known.source = _read(kind.source, brand, known.errors, kind.source_system)
    known.parts["target"] = _read(kind.target, brand, known.errors, kind.target_system)
    for part in kind.extra:
        known.parts[part.name] = _read(part, brand, known.errors, kind.target_system)
    return known


# --- checks ----------------------------------------------------------------------------------
def value_problems(change: ValueChange, known: Known | None) -> dict[str, list[str]]:
    """What is wrong with one change, by the part it is about: "source", "target", or an
    extra part's name (so an import names the column)."""
    kind = change.value_kind
    problems: dict[str, list[str]] = {}

    def add(where: str, message: str) -> None:
        if message:
            problems.setdefault(where, []).append(message)

    source, problem = kind.source.clean(change.source_value)
    if not source:
        add("source", f"Give the {kind.source.label}.")
    add("source", problem)
    if change.after is None:
        return problems  # a removal needs nothing else
    if not problem and known is not None:
        add("source", kind.source.check_known(source, known.source))
    target, problem = kind.target.clean(change.target_value)
    if not target:
        add(
            "target",
            f"Give the {kind.target.label} it maps to (or leave every part empty "
            "to remove the mapping).",
        )
    add("target", problem)
    if target and not problem and known is not None:
        add("target", kind.target.check_known(target, known.parts.get("target")))
    for part in kind.extra:
        value, problem = part.clean(change.extra.get(part.name, ""))
        if not value:
            add(part.name, f"Give the {part.label} as well.")
        add(part.name, problem)
        if value and not problem and known is not None:
            add(part.name, part.check_known(value, known.parts.get(part.name)))
    unknown = set(change.extra) - {p.name for p in kind.extra}
    if unknown:
        add(
            "target",
            f"A {kind.label.lower()} mapping has no part called "
            + ", ".join(sorted(unknown))
            + ".",
        )
    if kind.check and target and not problems:
        add("target", kind.check(target, change.extra))
    if len(change.note) > 300:
        add("note", "The note is longer than 300 characters.")
    return problems


def value_change_cleaned(change: ValueChange) -> ValueChange:
    """The change with each part as stored (“25.0” is the id 25; spaces trimmed)."""
    kind = change.value_kind
    extra = {}
    for part in kind.extra:
        extra[part.name] = part.clean(change.extra.get(part.name, ""))[0]
    return ValueChange(
        kind=change.kind,
        source_value=kind.source.clean(change.source_value)[0],
        source_label=" ".join(change.source_label.split())[:200],
        target_value=kind.target.clean(change.target_value)[0],
        extra=extra,
        note=change.note.strip(),
        expected=change.expected,
    )


def value_changes_validate(*, changes: Sequence[ValueChange], known: Known | None) -> None:
    """Refuse, row by row, a value map its flows could not use. `known` holds the vendors'
    lists (None: do not check against them, as for a revert to what was there)."""
    errors: dict[str, list[str]] = {}
    for change in changes:
        found = [m for messages in value_problems(change, known).values() for m in messages]
        if found:
            errors.setdefault(change.key, []).extend(found)
    if errors:
        raise MappingError(count_errors(errors), errors)

"""Import and export of value maps (CSV and XLSX, in the admin), every kind in one file.

One resource serves every kind: a row names its brand and kind, the source value, what it
maps to, and a column per further part a kind declares (a payment method's nominal code);
the kind checks each value, and each problem is named under its column. As for the other
mappings, an import is all or nothing and lands in the history through the services.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict

from django.core.exceptions import ValidationError
from import_export import fields, widgets

from syncs.models import ValueMap
from syncs.resources import MappingResource, _choice, _column
from syncs.valuemaps.changes import (
    ValueChange,
    known_values,
    value_change_cleaned,
    value_problems,
)
from syncs.valuemaps.kinds import system_name
from syncs.valuemaps.registry import get_kind, kind_choices, kinds

SOURCE, TARGET = "source_value", "target_value"


class _Kinds:
    """The kinds as choices (code, label), read when needed: the registry is read lazily."""

    @property
    def choices(self) -> list[tuple[str, str]]:
        return kind_choices()


KINDS = _Kinds()


class ExtraPartField(fields.Field):
    """A further part of a target, kept in ValueMap.extra under its name."""

    def __init__(self, name: str, column_name: str) -> None:
        super().__init__(
            attribute=f"extra__{name}", column_name=column_name, widget=widgets.CharWidget()
        )
        self.part = name

    def save(self, instance, row, is_m2m=False, **kwargs):
        value = str(self.clean(row, **kwargs) or "").strip()
        extra = {k: v for k, v in (instance.extra or {}).items() if k != self.part}
        # A new dict: the import compares the row with a copy of what was saved.
        instance.extra = {**extra, self.part: value} if value else extra


def extra_parts() -> dict[str, str]:
    """Every further part any kind declares, by name, with its column's header."""
    parts: dict[str, str] = {}
    for kind in kinds().values():
        for part in kind.extra:
            parts.setdefault(part.name, part.label[:1].upper() + part.label[1:])
    return parts


def _part_attribute(part: str) -> str:
    """The attribute of the column a problem with this part is named under."""
    return {"source": SOURCE, "target": TARGET, "note": "note"}.get(part, f"extra__{part}")


class ValueMapResource(MappingResource):
    kind = _column("kind", "Kind")
    source_value = _column("source_value", "Source value")
    source_label = _column("source_label", "Source name")
    target_value = _column("target_value", "Target value")
    note = _column("note", "Note")
    older_headers = {"source_label": ("Source label",)}
    # Left out, a saved map keeps its name and note.
    optional_columns = ("source_label", "note")

    class Meta:
        model = ValueMap
        fields = ("brand", "kind", "source_value", "source_label", "target_value", "note")
        import_id_fields = ("brand", "kind", "source_value")
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        name = "Value maps"

    choice_columns = {"kind": (KINDS, "a kind of value map")}
    key_column = SOURCE

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # One column per further part any kind declares; the note last.
        note = self.fields.pop("note")
        for name, header in extra_parts().items():
            self.fields[f"extra_{name}"] = ExtraPartField(name, header)
        self.fields["note"] = note
        self.optional_columns = (*self.optional_columns, *(f"extra_{n}" for n in extra_parts()))

    def get_import_order(self):
        return tuple(self.fields)

    def get_export_order(self):
        return tuple(self.fields)

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        # "25.0" is status 25: the value as stored, so the row finds its saved map.
        kind = str(row.get(self.fields["kind"].column_name) or "")
        column = self.fields[SOURCE].column_name
        with contextlib.suppress(ValueError):
            cleaned, problem = get_kind(kind).source.clean(row.get(column))
            if cleaned and not problem:
                row[column] = cleaned

    def row_key(self, row: dict) -> tuple | None:
        brand, kind = self._cell(row, "brand").lower(), self._cell(row, "kind")
        value = self._cell(row, SOURCE)
        with contextlib.suppress(ValueError):
            kind = _choice(kind, KINDS, "")
            value = get_kind(kind).source.clean(value)[0] or value
        if not brand or not value:
            return None
        return brand, kind, value

    def row_description(self, row: dict) -> str:
        return (
            f"“{self._cell(row, SOURCE)}” ({self._cell(row, 'kind')}) of {self._cell(row, 'brand')}"
        )

    def check_instance(self, instance) -> None:
        kind = get_kind(instance.kind)
        given = dict(instance.extra or {})
        change = value_change_cleaned(ValueChange.from_instance(instance))
        instance.source_value, instance.target_value = change.source_value, change.target_value
        instance.extra = {k: v for k, v in change.extra.items() if v}
        instance.note, instance.source_label = change.note, change.source_label
        known = known_values(brand=instance.brand, kind=kind)
        errors: dict[str, list[str]] = defaultdict(list)
        if known.errors and any(p.values and p.strict for p in (kind.source, *kind.parts)):
            # The kind checks values against a vendor's list it could not read.
            system = system_name(kind.source_system)
            errors[SOURCE].append(f"{' '.join(known.errors)} Import again when {system} answers.")
        for part, messages in value_problems(change, known).items():
            errors[_part_attribute(part)].extend(messages)
        declared = {p.name for p in kind.extra}
        for name, value in given.items():
            if name not in declared and value and f"extra_{name}" in self.fields:
                header = self.fields[f"extra_{name}"].column_name.lower()
                errors[f"extra__{name}"].append(
                    f"A {kind.label.lower()} mapping has no {header}: leave this column empty "
                    "on its rows."
                )
        if errors:
            raise ValidationError(dict(errors))

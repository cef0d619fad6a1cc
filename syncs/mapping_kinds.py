"""The mappings pages, one Editor each: order statuses (Ometria status and lifecycle stage),
contact attributes (their own page), and every kind of value map (one editor serves them
all, from the kind's declaration)."""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse

from brands.models import Brand
from syncs.attribute_mappings import attribute_changes_validate
from syncs.mapping_base import SaveResult
from syncs.mapping_editor import Editor, TableEditor
from syncs.mapping_selectors import status_table
from syncs.mapping_tables import Row, Table
from syncs.mappings import (
    StatusChange,
    ValueChange,
    attribute_mapping_save,
    mapping_save,
    status_changes_validate,
    tags_or_none,
    value_changes_validate,
    value_map_save,
)
from syncs.models import MappingKind, StatusMapping
from syncs.previews import attribute_mapping_preview, mapping_preview
from syncs.valuemaps.changes import value_change_cleaned
from syncs.valuemaps.kinds import ValueKind, system_name
from syncs.valuemaps.preview import value_map_preview
from syncs.valuemaps.registry import get_kind, is_kind, kinds_for_brand
from syncs.valuemaps.selectors import value_table


class StatusEditor(TableEditor):
    kind = MappingKind.STATUS
    tab = "statuses"
    title = "Order statuses"
    preview_template = "mappings/status_preview.html"
    confirm_note = "Saving records the change in the history and queues a sync of these orders."
    nothing_to_preview = (
        "Nothing to preview: choose a different Ometria status or lifecycle stage for a "
        "status first."
    )
    row_nouns = "status,statuses"
    refresh_note = (
        "The statuses are read from the Brightpearl of the brand and kept for 10 minutes; this "
        "reads them again now."
    )

    def lead(self, brand: Brand) -> str:
        return (
            f"Every order of {brand.name} reaches Ometria with the Ometria order status and "
            "lifecycle stage of its Brightpearl status, as mapped here. A cancelled status (or "
            "one mapped to cancelled, such as fraud) is sent as cancelled and not valid. A "
            "status with no mapping is never guessed: its orders wait, unsent, with a ticket "
            "for marketing, until it is mapped."
        )

    def url(self, brand: Brand) -> str:
        return reverse("mappings:statuses", args=[brand.slug])

    def preview_url(self, brand: Brand) -> str:
        return reverse("mappings:status_preview", args=[brand.slug])

    def save_url(self, brand: Brand) -> str:
        return reverse("mappings:status_save", args=[brand.slug])

    def table(self, brand: Brand) -> Table:
        return status_table(brand=brand)

    def change_for(self, row: Row, *, new: bool = False) -> StatusChange:
        values = row.values()
        return StatusChange(
            bp_status_id=int(row.key),
            bp_status_name=row.name,
            ometria_status=values["ometria"],
            lifecycle_stage=values["stage"],
            expected=row.expected,
        )

    def values_of(self, change: StatusChange) -> dict[str, str]:
        return {"ometria": change.ometria_status, "stage": change.lifecycle_stage}

    def validate(self, *, brand: Brand, table: Table, changes: list) -> None:
        status_changes_validate(
            changes=changes,
            statuses=table.extra["statuses"],
            mapped=StatusMapping.objects.filter(brand=brand).values_list("bp_status_id", flat=True),
        )

    def preview(self, *, brand: Brand, changes: list):
        return mapping_preview(brand=brand, changes=changes)

    def save(self, *, brand: Brand, changes: list, actor) -> SaveResult:
        return mapping_save(brand=brand, changes=changes, actor=actor)


class AttributeEditor(Editor):
    """The contact attributes keep their own page (a tag's value and its absent value); the
    preview, the save, the history and the revert are every page's."""

    kind = MappingKind.ATTRIBUTE
    tab = "attributes"
    title = "Contact attributes"
    preview_template = "mappings/attribute_preview.html"
    confirm_note = (
        "Saving records the change in the history and queues a customers sync that sends "
        "only the contacts that change."
    )

    def url(self, brand: Brand) -> str:
        return reverse("mappings:attributes", args=[brand.slug])

    def save_url(self, brand: Brand) -> str:
        return reverse("mappings:attribute_save", args=[brand.slug])

    def validate(self, *, brand: Brand, changes: list) -> None:
        attribute_changes_validate(changes=changes, tags=tags_or_none(brand))

    def preview(self, *, brand: Brand, changes: list):
        return attribute_mapping_preview(brand=brand, changes=changes)

    def save(self, *, brand: Brand, changes: list, actor) -> SaveResult:
        return attribute_mapping_save(brand=brand, changes=changes, actor=actor)


class ValueEditor(TableEditor):
    """Any kind of value map, from its declaration (syncs/valuemaps/registry.py)."""

    preview_template = "mappings/value_preview.html"
    confirm_note = (
        "Saving records the change in the history, resolves the tickets it fixes and queues "
        "a sync of the records that waited."
    )

    def __init__(self, kind: ValueKind) -> None:
        self.value_kind = kind
        self.kind = kind.code
        self.tab = f"value:{kind.code}"
        self.title = kind.label
        self.nothing_to_preview = (
            f"Nothing to preview: choose or type a {kind.target.label} for a value first."
        )
        self.row_nouns = "value,values"
        # Only the systems whose lists the kind reads (none: nothing to refresh).
        listed = {kind.source_system} if kind.source.values else set()
        if any(p.values for p in kind.parts):
            listed.add(kind.target_system)
        self.refresh_from = " and ".join(sorted(system_name(s) for s in listed))
        self.refresh_note = (
            f"The lists are read from {self.refresh_from} and kept for 10 minutes; this reads "
            "them again now."
        )

    def lead(self, brand: Brand) -> str:
        return self.value_kind.description

    def _args(self, brand: Brand) -> list:
        return [brand.slug, self.kind]

    def url(self, brand: Brand) -> str:
        return reverse("mappings:values", args=self._args(brand))

    def preview_url(self, brand: Brand) -> str:
        return reverse("mappings:value_preview", args=self._args(brand))

    def save_url(self, brand: Brand) -> str:
        return reverse("mappings:value_save", args=self._args(brand))

    def table(self, brand: Brand) -> Table:
        return value_table(brand=brand, kind=self.value_kind)

    def change_for(self, row: Row, *, new: bool = False) -> ValueChange:
        values = row.values()
        return ValueChange(
            kind=self.kind,
            source_value=values["source"] if new else row.key,
            source_label="" if new else (row.name if row.name != row.key else ""),
            target_value=values.get("target", ""),
            extra={p.name: values.get(p.name, "") for p in self.value_kind.extra},
            note=values.get("note", ""),
            expected=None if new else row.expected,
        )

    def values_of(self, change: ValueChange) -> dict[str, str]:
        return {
            "source": change.source_value,
            "target": change.target_value,
            **{p.name: change.extra.get(p.name, "") for p in self.value_kind.extra},
            "note": change.note,
        }

    def clean(self, change: ValueChange) -> ValueChange:
        return value_change_cleaned(change)

    def validate(self, *, brand: Brand, table: Table, changes: list) -> None:
        value_changes_validate(changes=changes, known=table.extra["known"])

    def preview(self, *, brand: Brand, changes: list):
        return value_map_preview(brand=brand, changes=changes)

    def save(self, *, brand: Brand, changes: list, actor) -> SaveResult:
        return value_map_save(brand=brand, changes=changes, actor=actor)


STATUSES = StatusEditor()
ATTRIBUTES = AttributeEditor()


def value_editor(brand: Brand, code: str) -> ValueEditor:
    """The editor of a kind of value map the brand has (its two systems connected); a 404
    for any other, as for a brand the user does not belong to."""
    if not is_kind(code) or get_kind(code) not in kinds_for_brand(brand):
        raise Http404("No such mapping for this brand.")
    return ValueEditor(get_kind(code))


def editor_for(brand: Brand, kind: str) -> Editor:
    """The page that edits mappings of `kind` (a history entry's kind)."""
    if kind == MappingKind.STATUS:
        return STATUSES
    if kind == MappingKind.ATTRIBUTE:
        return ATTRIBUTES
    if is_kind(kind):
        # A revert of a kind whose connection has gone still has a page to go back to.
        return ValueEditor(get_kind(kind))
    raise Http404("No such mapping.")

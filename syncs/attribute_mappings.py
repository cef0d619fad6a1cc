"""Attribute mappings (a Brightpearl contact tag or field → an Ometria contact attribute):
the change, its checks, and what a saved change starts. Saved through syncs.mappings."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from brands.models import Brand
from exceptions.models import Ticket
from syncs.flows.ometria.customers import FLOW as CUSTOMERS_FLOW
from syncs.mapping_base import NOT_CHECKED, MappingError, change_as_dict, count_errors
from syncs.models import (
    AttributeMapping,
    AttributeSource,
    FlowConfig,
    MappingChange,
    MappingKind,
    SyncRun,
)

# A new brand's attribute mappings: loyalty tiers, VIP and the wholesale/retail split.
DEFAULT_ATTRIBUTES = [
    ("Loyalty: Gold", "loyalty_tier", "Gold", ""),
    ("Loyalty: Silver", "loyalty_tier", "Silver", ""),
    ("Loyalty: Bronze", "loyalty_tier", "Bronze", ""),
    ("VIP", "vip", "true", "false"),
    ("Wholesale", "customer_type", "wholesale", "retail"),
]

# An Ometria property name: what its API and segment builder accept without quoting.
ATTRIBUTE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,79}$")


def attribute_value(mapping: AttributeMapping | None) -> dict | None:
    if mapping is None:
        return None
    return {
        "ometria_attribute": mapping.ometria_attribute,
        "value": mapping.value,
        "absent_value": mapping.absent_value,
    }


def describe_attribute(value: dict | None) -> str:
    """“vip = true; when absent: “false””, or “not mapped”."""
    if value is None:
        return "not mapped"
    if value.get("value"):
        sent = f"“{value['value']}”"
    elif value.get("source") == AttributeSource.TAG:
        sent = "true"  # a tag has no value of its own: present is true
    else:
        sent = "the field's value in Brightpearl"
    absent = f"“{value['absent_value']}”" if value.get("absent_value") else "cleared"
    return f"{value['ometria_attribute']} = {sent}; when absent: {absent}"


def attribute_key(source: str, source_name: str) -> str:
    return f"{source}:{source_name}"


def attribute_label(source: str, source_name: str) -> str:
    return f"{dict(AttributeSource.choices).get(source, source)} “{source_name}”"


@dataclass(frozen=True)
class AttributeChange:
    """Add, edit or remove the mapping of one Brightpearl tag or field to an Ometria attribute."""

    source: str
    source_name: str
    ometria_attribute: str = ""
    value: str = ""
    absent_value: str = ""
    remove: bool = False
    expected: Any = NOT_CHECKED

    kind = MappingKind.ATTRIBUTE

    @property
    def key(self) -> str:
        return attribute_key(self.source, self.source_name)

    @property
    def label(self) -> str:
        return attribute_label(self.source, self.source_name)

    @classmethod
    def from_instance(cls, mapping: AttributeMapping, *, remove: bool = False) -> AttributeChange:
        """The change that makes the brand's mapping what this row says (or removes it)."""
        if remove:
            return cls(source=mapping.source, source_name=mapping.source_name, remove=True)
        return cls(
            source=mapping.source,
            source_name=mapping.source_name,
            ometria_attribute=mapping.ometria_attribute,
            value=mapping.value,
            absent_value=mapping.absent_value,
        )

    @classmethod
    def from_dict(cls, data: dict) -> AttributeChange:
        return cls(
            source=str(data["source"]),
            source_name=str(data["source_name"]),
            ometria_attribute=str(data.get("ometria_attribute", "")),
            value=str(data.get("value", "")),
            absent_value=str(data.get("absent_value", "")),
            remove=bool(data.get("remove")),
            expected=data.get("expected", NOT_CHECKED),
        )

    @classmethod
    def revert_of(cls, entry: MappingChange) -> AttributeChange:
        """The change that puts the mapping back as it was before `entry`."""
        source, _, source_name = entry.key.partition(":")
        current = AttributeMapping.objects.filter(
            brand_id=entry.brand_id, source=source, source_name=source_name
        ).first()
        target = entry.before
        return cls(
            source=source,
            source_name=source_name,
            ometria_attribute=(target or {}).get("ometria_attribute", ""),
            value=(target or {}).get("value", ""),
            absent_value=(target or {}).get("absent_value", ""),
            remove=target is None,
            expected=attribute_value(current),
        )

    @staticmethod
    def lock(brand: Brand, changes: Sequence[AttributeChange]) -> dict[tuple, AttributeMapping]:
        return {
            (MappingKind.ATTRIBUTE, m.source, m.source_name): m
            for m in AttributeMapping.objects.select_for_update().filter(brand=brand)
        }

    def saved(self, brand: Brand) -> AttributeMapping | None:
        return AttributeMapping.objects.filter(
            brand=brand, source=self.source, source_name=self.source_name
        ).first()

    @property
    def ident(self) -> tuple:
        return (self.kind, self.source, self.source_name)

    @staticmethod
    def value_of(mapping: AttributeMapping | None) -> dict | None:
        return attribute_value(mapping)

    @staticmethod
    def describe(value: dict | None) -> str:
        return describe_attribute(value)

    def history_label(self, current: AttributeMapping | None) -> str:
        return self.label

    def write(self, current: AttributeMapping | None, *, brand: Brand, actor) -> AttributeMapping:
        mapping = current or AttributeMapping(
            brand=brand, source=self.source, source_name=self.source_name
        )
        mapping.ometria_attribute = self.ometria_attribute
        mapping.value = self.value
        mapping.absent_value = self.absent_value
        mapping.save()
        return mapping

    @property
    def after(self) -> dict | None:
        if self.remove:
            return None
        return {
            "ometria_attribute": self.ometria_attribute,
            "value": self.value,
            "absent_value": self.absent_value,
        }

    def as_dict(self) -> dict:
        return change_as_dict(
            self,
            source=self.source,
            source_name=self.source_name,
            ometria_attribute=self.ometria_attribute,
            value=self.value,
            absent_value=self.absent_value,
            remove=self.remove,
        )


def attribute_changes_validate(
    *, changes: Sequence[AttributeChange], tags: dict[int, str] | None
) -> None:
    """Refuse, row by row, an attribute mapping the customers flow could not use."""
    errors: dict[str, list[str]] = {}
    tag_names = {n.lower() for n in tags.values()} if tags is not None else None
    for change in changes:
        row = errors.setdefault(change.key, [])
        if change.source not in AttributeSource.values:
            row.append(
                f"“{change.source}” is not a source. Choose one of: "
                + ", ".join(AttributeSource.values)
                + "."
            )
        if not change.source_name.strip():
            row.append("Name the Brightpearl tag or field.")
        elif len(change.source_name) > 120:
            row.append("The tag or field name is longer than 120 characters.")
        if change.remove:
            if not row:
                errors.pop(change.key)
            continue
        if not change.ometria_attribute:
            row.append("Name the Ometria attribute it fills, for example vip or loyalty_tier.")
        elif not ATTRIBUTE_NAME.match(change.ometria_attribute):
            row.append(
                f"“{change.ometria_attribute}” is not an attribute name Ometria takes: use "
                "letters, digits and underscores, starting with a letter (at most 80)."
            )
        if len(change.value) > 120 or len(change.absent_value) > 120:
            row.append("A value is longer than 120 characters.")
        if change.source != AttributeSource.TAG and change.value:
            row.append(
                "A field's value comes from Brightpearl: leave “value” empty (only a tag "
                "sends a fixed value)."
            )
        if (
            change.source == AttributeSource.TAG
            and tag_names is not None
            and change.source_name.strip()
            and change.source_name.lower() not in tag_names
        ):
            row.append(
                f"Brightpearl has no contact tag called “{change.source_name}”. Its tags: "
                + ", ".join(sorted(tags.values(), key=str.lower))
                + "."
            )
        if not row:
            errors.pop(change.key)
    if errors:
        raise MappingError(count_errors(errors), errors)


def attribute_followup(
    *, brand: Brand, entries: list[MappingChange], actor=None
) -> tuple[list[Ticket], list[SyncRun]]:
    """Any contact may carry the tag or field: one full customers run re-reads them all and
    sends only those whose attributes now differ (the content hash decides)."""
    from syncs.services import flow_enqueue

    if not FlowConfig.objects.filter(brand=brand, flow=CUSTOMERS_FLOW, enabled=True).exists():
        return [], []
    return [], [flow_enqueue(brand_id=brand.pk, flow=CUSTOMERS_FLOW, trigger="manual", full=True)]

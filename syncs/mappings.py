"""Services for a brand's mappings: the live status and tag lists, the agency's template, and
every change to a status or attribute mapping (saved, recorded in the history, audited, and
followed by what it unblocks: the unmapped-status ticket resolved, the orders queued).

Views, the admin (forms and imports), onboarding and commands all change mappings through
`mapping_save`, `attribute_mapping_save`, `mapping_revert` and (inside an import's
transaction) `mappings_apply`; nothing else writes them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.template.defaultfilters import pluralize
from django.utils import timezone

from brands.audit import audit
from brands.models import Brand
from connectors.models import Connection
from connectors.registry import connector_for
from exceptions.models import OPEN_STATUSES, Ticket
from exceptions.services import ticket_resolve
from syncs.flows.ometria.customers import FLOW as CUSTOMERS_FLOW
from syncs.flows.ometria.order_lifecycle import FLOW as ORDER_FLOW
from syncs.flows.ometria.refunds import FLOW as REFUNDS_FLOW
from syncs.models import (
    AttributeMapping,
    AttributeSource,
    ChangeVia,
    DefaultStatusMapping,
    FlowConfig,
    LifecycleStage,
    MappingChange,
    MappingKind,
    OmetriaOrderStatus,
    RecordState,
    RecordStatus,
    StatusMapping,
    SyncRun,
)

STATUS_CACHE_SECONDS = 600

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


class MappingError(Exception):
    """A change that cannot be made, in words the person can act on. `errors` maps a row's key
    (a status id, or an attribute mapping's "source:name") to what is wrong with that row."""

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


# --- the live lists, from the brand's Brightpearl ------------------------------------------
def brightpearl_statuses(*, brand: Brand, refresh: bool = False) -> list[dict]:
    """The brand's sales-order statuses, fetched live from its Brightpearl and cached."""
    key = f"bp-statuses:{brand.pk}"
    statuses = None if refresh else cache.get(key)
    if statuses is None:
        connection = Connection.objects.get(brand=brand, system="brightpearl")
        with connector_for(connection, priority=True) as bp:
            statuses = [
                {
                    "id": int(s["statusId"]),
                    "name": s["name"],
                    "sort": s.get("sortOrder", 0),
                    "disabled": bool(s.get("disabled")),
                }
                for s in bp.order_statuses()
                if s.get("orderTypeCode", "SO") == "SO"
            ]
        statuses.sort(key=lambda s: (s["sort"], s["name"].lower()))
        cache.set(key, statuses, STATUS_CACHE_SECONDS)
    return statuses


def brightpearl_tags(*, brand: Brand, refresh: bool = False) -> dict[int, str]:
    """The brand's contact tags (id → name), fetched live and cached like the statuses."""
    key = f"bp-tags:{brand.pk}"
    tags = None if refresh else cache.get(key)
    if tags is None:
        connection = Connection.objects.get(brand=brand, system="brightpearl")
        with connector_for(connection, priority=True) as bp:
            tags = bp.tags()
        cache.set(key, tags, STATUS_CACHE_SECONDS)
    return tags


# --- values and their words -------------------------------------------------------------
def status_value(mapping: StatusMapping | None) -> dict | None:
    if mapping is None:
        return None
    return {"ometria_status": mapping.ometria_status, "lifecycle_stage": mapping.lifecycle_stage}


def attribute_value(mapping: AttributeMapping | None) -> dict | None:
    if mapping is None:
        return None
    return {
        "ometria_attribute": mapping.ometria_attribute,
        "value": mapping.value,
        "absent_value": mapping.absent_value,
    }


def _label(choices, value: str) -> str:
    return dict(choices.choices).get(value, value)


def describe(kind: str, value: dict | None) -> str:
    """A mapping's value in words: “Pending · Processing”, “vip = true (else false)”."""
    if value is None:
        return "not mapped"
    if kind == MappingKind.STATUS:
        return (
            f"{_label(OmetriaOrderStatus, value['ometria_status'])} · "
            f"{_label(LifecycleStage, value['lifecycle_stage'])}"
        )
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
    return f"{_label(AttributeSource, source)} “{source_name}”"


# --- changes -------------------------------------------------------------------------------
class _NotChecked:
    def __repr__(self) -> str:
        return "NOT_CHECKED"


# The value a person saw is unknown (an import, a command): no conflict check.
NOT_CHECKED: Any = _NotChecked()


def _as_dict(change: StatusChange | AttributeChange, **fields: Any) -> dict:
    """A change as plain data (signed into a preview's Save button); `change_from_dict`
    reads it back. What the person saw goes too, when it is known."""
    out = {"kind": change.kind.value, **fields}
    if change.expected is not NOT_CHECKED:
        out["expected"] = change.expected
    return out


@dataclass(frozen=True)
class StatusChange:
    """Map one Brightpearl status to an Ometria status and stage; both empty removes it."""

    bp_status_id: int
    bp_status_name: str
    ometria_status: str = ""
    lifecycle_stage: str = ""
    # What the person saw when they made the change; saving refuses if it has moved since.
    expected: Any = NOT_CHECKED

    kind = MappingKind.STATUS

    @property
    def key(self) -> str:
        return str(self.bp_status_id)

    @property
    def label(self) -> str:
        return self.bp_status_name

    @classmethod
    def from_instance(cls, mapping: StatusMapping, *, remove: bool = False) -> StatusChange:
        """The change that makes the brand's mapping what this row says (or removes it)."""
        if remove:
            return cls(bp_status_id=mapping.bp_status_id, bp_status_name=mapping.bp_status_name)
        return cls(
            bp_status_id=int(mapping.bp_status_id),
            bp_status_name=mapping.bp_status_name,
            ometria_status=mapping.ometria_status,
            lifecycle_stage=mapping.lifecycle_stage,
        )

    def saved(self, brand: Brand) -> StatusMapping | None:
        return StatusMapping.objects.filter(brand=brand, bp_status_id=self.bp_status_id).first()

    @property
    def ident(self) -> tuple:
        """The saved mapping this change is about, unique across both kinds."""
        return (self.kind, self.bp_status_id)

    @staticmethod
    def value_of(mapping: StatusMapping | None) -> dict | None:
        return status_value(mapping)

    def history_label(self, current: StatusMapping | None) -> str:
        return self.bp_status_name or (current.bp_status_name if current else "")

    def write(self, current: StatusMapping | None, *, brand: Brand, actor) -> StatusMapping:
        mapping = current or StatusMapping(brand=brand, bp_status_id=self.bp_status_id)
        mapping.bp_status_name = self.bp_status_name or mapping.bp_status_name
        mapping.ometria_status = self.ometria_status
        mapping.lifecycle_stage = self.lifecycle_stage
        mapping.updated_by = _user(actor)
        mapping.save()
        return mapping

    @property
    def after(self) -> dict | None:
        if not self.ometria_status and not self.lifecycle_stage:
            return None
        return {"ometria_status": self.ometria_status, "lifecycle_stage": self.lifecycle_stage}

    def as_dict(self) -> dict:
        return _as_dict(
            self,
            id=self.bp_status_id,
            name=self.bp_status_name,
            ometria_status=self.ometria_status,
            lifecycle_stage=self.lifecycle_stage,
        )


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
        return _as_dict(
            self,
            source=self.source,
            source_name=self.source_name,
            ometria_attribute=self.ometria_attribute,
            value=self.value,
            absent_value=self.absent_value,
            remove=self.remove,
        )


Change = StatusChange | AttributeChange


def change_from_instance(
    mapping: StatusMapping | AttributeMapping, *, remove: bool = False
) -> Change:
    """A model row (an admin form's, an import's) as the change that makes it so."""
    if isinstance(mapping, AttributeMapping):
        return AttributeChange.from_instance(mapping, remove=remove)
    return StatusChange.from_instance(mapping, remove=remove)


def change_from_dict(data: dict) -> Change:
    """The inverse of `as_dict` (the preview page carries changes signed, in a hidden field)."""
    expected = data.get("expected", NOT_CHECKED)
    if data.get("kind") == MappingKind.ATTRIBUTE:
        return AttributeChange(
            source=str(data["source"]),
            source_name=str(data["source_name"]),
            ometria_attribute=str(data.get("ometria_attribute", "")),
            value=str(data.get("value", "")),
            absent_value=str(data.get("absent_value", "")),
            remove=bool(data.get("remove")),
            expected=expected,
        )
    return StatusChange(
        bp_status_id=int(data["id"]),
        bp_status_name=str(data["name"]),
        ometria_status=str(data.get("ometria_status", "")),
        lifecycle_stage=str(data.get("lifecycle_stage", "")),
        expected=expected,
    )


def status_changes_validate(
    *, changes: Sequence[StatusChange], statuses: list[dict] | None, mapped: Iterable[int] = ()
) -> None:
    """Refuse, row by row, what the flow could not use. `statuses` is the brand's list from
    Brightpearl (None when it could not be reached: then only saved mappings can change)."""
    errors: dict[str, list[str]] = {}
    known = {s["id"]: s["name"] for s in statuses} if statuses is not None else None
    mapped = set(mapped)
    for change in changes:
        row = errors.setdefault(change.key, [])
        name = change.bp_status_name or f"status {change.bp_status_id}"
        if change.ometria_status and change.ometria_status not in OmetriaOrderStatus.values:
            row.append(
                f"“{change.ometria_status}” is not an Ometria order status. Choose one of: "
                + ", ".join(OmetriaOrderStatus.values)
                + "."
            )
        if change.lifecycle_stage and change.lifecycle_stage not in LifecycleStage.values:
            row.append(
                f"“{change.lifecycle_stage}” is not a lifecycle stage. Choose one of: "
                + ", ".join(LifecycleStage.values)
                + "."
            )
        if bool(change.ometria_status) != bool(change.lifecycle_stage):
            missing = "a lifecycle stage" if change.ometria_status else "an Ometria order status"
            row.append(f"“{name}”: choose {missing} as well (or neither, to leave it unmapped).")
        if known is not None and change.bp_status_id not in known:
            if change.after is not None:
                row.append(
                    f"Brightpearl has no sales-order status with id {change.bp_status_id}. "
                    "Use the id of one of the brand's statuses (see the Mappings page)."
                )
        elif known is None and change.bp_status_id not in mapped and change.after is not None:
            row.append(
                f"Brightpearl could not be reached to confirm that status {change.bp_status_id} "
                "exists; try again when it answers."
            )
        if not row:
            errors.pop(change.key)
    if errors:
        raise MappingError(_count_errors(errors), errors)


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
        raise MappingError(_count_errors(errors), errors)


def _count_errors(errors: dict[str, list[str]]) -> str:
    n = len(errors)
    return f"{n} row{'s' if n != 1 else ''} cannot be saved: nothing was changed."


# --- saving --------------------------------------------------------------------------------
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


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _conflict(change: Change, current: dict | None, kind: str) -> str:
    return (
        f"“{change.label}” was changed by someone else since you looked: it is now "
        f"{describe(kind, current)}. Look at the page again and preview once more."
    )


def _locked_mappings(brand: Brand, changes: Sequence[Change]) -> dict[tuple, Any]:
    """The saved mappings these changes touch, locked until the transaction ends, by
    `Change.ident`."""
    existing: dict[tuple, Any] = {}
    ids = [c.bp_status_id for c in changes if isinstance(c, StatusChange)]
    if ids:
        for m in StatusMapping.objects.select_for_update().filter(
            brand=brand, bp_status_id__in=ids
        ):
            existing[(MappingKind.STATUS, m.bp_status_id)] = m
    if any(isinstance(c, AttributeChange) for c in changes):
        for m in AttributeMapping.objects.select_for_update().filter(brand=brand):
            existing[(MappingKind.ATTRIBUTE, m.source, m.source_name)] = m
    return existing


def mappings_apply(
    *,
    brand: Brand,
    changes: Sequence[Change],
    actor=None,
    via: str = ChangeVia.CONSOLE,
    note: str = "",
    reverts: MappingChange | None = None,
) -> list[MappingChange]:
    """Write status and attribute mappings and their history, nothing more. Call inside a
    transaction (the saves do; an import does, then runs `mapping_followup` once for all
    rows). A change whose mapping moved since the person looked (`expected`) stops them all.
    """
    existing = _locked_mappings(brand, changes)
    conflicts: dict[str, list[str]] = {}
    entries: list[MappingChange] = []
    for change in changes:
        current = existing.get(change.ident)
        before = change.value_of(current)
        if change.expected is not NOT_CHECKED and change.expected != before:
            conflicts[change.key] = [_conflict(change, before, change.kind)]
            continue
        after = change.after
        if before == after:
            continue
        if after is None:
            current.delete()
            existing.pop(change.ident, None)
        else:
            existing[change.ident] = change.write(current, brand=brand, actor=actor)
        entries.append(
            MappingChange.objects.create(
                brand=brand,
                kind=change.kind,
                key=change.key[:160],
                label=change.history_label(current)[:200],
                before=before,
                after=after,
                actor=_user(actor),
                via=via,
                note=note,
                reverts=reverts,
            )
        )
    if conflicts:
        raise MappingError(
            "Someone else changed these mappings since you looked: nothing was changed.",
            conflicts,
        )
    return entries


def _flow_enabled(brand: Brand, flow: str) -> bool:
    return FlowConfig.objects.filter(brand=brand, flow=flow, enabled=True).exists()


def audit_mapping_changes(brand: Brand, entries: list[MappingChange], actor, via: str) -> None:
    if not entries:
        return
    kind = entries[0].kind
    noun = "order status" if kind == MappingKind.STATUS else "attribute"
    audit(
        "mapping.changed",
        brand=brand,
        actor=actor,
        target=brand,
        summary=f"{len(entries)} {noun} mapping{pluralize(len(entries))} changed "
        f"({ChangeVia(via).label}): "
        + "; ".join(f"{e.label}: {describe(e.kind, e.after)}" for e in entries[:10]),
        changes=[e.pk for e in entries],
    )


def mapping_followup(
    *, brand: Brand, entries: list[MappingChange], actor=None
) -> tuple[list[Ticket], list[SyncRun]]:
    """What a saved change unblocks. For order statuses: the orders the console knows in
    those statuses are queued for a sync (waiting ones go for the first time, synced ones
    move to their new stage), with the refunds that waited on them, and each unmapped-status
    ticket the change fixes is resolved with a note. For attributes: one full customers run.
    """
    from syncs.services import flow_enqueue

    status_entries = [e for e in entries if e.kind == MappingKind.STATUS]
    attribute_entries = [e for e in entries if e.kind == MappingKind.ATTRIBUTE]
    tickets: list[Ticket] = []
    runs: list[SyncRun] = []
    order_run = None
    if status_entries:
        keys = sorted({e.key for e in status_entries})
        order_ids = sorted(
            RecordState.objects.filter(
                brand=brand, flow=ORDER_FLOW, match_key__in=keys
            ).values_list("source_id", flat=True),
            key=lambda i: (len(i), i),
        )
        if order_ids and _flow_enabled(brand, ORDER_FLOW):
            order_run = flow_enqueue(
                brand_id=brand.pk, flow=ORDER_FLOW, trigger="manual", scope=order_ids
            )
            runs.append(order_run)
            credit_ids = list(
                RecordState.objects.filter(
                    brand=brand,
                    flow=REFUNDS_FLOW,
                    status=RecordStatus.WAITING,
                    match_key__in=order_ids,
                ).values_list("source_id", flat=True)
            )
            if credit_ids and _flow_enabled(brand, REFUNDS_FLOW):
                runs.append(
                    flow_enqueue(
                        brand_id=brand.pk, flow=REFUNDS_FLOW, trigger="manual", scope=credit_ids
                    )
                )
        fixed = {f"status:{e.key}": e for e in status_entries if e.after is not None}
        for ticket in Ticket.objects.filter(
            brand=brand,
            type__code="unmapped_status",
            source_id__in=list(fixed),
            status__in=OPEN_STATUSES,
        ):
            entry = fixed[ticket.source_id]
            waiting = RecordState.objects.filter(
                brand=brand, flow=ORDER_FLOW, status=RecordStatus.WAITING, match_key=entry.key
            ).count()
            who = entry.actor.get_username() if entry.actor else "The console"
            queued = (
                f"The {waiting} waiting order{pluralize(waiting)} "
                f"{pluralize(waiting, 'is,are')} queued to sync in run {order_run.pk}."
                if order_run and waiting
                else "Its waiting orders sync when the order lifecycle flow next runs."
            )
            ticket_resolve(
                ticket=ticket,
                actor=actor,
                note=f"{who} mapped “{entry.label}” to {describe(entry.kind, entry.after)} "
                f"({ChangeVia(entry.via).label.lower()}, mapping change #{entry.pk}). {queued}",
            )
            entry.note = " ".join(
                p
                for p in (
                    entry.note,
                    f"Resolved ticket #{ticket.pk}: {waiting} order{pluralize(waiting)} "
                    f"{pluralize(waiting, 'was,were')} waiting on this status.",
                )
                if p
            )
            entry.save(update_fields=["note"])
            tickets.append(ticket)
    if attribute_entries and _flow_enabled(brand, CUSTOMERS_FLOW):
        # Any contact may carry the tag or field: a full run re-reads them all and sends
        # only those whose attributes now differ (the content hash decides).
        runs.append(
            flow_enqueue(brand_id=brand.pk, flow=CUSTOMERS_FLOW, trigger="manual", full=True)
        )
    return tickets, runs


def mapping_save(
    *,
    brand: Brand,
    changes: Sequence[StatusChange],
    actor=None,
    via: str = ChangeVia.CONSOLE,
    note: str = "",
    reverts: MappingChange | None = None,
    statuses: list[dict] | Any | None = NOT_CHECKED,
) -> SaveResult:
    """Save order status mappings: validated, all or nothing, recorded, audited, followed up.

    `statuses` is the brand's Brightpearl list to check ids against; by default it is read
    (cached) here, and None says Brightpearl could not be reached.
    """
    changes = list(changes)
    if statuses is NOT_CHECKED:
        statuses = statuses_or_none(brand)
    mapped = StatusMapping.objects.filter(brand=brand).values_list("bp_status_id", flat=True)
    status_changes_validate(changes=changes, statuses=statuses, mapped=mapped)
    return _save(brand=brand, changes=changes, actor=actor, via=via, note=note, reverts=reverts)


def attribute_mapping_save(
    *,
    brand: Brand,
    changes: Sequence[AttributeChange],
    actor=None,
    via: str = ChangeVia.CONSOLE,
    note: str = "",
    reverts: MappingChange | None = None,
    tags: dict[int, str] | Any | None = NOT_CHECKED,
) -> SaveResult:
    """Save attribute mappings: validated, all or nothing, recorded, audited, followed up."""
    changes = list(changes)
    if tags is NOT_CHECKED:
        tags = tags_or_none(brand)
    attribute_changes_validate(changes=changes, tags=tags)
    return _save(brand=brand, changes=changes, actor=actor, via=via, note=note, reverts=reverts)


def _save(
    *,
    brand: Brand,
    changes: list[Change],
    actor,
    via: str,
    note: str,
    reverts: MappingChange | None,
) -> SaveResult:
    """Validated changes: written, audited and followed up in one transaction (the reads
    from Brightpearl for validation happened before it, so no vendor call holds it open)."""
    with transaction.atomic():
        entries = mappings_apply(
            brand=brand, changes=changes, actor=actor, via=via, note=note, reverts=reverts
        )
        audit_mapping_changes(brand, entries, actor, via)
        tickets, runs = mapping_followup(brand=brand, entries=entries, actor=actor)
    return SaveResult(entries=entries, tickets=tickets, runs=runs)


def statuses_or_none(brand: Brand) -> list[dict] | None:
    from connectors.errors import ConnectorError

    try:
        return brightpearl_statuses(brand=brand)
    except (ConnectorError, Connection.DoesNotExist):
        return None


def tags_or_none(brand: Brand) -> dict[int, str] | None:
    from connectors.errors import ConnectorError

    try:
        return brightpearl_tags(brand=brand)
    except (ConnectorError, Connection.DoesNotExist):
        return None


def revert_change(entry: MappingChange) -> Change:
    """The change that puts a mapping back as it was before `entry`."""
    if entry.kind == MappingKind.STATUS:
        current = StatusMapping.objects.filter(
            brand_id=entry.brand_id, bp_status_id=int(entry.key)
        ).first()
        target = entry.before or {}
        return StatusChange(
            bp_status_id=int(entry.key),
            bp_status_name=entry.label,
            ometria_status=target.get("ometria_status", ""),
            lifecycle_stage=target.get("lifecycle_stage", ""),
            expected=status_value(current),
        )
    source, _, source_name = entry.key.partition(":")
    current = AttributeMapping.objects.filter(
        brand_id=entry.brand_id, source=source, source_name=source_name
    ).first()
    target = entry.before
    return AttributeChange(
        source=source,
        source_name=source_name,
        ometria_attribute=(target or {}).get("ometria_attribute", ""),
        value=(target or {}).get("value", ""),
        absent_value=(target or {}).get("absent_value", ""),
        remove=target is None,
        expected=attribute_value(current),
    )


def mapping_revert(*, entry: MappingChange, actor=None, expected: Any = NOT_CHECKED) -> SaveResult:
    """Put a mapping back as it was before `entry`. The revert is itself a recorded change.

    `expected` is the value the person saw on the revert's preview; if the mapping moved
    since, nothing changes and the error says so.
    """
    change = revert_change(entry)
    current = change.expected
    if expected is not NOT_CHECKED and expected != current:
        raise MappingError(_conflict(change, current, entry.kind), {change.key: []})
    if current == change.after:
        raise MappingError(
            f"“{entry.label}” is already {describe(entry.kind, current)}: there is nothing "
            "to revert."
        )
    when = timezone.localtime(entry.created).strftime("%-d %b %Y %H:%M")
    who = entry.actor.get_username() if entry.actor else "the console"
    note = f"Reverts change #{entry.pk} (by {who}, {when})."
    brand = entry.brand
    if isinstance(change, StatusChange):
        # Putting back what was there before needs no check against Brightpearl's list.
        return mapping_save(
            brand=brand,
            changes=[change],
            actor=actor,
            via=ChangeVia.REVERT,
            note=note,
            reverts=entry,
            statuses=statuses_or_none(brand) if change.after is not None else None,
        )
    return attribute_mapping_save(
        brand=brand,
        changes=[change],
        actor=actor,
        via=ChangeVia.REVERT,
        note=note,
        reverts=entry,
        tags=None,
    )


# --- the agency's template ---------------------------------------------------------------
@transaction.atomic
def mapping_seed_defaults(
    *, brand: Brand, statuses: list[dict], actor=None, via: str = ChangeVia.TEMPLATE
) -> tuple[int, list[dict]]:
    """Map each status the template knows by name; never overwrite a mapping someone made.

    Returns how many were created, and the statuses the template does not know (they stay
    unmapped, so their orders wait with a ticket instead of being guessed). Every mapping
    it creates is recorded in the history; running it again changes nothing.
    """
    template = {d.bp_status_name.strip().lower(): d for d in DefaultStatusMapping.objects.all()}
    existing = set(StatusMapping.objects.filter(brand=brand).values_list("bp_status_id", flat=True))
    new: list[StatusChange] = []
    unknown: list[dict] = []
    for status in statuses:
        if status["id"] in existing:
            continue
        default = template.get(status["name"].strip().lower())
        if default is None:
            unknown.append(status)
            continue
        new.append(
            StatusChange(
                bp_status_id=status["id"],
                bp_status_name=status["name"],
                ometria_status=default.ometria_status,
                lifecycle_stage=default.lifecycle_stage,
                expected=None,
            )
        )
    have = set(
        AttributeMapping.objects.filter(brand=brand, source=AttributeSource.TAG).values_list(
            "source_name", flat=True
        )
    )
    attributes = [
        AttributeChange(
            source=AttributeSource.TAG,
            source_name=tag,
            ometria_attribute=attribute,
            value=value,
            absent_value=absent,
            expected=None,
        )
        for tag, attribute, value, absent in DEFAULT_ATTRIBUTES
        if tag not in have
    ]
    entries = mappings_apply(
        brand=brand,
        changes=[*new, *attributes],
        actor=actor,
        via=via,
        note="From the agency's default template.",
    )
    if entries:
        # Only a run that created something leaves a trace: a second run changes nothing.
        audit(
            "mappings.seeded",
            brand=brand,
            actor=actor,
            target=brand,
            summary=f"{len(new)} status mappings from the template; {len(unknown)} unknown: "
            + ", ".join(s["name"] for s in unknown),
        )
    return len(new), unknown

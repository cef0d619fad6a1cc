"""Services for a brand's mappings: every change to an order status mapping, an attribute
mapping or a value map is saved, recorded in the history, audited, and followed by what it
unblocks (the ticket resolved, the waiting records queued).

Views, the admin (forms and imports), onboarding and commands all change mappings through
`mapping_save`, `attribute_mapping_save`, `value_map_save`, `mapping_revert` and (inside an
import's transaction) `mappings_apply`; nothing else writes them. Each kind of change
(status_mappings.StatusChange, attribute_mappings.AttributeChange,
valuemaps.changes.ValueChange) knows its own row; this module treats them all alike.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.template.defaultfilters import pluralize
from django.utils import timezone

from brands.audit import audit
from brands.models import Brand
from exceptions.models import Ticket
from syncs.attribute_mappings import (
    ATTRIBUTE_NAME,
    DEFAULT_ATTRIBUTES,
    AttributeChange,
    attribute_changes_validate,
    attribute_followup,
    attribute_key,
    attribute_label,
    attribute_value,
)
from syncs.mapping_base import NOT_CHECKED, MappingError, SaveResult, user_or_none
from syncs.models import (
    AttributeMapping,
    AttributeSource,
    ChangeVia,
    DefaultStatusMapping,
    MappingChange,
    MappingKind,
    StatusMapping,
    SyncRun,
    ValueMap,
)
from syncs.status_mappings import (
    StatusChange,
    status_changes_validate,
    status_followup,
    status_value,
)
from syncs.valuemaps.changes import (
    ValueChange,
    known_values,
    value_change_cleaned,
    value_changes_validate,
)
from syncs.valuemaps.followup import value_followup
from syncs.valuemaps.registry import get_kind, is_kind
from syncs.vendor_lists import (
    STATUS_CACHE_SECONDS,
    brightpearl_statuses,
    brightpearl_tags,
    statuses_or_none,
    tags_or_none,
)

__all__ = [
    "ATTRIBUTE_NAME",
    "DEFAULT_ATTRIBUTES",
    "NOT_CHECKED",
    "STATUS_CACHE_SECONDS",
    "AttributeChange",
    "MappingError",
    "SaveResult",
    "StatusChange",
    "ValueChange",
    "attribute_changes_validate",
    "attribute_key",
    "attribute_label",
    "attribute_mapping_save",
    "attribute_value",
    "audit_mapping_changes",
    "brightpearl_statuses",
    "brightpearl_tags",
    "change_from_dict",
    "change_from_instance",
    "describe",
    "mapping_followup",
    "mapping_revert",
    "mapping_save",
    "mapping_seed_defaults",
    "mappings_apply",
    "revert_change",
    "status_changes_validate",
    "status_value",
    "statuses_or_none",
    "tags_or_none",
    "value_changes_validate",
    "value_map_save",
]

Change = StatusChange | AttributeChange | ValueChange


# --- one change, whatever its kind -------------------------------------------------------------
def change_type(kind: str) -> type[StatusChange] | type[AttributeChange] | type[ValueChange]:
    if kind == MappingKind.STATUS:
        return StatusChange
    if kind == MappingKind.ATTRIBUTE:
        return AttributeChange
    get_kind(kind)  # an unknown kind fails here, naming the kinds there are
    return ValueChange


def describe(kind: str, value: dict | None) -> str:
    """A mapping's value in words: “Pending · Processing”, “vip = true (else false)”,
    “PAYPAL · nominal code 1220”."""
    if kind == MappingKind.STATUS:
        return StatusChange.describe(value)
    if kind == MappingKind.ATTRIBUTE:
        return AttributeChange.describe(value)
    if is_kind(kind):
        return get_kind(kind).describe(value)
    return "not mapped" if value is None else str(value)


def change_from_instance(
    mapping: StatusMapping | AttributeMapping | ValueMap, *, remove: bool = False
) -> Change:
    """A model row (an admin form's, an import's) as the change that makes it so."""
    if isinstance(mapping, AttributeMapping):
        return AttributeChange.from_instance(mapping, remove=remove)
    if isinstance(mapping, ValueMap):
        return ValueChange.from_instance(mapping, remove=remove)
    return StatusChange.from_instance(mapping, remove=remove)


def change_from_dict(data: dict) -> Change:
    """The inverse of `as_dict` (the preview page carries changes signed, in a hidden field)."""
    return change_type(str(data.get("kind") or MappingKind.STATUS)).from_dict(data)


def revert_change(entry: MappingChange) -> Change:
    """The change that puts a mapping back as it was before `entry`."""
    return change_type(entry.kind).revert_of(entry)


# --- saving --------------------------------------------------------------------------------
def _conflict(change: Change, current: dict | None) -> str:
    return (
        f"“{change.label}” was changed by someone else since you looked: it is now "
        f"{describe(str(change.kind), current)}. Look at the page again and preview once more."
    )


def _locked_mappings(brand: Brand, changes: Sequence[Change]) -> dict[tuple, Any]:
    """The saved mappings these changes touch, locked until the transaction ends, by
    `Change.ident`."""
    by_type: dict[type, list[Change]] = defaultdict(list)
    for change in changes:
        by_type[type(change)].append(change)
    existing: dict[tuple, Any] = {}
    for cls, group in by_type.items():
        existing.update(cls.lock(brand, group))
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
    """Write mappings and their history, nothing more. Call inside a transaction (the saves
    do; an import does, then runs `mapping_followup` once for all rows). A change whose
    mapping moved since the person looked (`expected`) stops them all."""
    existing = _locked_mappings(brand, changes)
    conflicts: dict[str, list[str]] = {}
    entries: list[MappingChange] = []
    for change in changes:
        current = existing.get(change.ident)
        before = change.value_of(current)
        if change.expected is not NOT_CHECKED and change.expected != before:
            conflicts[change.key] = [_conflict(change, before)]
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
                kind=str(change.kind),
                key=change.key[:160],
                label=change.history_label(current)[:200],
                before=before,
                after=after,
                actor=user_or_none(actor),
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


def audit_mapping_changes(brand: Brand, entries: list[MappingChange], actor, via: str) -> None:
    if not entries:
        return
    kinds = {e.kind for e in entries}
    if kinds == {MappingKind.STATUS}:
        noun = "order status"
    elif kinds == {MappingKind.ATTRIBUTE}:
        noun = "attribute"
    else:
        noun = " and ".join(sorted(MappingChange(kind=k).kind_label.lower() for k in kinds))
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
    """What saved changes unblock, for each kind: order statuses queue their orders and
    resolve their tickets, attributes queue a customers run, value maps queue the records
    that waited on the value and resolve its ticket."""
    tickets: list[Ticket] = []
    runs: list[SyncRun] = []
    groups = (
        (status_followup, [e for e in entries if e.kind == MappingKind.STATUS]),
        (attribute_followup, [e for e in entries if e.kind == MappingKind.ATTRIBUTE]),
        (value_followup, [e for e in entries if is_kind(e.kind)]),
    )
    for followup, group in groups:
        if group:
            found_tickets, found_runs = followup(brand=brand, entries=group, actor=actor)
            tickets += found_tickets
            runs += found_runs
    return tickets, runs


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
    from the vendors for validation happened before it, so no vendor call holds it open)."""
    with transaction.atomic():
        entries = mappings_apply(
            brand=brand, changes=changes, actor=actor, via=via, note=note, reverts=reverts
        )
        audit_mapping_changes(brand, entries, actor, via)
        tickets, runs = mapping_followup(brand=brand, entries=entries, actor=actor)
    return SaveResult(entries=entries, tickets=tickets, runs=runs)


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


def value_map_save(
    *,
    brand: Brand,
    changes: Sequence[ValueChange],
    actor=None,
    via: str = ChangeVia.CONSOLE,
    note: str = "",
    reverts: MappingChange | None = None,
    check_lists: bool = True,
) -> SaveResult:
    """Save value maps (of any kinds): each value checked by its kind and, when
    `check_lists`, against the vendors' lists; all or nothing, recorded, audited, followed
    up (the waiting records queued, the value's ticket resolved)."""
    changes = [value_change_cleaned(c) for c in changes]
    for kind in {c.kind for c in changes}:
        known = known_values(brand=brand, kind=get_kind(kind)) if check_lists else None
        value_changes_validate(changes=[c for c in changes if c.kind == kind], known=known)
    return _save(brand=brand, changes=changes, actor=actor, via=via, note=note, reverts=reverts)


# --- reverting --------------------------------------------------------------------------------
def mapping_revert(*, entry: MappingChange, actor=None, expected: Any = NOT_CHECKED) -> SaveResult:
    """Put a mapping back as it was before `entry`. The revert is itself a recorded change.

    `expected` is the value the person saw on the revert's preview; if the mapping moved
    since, nothing changes and the error says so.
    """
    change = revert_change(entry)
    current = change.expected
    if expected is not NOT_CHECKED and expected != current:
        raise MappingError(_conflict(change, current), {change.key: []})
    if current == change.after:
        raise MappingError(
            f"“{entry.label}” is already {describe(entry.kind, current)}: there is nothing "
            "to revert."
        )
    when = timezone.localtime(entry.created).strftime("%-d %b %Y %H:%M")
    who = entry.actor.get_username() if entry.actor else "the console"
    note = f"Reverts change #{entry.pk} (by {who}, {when})."
    brand = entry.brand
    common = {"changes": [change], "actor": actor, "via": ChangeVia.REVERT, "note": note}
    if isinstance(change, StatusChange):
        # Putting back what was there before needs no check against Brightpearl's list.
        return mapping_save(
            brand=brand,
            reverts=entry,
            statuses=statuses_or_none(brand) if change.after is not None else None,
            **common,
        )
    if isinstance(change, AttributeChange):
        return attribute_mapping_save(brand=brand, reverts=entry, tags=None, **common)
    # What was saved before passed its checks then; the vendors' lists may have moved on.
    return value_map_save(brand=brand, reverts=entry, check_lists=False, **common)


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

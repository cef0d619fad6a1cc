"""Order status mappings (Brightpearl status → Ometria order status and lifecycle stage):
the change, its checks, and what a saved change unblocks. Saved through syncs.mappings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.template.defaultfilters import pluralize

from brands.models import Brand
from exceptions.models import OPEN_STATUSES, Ticket
from exceptions.services import ticket_resolve
from syncs.flows.ometria.order_lifecycle import FLOW as ORDER_FLOW
from syncs.flows.ometria.refunds import FLOW as REFUNDS_FLOW
from syncs.flows.ometria.shipments import FLOW as SHIPMENTS_FLOW
from syncs.mapping_base import (
    NOT_CHECKED,
    MappingError,
    change_as_dict,
    count_errors,
    user_or_none,
)
from syncs.models import (
    ChangeVia,
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


def status_value(mapping: StatusMapping | None) -> dict | None:
    if mapping is None:
        return None
    return {"ometria_status": mapping.ometria_status, "lifecycle_stage": mapping.lifecycle_stage}


def choice_label(choices, value: str) -> str:
    return dict(choices.choices).get(value, value)


def describe_status(value: dict | None) -> str:
    """“Pending · Processing”, or “not mapped”."""
    if value is None:
        return "not mapped"
    return (
        f"{choice_label(OmetriaOrderStatus, value['ometria_status'])} · "
        f"{choice_label(LifecycleStage, value['lifecycle_stage'])}"
    )


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

    @classmethod
    def from_dict(cls, data: dict) -> StatusChange:
        return cls(
            bp_status_id=int(data["id"]),
            bp_status_name=str(data["name"]),
            ometria_status=str(data.get("ometria_status", "")),
            lifecycle_stage=str(data.get("lifecycle_stage", "")),
            expected=data.get("expected", NOT_CHECKED),
        )

    @classmethod
    def revert_of(cls, entry: MappingChange) -> StatusChange:
        """The change that puts the mapping back as it was before `entry`."""
        current = StatusMapping.objects.filter(
            brand_id=entry.brand_id, bp_status_id=int(entry.key)
        ).first()
        target = entry.before or {}
        return cls(
            bp_status_id=int(entry.key),
            bp_status_name=entry.label,
            ometria_status=target.get("ometria_status", ""),
            lifecycle_stage=target.get("lifecycle_stage", ""),
            expected=status_value(current),
        )

    @staticmethod
    def lock(brand: Brand, changes: Sequence[StatusChange]) -> dict[tuple, StatusMapping]:
        """The saved mappings these changes touch, locked until the transaction ends."""
        ids = [c.bp_status_id for c in changes]
        return {
            (MappingKind.STATUS, m.bp_status_id): m
            for m in StatusMapping.objects.select_for_update().filter(
                brand=brand, bp_status_id__in=ids
            )
        }

    def saved(self, brand: Brand) -> StatusMapping | None:
        return StatusMapping.objects.filter(brand=brand, bp_status_id=self.bp_status_id).first()

    @property
    def ident(self) -> tuple:
        """The saved mapping this change is about, unique across every kind."""
        return (self.kind, self.bp_status_id)

    @staticmethod
    def value_of(mapping: StatusMapping | None) -> dict | None:
        return status_value(mapping)

    @staticmethod
    def describe(value: dict | None) -> str:
        return describe_status(value)

    def history_label(self, current: StatusMapping | None) -> str:
        return self.bp_status_name or (current.bp_status_name if current else "")

    def write(self, current: StatusMapping | None, *, brand: Brand, actor) -> StatusMapping:
        mapping = current or StatusMapping(brand=brand, bp_status_id=self.bp_status_id)
        mapping.bp_status_name = self.bp_status_name or mapping.bp_status_name
        mapping.ometria_status = self.ometria_status
        mapping.lifecycle_stage = self.lifecycle_stage
        mapping.updated_by = user_or_none(actor)
        mapping.save()
        return mapping

    @property
    def after(self) -> dict | None:
        if not self.ometria_status and not self.lifecycle_stage:
            return None
        return {"ometria_status": self.ometria_status, "lifecycle_stage": self.lifecycle_stage}

    def as_dict(self) -> dict:
        return change_as_dict(
            self,
            id=self.bp_status_id,
            name=self.bp_status_name,
            ometria_status=self.ometria_status,
            lifecycle_stage=self.lifecycle_stage,
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
        raise MappingError(count_errors(errors), errors)


def _flow_enabled(brand: Brand, flow: str) -> bool:
    return FlowConfig.objects.filter(brand=brand, flow=flow, enabled=True).exists()


def status_followup(
    *, brand: Brand, entries: list[MappingChange], actor=None
) -> tuple[list[Ticket], list[SyncRun]]:
    """The orders the console knows in the changed statuses are queued for a sync (waiting
    ones go for the first time, synced ones move to their new stage), with the refunds
    that waited on them, and each unmapped-status ticket the change fixes is resolved."""
    from syncs.services import flow_enqueue

    tickets: list[Ticket] = []
    runs: list[SyncRun] = []
    order_run = None
    keys = sorted({e.key for e in entries})
    order_ids = sorted(
        RecordState.objects.filter(brand=brand, flow=ORDER_FLOW, match_key__in=keys).values_list(
            "source_id", flat=True
        ),
        key=lambda i: (len(i), i),
    )
    if order_ids and _flow_enabled(brand, ORDER_FLOW):
        order_run = flow_enqueue(
            brand_id=brand.pk, flow=ORDER_FLOW, trigger="manual", scope=order_ids
        )
        runs.append(order_run)
    # The refunds and shipments that waited on these statuses go too.
    for flow in (REFUNDS_FLOW, SHIPMENTS_FLOW):
        held = list(
            RecordState.objects.filter(
                brand=brand, flow=flow, status=RecordStatus.WAITING, match_key__in=keys
            ).values_list("source_id", flat=True)
        )
        if held and _flow_enabled(brand, flow):
            runs.append(flow_enqueue(brand_id=brand.pk, flow=flow, trigger="manual", scope=held))
    fixed = {f"status:{e.key}": e for e in entries if e.after is not None}
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
            note=f"{who} mapped “{entry.label}” to {describe_status(entry.after)} "
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
    return tickets, runs

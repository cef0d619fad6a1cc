"""What syncs tells the tickets about flows (exceptions.hooks): names, and how to retry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from syncs.flows import REGISTRY, flow_choices, flow_label

if TYPE_CHECKING:
    from exceptions.models import Ticket
    from syncs.models import SyncRun


class SyncFlows:
    def label(self, code: str) -> str:
        return flow_label(code)

    def choices(self) -> list[tuple[str, str]]:
        return flow_choices()

    def target(self, code: str) -> str:
        flow = REGISTRY.get(code)
        return flow.target if flow else ""

    def retry_blocker(self, ticket: Ticket) -> str:
        from syncs.models import RunState, SyncRun

        if ticket.flow not in REGISTRY:
            return (
                f"The flow “{ticket.flow}” is not switched on in this console, so nothing can "
                "sync this record again; resolve it by hand when it is fixed."
            )
        pending = (
            SyncRun.objects.filter(
                ticket_id=ticket.pk, state__in=[RunState.QUEUED, RunState.RUNNING]
            )
            .order_by("-pk")
            .first()
        )
        if pending is not None:
            return (
                f"A retry is already on its way (run {pending.pk}, "
                f"{pending.get_state_display().lower()}); this ticket changes when it finishes."
            )
        return ""

    def retry(self, *, ticket: Ticket, scope: list[str]) -> SyncRun:
        from syncs.services import flow_enqueue

        return flow_enqueue(
            brand_id=ticket.brand_id,
            flow=ticket.flow,
            trigger="retry",
            scope=scope,
            ticket_id=ticket.pk,
        )

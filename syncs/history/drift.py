"""The drift report: what each daily reconciliation had to correct, and its ticket.

Once a day a flow's scheduled run reads every record (SyncRun.full, trigger schedule) and
writes only those whose content differs from what the console last sent (syncs/services.py,
flow_scheduled). Most of what it writes is ordinary: records changed since the flow's
previous run, which that run would have sent anyway. The rest is drift:

    A record **drifted** when the daily check had to send it although the source had not
    reported it changed since the flow's previous run began: its change time is before
    that run's start (or it has none). The copy in the target was out of date and nothing
    had said so: a change that does not move Brightpearl's updatedOn (a custom field), a
    webhook never delivered, a change stamped late, or an edit made in the target itself.

Which records the check wrote is read from the record states: each state the check synced
has its `synced_at` within the run, and no other reading run of the flow runs meanwhile
(syncs/services.py lets one at a time); the records of webhook and retry runs that
overlapped it are left out, as they said themselves that they changed.

A flow's first check (no earlier finished run) is its first load: nothing was there to
differ. A check that found drift raises one ticket per flow for ops (a repeat counts on
it); a check that found none resolves it.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.template.defaultfilters import pluralize
from django.utils import timezone

from exceptions.services import ticket_raise, tickets_autoresolve
from syncs.flows import REGISTRY
from syncs.history.marks import BACKFILL, MARGIN, mark_locked, vendor_label
from syncs.history.models import DriftCheck
from syncs.models import (
    MappingChange,
    RecordState,
    RecordStatus,
    RunState,
    SyncRun,
    Trigger,
)

DONE = [RunState.SUCCEEDED, RunState.PARTIAL]
IDS_KEPT = 200
IDS_IN_TICKET = 50
# A check older than this raises no ticket when first read (a new install reading 30 days
# back): its news is old, and the next check speaks for the flow.
NEWS = timedelta(hours=36)


def drift_source_id(flow: str) -> str:
    """The ticket's key: one per brand and flow (a colon marks it as naming no record)."""
    return f"drift:{flow}"


def drift_checks_record(*, now: datetime) -> int:
    """Record a DriftCheck for each daily reconciliation finished since the last pass, and
    raise or resolve its flow's ticket. Returns how many checks were recorded."""
    with transaction.atomic():
        mark = mark_locked("drift")
        since = (mark.at or now - BACKFILL) - MARGIN
        runs = list(
            SyncRun.objects.filter(
                finished_at__gte=since,
                finished_at__lt=now,
                full=True,
                trigger=Trigger.SCHEDULE,
                state__in=DONE,
                drift_check__isnull=True,
            )
            .select_related("brand")
            .order_by("finished_at", "pk")
        )
        newest: dict[tuple[int, str], int] = {(r.brand_id, r.flow): r.pk for r in runs}
        for run in runs:
            check = drift_check(run)
            if newest[(run.brand_id, run.flow)] == run.pk and now - run.finished_at < NEWS:
                drift_ticket(check, run)
        mark.at = now
        mark.save(update_fields=["at"])
    return len(runs)


def drift_check(run: SyncRun) -> DriftCheck:
    """What this reconciliation corrected (see the module's docstring), recorded once."""
    flow = REGISTRY.get(run.flow)
    check = DriftCheck(
        run=run,
        brand_id=run.brand_id,
        flow=run.flow,
        target=flow.target if flow else "",
        checked_at=run.finished_at,
        compared=run.read,
        sent=run.written,
    )
    previous = (
        SyncRun.objects.filter(
            brand_id=run.brand_id,
            flow=run.flow,
            scope=[],
            state__in=DONE,
            started_at__isnull=False,
            finished_at__lte=run.started_at,
        )
        .exclude(pk=run.pk)
        .order_by("-finished_at")
        .first()
    )
    if previous is None or run.started_at is None:
        check.first_load = True
        check.save()
        return check
    written = RecordState.objects.filter(
        brand_id=run.brand_id,
        flow=run.flow,
        status=RecordStatus.SYNCED,
        synced_at__gte=run.started_at,
        synced_at__lte=run.finished_at,
    ).filter(Q(source_updated__lt=previous.started_at) | Q(source_updated__isnull=True))
    said = _named_by_overlapping_runs(run)
    if said:
        written = written.exclude(source_id__in=said)
    ids = list(written.values_list("source_id", flat=True)[: IDS_KEPT + 1])
    check.drifted = len(ids) if len(ids) <= IDS_KEPT else written.count()
    check.ids = sorted(ids[:IDS_KEPT], key=_id_order)
    # Mappings changed since the previous full read (ever, if none): records sent under the
    # old mapping differ too, and the ticket says so (they are corrected all the same).
    last_check = (
        SyncRun.objects.filter(
            brand_id=run.brand_id,
            flow=run.flow,
            full=True,
            state__in=DONE,
            started_at__isnull=False,
        )
        .exclude(pk=run.pk)
        .filter(started_at__lt=run.started_at)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    changes = MappingChange.objects.filter(brand_id=run.brand_id, created__lt=run.started_at)
    if last_check is not None:
        changes = changes.filter(created__gte=last_check)
    check.mapping_changes = changes.count()
    check.save()
    return check


def _named_by_overlapping_runs(run: SyncRun) -> set[str]:
    """The records that webhook and retry runs of the flow synced while the check ran."""
    said: set[str] = set()
    for scope in (
        SyncRun.objects.filter(
            brand_id=run.brand_id,
            flow=run.flow,
            started_at__lte=run.finished_at,
            finished_at__gte=run.started_at,
        )
        .exclude(scope=[])
        .exclude(pk=run.pk)
        .values_list("scope", flat=True)
    ):
        said.update(str(s) for s in scope)
    return said


def _id_order(value: str) -> tuple[int, str]:
    """Numbers in numeric order (999 before 1001), anything else after, alphabetically."""
    return (len(value), value) if value.isdigit() else (1_000, value)


def drift_ticket(check: DriftCheck, run: SyncRun) -> None:
    """Raise the flow's drift ticket for ops, or resolve it when the check found nothing."""
    if check.first_load:
        return
    flow = REGISTRY.get(check.flow)
    if flow is None:
        return
    source_id = drift_source_id(check.flow)
    target, source = vendor_label(flow.target), vendor_label(flow.source)
    noun = flow.noun if check.drifted != 1 else flow.noun[:-1]
    if not check.drifted:
        tickets_autoresolve(
            brand=check.brand_id,
            source_system="console",
            source_ids=[source_id],
            type_codes=["drift_found"],
            note=f"The daily check (run {run.pk}) found nothing to correct in {target}.",
        )
        return
    shown = check.ids[:IDS_IN_TICKET]
    more = check.drifted - len(shown)
    listed = ", ".join(shown) + (f" and {more} more" if more > 0 else "")
    local = timezone.localtime(run.started_at, timezone=zoneinfo.ZoneInfo(run.brand.timezone))
    message = (
        f"{noun[:1].upper()}{noun[1:]} {listed}: the copy in {target} was out of date although "
        f"{source} had not reported a change since the flow's previous run. The daily check "
        f"(run {run.pk}, started {local:%d %b %H:%M}) compared {check.compared} and sent "
        f"{check.drifted} of them again, so they match now."
    )
    if check.mapping_changes:
        message += (
            f" {check.mapping_changes} mapping change{pluralize(check.mapping_changes)} "
            f"{pluralize(check.mapping_changes, 'was,were')} made since the previous check: "
            "records sent under an old mapping are among these."
        )
    ticket = ticket_raise(
        brand=check.brand_id,
        type_code="drift_found",
        flow=check.flow,
        title=(
            f"{check.drifted} {noun} in {target} differed from {source} and "
            f"{pluralize(check.drifted, 'was,were')} corrected by the daily check"
        ),
        source_system="console",
        source_id=source_id,
        snapshot={
            "run": run.pk,
            "compared": check.compared,
            "differed": check.drifted,
            "ids": shown,
            "target": flow.target,
            "mapping_changes": check.mapping_changes,
        },
        error_message=message,
    )
    DriftCheck.objects.filter(pk=check.pk).update(ticket_id=ticket.pk)

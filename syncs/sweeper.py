"""The sweeper, every minute: the safety net under the runs and the inbox.

It revives runs whose worker died, drains forgotten webhooks, hands runs blocked on refused
credentials back to the queue when their connection works again (syncs/recovery.py), raises
*sync delayed* tickets, collects Ometria's late rejections and keeps the history's tables
(syncs/history/sweep.py)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Min, Q
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from connectors.errors import ConnectorError
from exceptions.services import ticket_raise, tickets_autoresolve
from syncs import recovery, services
from syncs.flows import REGISTRY, get_flow
from syncs.flows.ometria.rejections import ometria_rejections_collect
from syncs.history.sweep import history_sweep
from syncs.models import FlowConfig, InboxState, RunState, SyncRun, WebhookEvent

logger = logging.getLogger("syncs")


def runs_sweep() -> dict[str, Any]:
    """Every minute: revive runs whose worker died, drain forgotten webhooks, flag late flows,
    and collect Ometria's late rejections."""
    now = timezone.now()
    stale = now - timedelta(seconds=services.RUN_STALE_SECONDS)
    report: dict[str, Any] = {"revived": 0, "gave_up": 0, "delayed": 0, "rejections": 0}
    report["unblocked"] = recovery.runs_unblock_due()
    # Runs already waiting for a delayed retry are not lost.
    retrying = {
        int(a)
        for a in Schedule.objects.filter(func="syncs.tasks.run_flow").values_list("args", flat=True)
        if a and a.isdigit()
    }
    # A queued run's heartbeat is when it was last handed to the queue: hand it again at
    # most once per stale period, so a backlog does not flood the queue.
    lost = Q(state=RunState.RUNNING, heartbeat__lt=stale) | Q(
        Q(heartbeat__isnull=True) | Q(heartbeat__lt=stale),
        state=RunState.QUEUED,
        queued_at__lt=stale,
    )
    for run in SyncRun.objects.filter(lost).exclude(pk__in=retrying):
        if run.attempts >= services.RUN_MAX_ATTEMPTS:
            run.state = RunState.FAILED
            run.finished_at = now
            run.error = f"The run stopped {run.attempts} times without finishing (its worker died)."
            run.save(update_fields=["state", "finished_at", "error"])
            services._attempts_exhausted(
                run,
                f"{get_flow(run.flow).label} stopped {run.attempts} times without finishing",
                run.error,
            )
            report["gave_up"] += 1
        else:
            if run.state == RunState.QUEUED:
                SyncRun.objects.filter(pk=run.pk).update(heartbeat=now)
            services._enqueue(run.pk, services.run_queue(run))
            report["revived"] += 1
    # Events whose drain died half-way go back to the inbox.
    WebhookEvent.objects.filter(
        state=InboxState.PROCESSING, received_at__lt=now - timedelta(minutes=10)
    ).update(state=InboxState.RECEIVED)
    for connection_id in set(
        WebhookEvent.objects.filter(
            state=InboxState.RECEIVED, received_at__lt=now - timedelta(minutes=1)
        ).values_list("connection_id", flat=True)
    ):
        async_task("syncs.tasks.drain_webhooks", connection_id, group="webhooks")
    for config in FlowConfig.objects.filter(enabled=True, brand__active=True).select_related(
        "brand"
    ):
        report["delayed"] += _check_delay(config, now)
    for brand_id in set(
        FlowConfig.objects.filter(
            enabled=True,
            brand__active=True,
            flow__in=[c for c, f in REGISTRY.items() if f.target == "ometria"],
        ).values_list("brand_id", flat=True)
    ):
        try:
            report["rejections"] += ometria_rejections_collect(brand=brand_id)
        except ConnectorError as exc:
            logger.warning("could not read Ometria push errors for brand %s: %s", brand_id, exc)
    # The charts' hours, the daily checks' drift and silence (syncs/history/).
    report["history"] = history_sweep(now=now)
    return report


def _check_delay(config: FlowConfig, now) -> int:
    allowed = timedelta(
        minutes=max(3 * config.schedule_minutes, getattr(settings, "SYNC_DELAY_ALERT_MINUTES", 60))
    )
    behind = [config.cursor] if config.cursor else []
    inbox = WebhookEvent.objects.filter(
        brand_id=config.brand_id, state=InboxState.RECEIVED
    ).aggregate(t=Min("received_at"))["t"]
    if inbox:
        behind.append(inbox)
    source_id = f"flow:{config.flow}:delay"
    if behind and now - min(behind) > allowed:
        minutes = int((now - min(behind)).total_seconds() // 60)
        ticket_raise(
            brand=config.brand_id,
            type_code="sync_delayed",
            flow=config.flow,
            title=f"{get_flow(config.flow).label} is {minutes} minutes behind",
            source_system="console",
            source_id=source_id,
            snapshot={
                "behind_minutes": minutes,
                "allowed_minutes": int(allowed.total_seconds() // 60),
            },
            error_message=f"The oldest change not yet read is {minutes} minutes old.",
        )
        return 1
    tickets_autoresolve(
        brand=config.brand_id,
        source_system="console",
        source_ids=[source_id],
        type_codes=["sync_delayed"],
        note="The flow has caught up.",
    )
    return 0

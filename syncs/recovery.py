"""Runs blocked on refused credentials go again by themselves.

A run that fails because a system refused its credentials or settings is not retried with
backoff (the same key fails the same way) but marked blocked on that system, with one
ticket for the admins. It goes again, with nobody pressing retry:

- at once, when the connection is changed (new credentials, a new address or setting) or is
  seen working again (a connection test, another run reaching it);
- and every BLOCKED_RETRY_MINUTES by itself, for a fix made at the vendor (a key re-enabled).

The run that then succeeds resolves the connection's tickets (syncs/engine.py). Of the
reading runs that failed in the meantime (a schedule every 15 minutes), only the newest per
flow goes again, as a full one if any of them was: they would all read the same changes.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone

from connectors.models import Connection, Health
from syncs.models import RunState, SyncRun

logger = logging.getLogger("syncs")

BLOCKED_RETRY_MINUTES = getattr(settings, "BLOCKED_RETRY_MINUTES", 15)
# A connection saved with only these fields changed its health, not its credentials.
HEALTH_FIELDS = {
    "status",
    "last_checked",
    "last_error",
    "last_ok",
    "last_failure",
    "last_failure_at",
    "updated",
}
# Scoped runs (webhooks, retries) each carry their own ids: all go again, up to this many.
MAX_SCOPED = 500


def runs_unblock(*, brand_id: int, system: str, why: str) -> list[SyncRun]:
    """Queue again the runs blocked on this brand's connection to `system`."""
    from syncs import services

    now = timezone.now()
    blocked = list(
        SyncRun.objects.filter(brand_id=brand_id, blocked_on=system, state=RunState.FAILED)
        .order_by("-pk")
        .only("pk", "flow", "scope", "full", "log", "trigger")
    )
    if not blocked:
        return []
    again: list[SyncRun] = []
    superseded: list[int] = []
    newest: dict[str, SyncRun] = {}
    for run in blocked:
        if run.scope:
            if len(again) < MAX_SCOPED:
                again.append(run)
            else:
                superseded.append(run.pk)
        elif run.flow not in newest:
            newest[run.flow] = run
            again.append(run)
        else:
            # An older reading run of the same flow: the newest reads what it would have.
            newest[run.flow].full = newest[run.flow].full or run.full
            superseded.append(run.pk)
    with transaction.atomic():
        for run in again:
            run.state = RunState.QUEUED
            run.blocked_on = ""
            run.attempts = 0
            run.finished_at = None
            run.error = ""
            run.heartbeat = now
            run.log = (run.log + f"\n{now:%H:%M:%S} Queued again: {why}.").strip()
            run.save(
                update_fields=[
                    "state",
                    "blocked_on",
                    "attempts",
                    "finished_at",
                    "error",
                    "heartbeat",
                    "log",
                    "full",
                ]
            )
            queue = services.run_queue(run)
            transaction.on_commit(lambda pk=run.pk, q=queue: services._enqueue(pk, q))
        SyncRun.objects.filter(pk__in=superseded).update(blocked_on="")
    logger.info(
        "brand %s: %d run(s) blocked on %s queued again (%s)", brand_id, len(again), system, why
    )
    return again


def runs_unblock_due() -> int:
    """The sweeper's part: runs blocked for BLOCKED_RETRY_MINUTES try again, in case the
    vendor's side was fixed. If it still refuses, they are blocked again, for as long."""
    due = timezone.now() - timedelta(minutes=BLOCKED_RETRY_MINUTES)
    pairs = set(
        SyncRun.objects.filter(state=RunState.FAILED, finished_at__lt=due)
        .exclude(blocked_on="")
        .values_list("brand_id", "blocked_on")
    )
    return sum(
        len(
            runs_unblock(
                brand_id=brand_id,
                system=system,
                why=f"trying again by itself, {BLOCKED_RETRY_MINUTES} minutes on",
            )
        )
        for brand_id, system in pairs
    )


def _connection_saved(sender, instance: Connection, update_fields=None, **kwargs) -> None:
    """Changed credentials or settings, or a connection seen working: blocked runs go."""
    if update_fields and set(update_fields) <= HEALTH_FIELDS:
        if instance.status != Health.OK:
            return
        why = f"the {instance.get_system_display()} connection works again"
    else:
        why = f"the {instance.get_system_display()} connection was changed"
    transaction.on_commit(
        lambda: runs_unblock(brand_id=instance.brand_id, system=instance.system, why=why)
    )


def recovery_connect() -> None:
    """Called once at start-up (SyncsConfig.ready)."""
    post_save.connect(_connection_saved, sender=Connection, dispatch_uid="syncs.recovery")

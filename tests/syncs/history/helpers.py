"""Runs, states and hours made directly, as the engine and the minute job leave them, with
times chosen by the test (the fake clock is the `now` every history service takes)."""

from __future__ import annotations

from datetime import UTC, datetime

from syncs.history.models import FlowHour
from syncs.models import RecordState, RecordStatus, RunState, SyncRun

# A Wednesday at 12:30 UTC (13:30 in London, summer time): the tests' "now".
NOW = datetime(2025, 6, 11, 12, 30, tzinfo=UTC)


def finished_run(brand, *, started, finished, flow="order_lifecycle", **fields) -> SyncRun:
    """A run that ran from `started` to `finished`, with its counts."""
    values = {"trigger": "schedule", "state": RunState.SUCCEEDED, **fields}
    run = SyncRun.objects.create(brand=brand, flow=flow, **values)
    SyncRun.objects.filter(pk=run.pk).update(
        queued_at=started, started_at=started, finished_at=finished
    )
    run.refresh_from_db()
    return run


def synced_state(brand, source_id: str, *, synced_at, source_updated, flow="order_lifecycle"):
    """A record state as a run leaves it: synced at that run's start (ctx.now)."""
    return RecordState.objects.create(
        brand=brand,
        flow=flow,
        source_id=source_id,
        status=RecordStatus.SYNCED,
        content_hash="c" * 64,
        synced_at=synced_at,
        source_updated=source_updated,
    )


def hour_row(brand, hour, *, flow="order_lifecycle", written=0, **fields) -> FlowHour:
    return FlowHour.objects.create(brand=brand, flow=flow, hour=hour, written=written, **fields)

"""What the console's runs did during one condition of `manage.py bench_freshness`: the
backfills, brand A's webhook runs and its Brightpearl budget. Read from the console's own
tables (SyncRun, WebhookEvent, RateBudget), to say where the time went. Tools only."""

from __future__ import annotations

import subprocess
from statistics import mean

from django.conf import settings
from django.db.models import Sum

from brands.models import Brand
from connectors.models import RateBudget
from syncs.management.freshness_figures import percentile
from syncs.models import SyncRun, Trigger, WebhookEvent


def backfill_runs(runs, brand_a_id: int) -> dict:
    """What each backfill run did, keyed "a:<flow>" or "b:<flow>"."""
    out: dict[str, dict] = {}
    for run in runs:
        brand = "a" if run.brand_id == brand_a_id else "b"
        out[f"{brand}:{run.flow}"] = {
            "state": run.state,
            "seconds": round(run.duration.total_seconds(), 1) if run.duration else None,
            "read": run.read,
            "written": run.written,
            "api_calls": run.api_calls,
            "throttle_waits": run.throttle_waits,
            "slices": getattr(run, "slices", None),
            "stale": getattr(run, "stale", None),
        }
    return out


def webhook_runs(brand: Brand, since) -> dict:
    """A's webhook runs in the condition: the inbox wait (from the event stored to its run
    made: the drain task's wait on the events queue, and whatever the drain does before it
    makes the run, such as asking Brightpearl which ids it has) and the run's own time."""
    runs = {
        r.pk: r
        for r in SyncRun.objects.filter(brand=brand, trigger=Trigger.WEBHOOK, queued_at__gte=since)
    }
    waits = []
    for received, ids in WebhookEvent.objects.filter(
        brand=brand, received_at__gte=since
    ).values_list("received_at", "runs"):
        for run_id in ids or []:
            if run_id in runs:
                waits.append((runs[run_id].queued_at - received).total_seconds())
    took = [r.duration.total_seconds() for r in runs.values() if r.duration]

    def r3(value):
        return None if value is None else round(value, 3)

    return {
        "n": len(runs),
        "inbox_wait_p95_s": r3(percentile(waits, 95)),
        "inbox_wait_mean_s": r3(mean(waits) if waits else None),
        "run_p95_s": r3(percentile(took, 95)),
        "run_max_s": r3(max(took) if took else None),
        "throttle_waits": sum(r.throttle_waits for r in runs.values()),
        "api_calls": sum(r.api_calls for r in runs.values()),
    }


def budget(brand: Brand) -> dict:
    """The brand's Brightpearl budget's counters (requests, waits) so far."""
    return RateBudget.objects.filter(brand=brand, system="brightpearl").aggregate(
        requests=Sum("requests"), throttle_waits=Sum("throttle_waits")
    )


def budget_delta(before: dict, after: dict) -> dict:
    return {k: (after[k] or 0) - (before[k] or 0) for k in ("requests", "throttle_waits")}


def commit() -> str | None:
    """The code's commit, so a figure can be traced to what it measured."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except OSError:
        return None
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=5,
    )
    return (done.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")) or None

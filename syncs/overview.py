"""What the overview shows of a brand: each flow's last run, state, lag and tickets; the bulk
work under way and how far it has got; and what its API calls went to in the last hour."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Max, Min, Subquery
from django.template.defaultfilters import pluralize
from django.utils import timezone

from brands.models import Brand
from connectors.registry import REGISTRY as VENDORS
from connectors.usage import budget_usage_last_hour
from exceptions.models import OPEN_STATUSES, Ticket
from syncs.flows import REGISTRY
from syncs.models import (
    FlowConfig,
    InboxState,
    RecordState,
    RecordStatus,
    RunState,
    SyncRun,
    WebhookEvent,
)

VENDOR_NAMES = {system: cls.label for system, cls in VENDORS.items()}


def flow_lags(brand_id: int, configs: list[FlowConfig], now=None) -> dict[str, timedelta | None]:
    """Per flow, how long the oldest change not yet synced has waited: since it was made if
    it is not read yet (before the cursor, or a webhook not processed yet), since the console
    first held it back if it waits or failed. None when never run. Two queries for all of a
    brand's flows."""
    now = now or timezone.now()
    unsynced = dict(
        RecordState.objects.filter(
            brand_id=brand_id, status__in=[RecordStatus.WAITING, RecordStatus.FAILED]
        )
        .values("flow")
        .annotate(t=Min("held_since"))
        .values_list("flow", "t")
    )
    inbox = WebhookEvent.objects.filter(
        brand_id=brand_id, state__in=[InboxState.RECEIVED, InboxState.PROCESSING]
    ).aggregate(t=Min("received_at"))["t"]
    lags: dict[str, timedelta | None] = {}
    for config in configs:
        candidates = [t for t in (unsynced.get(config.flow), inbox) if t]
        if config.enabled and config.cursor:
            candidates.append(config.cursor)
        lags[config.flow] = max(now - min(candidates), timedelta(0)) if candidates else None
    return lags


def flow_lag(config: FlowConfig, now=None) -> timedelta | None:
    return flow_lags(config.brand_id, [config], now)[config.flow]


def brand_overview(brand: Brand) -> list[dict[str, Any]]:
    """Each flow of a brand: its last run, state, lag and open tickets (the dashboard)."""
    now = timezone.now()
    configs = {c.flow: c for c in FlowConfig.objects.filter(brand=brand)}
    open_by_flow: dict[str, int] = {}
    for flow in Ticket.objects.filter(brand=brand, status__in=OPEN_STATUSES).values_list(
        "flow", flat=True
    ):
        open_by_flow[flow] = open_by_flow.get(flow, 0) + 1
    latest_ids = (
        SyncRun.objects.filter(brand=brand).values("flow").annotate(last=Max("pk")).values("last")
    )
    last_runs = {r.flow: r for r in SyncRun.objects.filter(pk__in=Subquery(latest_ids))}
    lags = flow_lags(brand.pk, list(configs.values()), now)
    rows = []
    for code, cls in REGISTRY.items():
        config = configs.get(code)
        last = last_runs.get(code)
        rows.append(
            {
                "code": code,
                "label": cls.label,
                "description": cls.description,
                # Who owns each field that travels both ways (a conflict follows the owner).
                "owners": [
                    f"{field} by {VENDOR_NAMES.get(system, system)}"
                    for field, system in cls.owners.items()
                ],
                "config": config,
                "enabled": bool(config and config.enabled),
                "last_run": last,
                "lag": lags.get(code),
                "open_tickets": open_by_flow.get(code, 0),
            }
        )
    return rows


def brands_overview(brands: list[Brand]) -> list[dict[str, Any]]:
    """The home page: per brand, its flows, its bulk work under way and its API calls in the
    last hour. The bulk work and the calls take one query each for all the brands."""
    ids = [brand.pk for brand in brands]
    progress = bulk_progress(brand_ids=ids)
    calls = api_calls_last_hour(brand_ids=ids)
    return [
        {
            "brand": brand,
            "flows": brand_overview(brand),
            "bulk": progress.get(brand.pk, []),
            "calls": calls.get(brand.pk, []),
        }
        for brand in brands
    ]


def bulk_progress(*, brand_ids: list[int]) -> dict[int, list[str]]:
    """Per brand, one line per bulk run queued or running (unscoped: a full sync or catching
    up), oldest first: "Order lifecycle: full sync, 12,400 of 100,000 orders". One query."""
    runs = (
        SyncRun.objects.filter(
            brand_id__in=brand_ids, scope=[], state__in=[RunState.QUEUED, RunState.RUNNING]
        )
        .only("brand_id", "flow", "full", "state", "read", "total")
        .order_by("brand_id", "queued_at", "pk")
    )
    lines: dict[int, list[str]] = {}
    for run in runs:
        cls = REGISTRY.get(run.flow)
        label, noun = (cls.label, cls.noun) if cls else (run.flow, "records")
        what = "full sync" if run.full else "catching up"
        if run.state == RunState.QUEUED and not run.read:
            done = "waiting to start"
        elif run.total is not None:
            # The source's total can fall short of what a run reads (records added since).
            done = f"{run.read:,} of {max(run.total, run.read):,} {noun}"
        else:
            done = f"{run.read:,} {noun} so far"
        lines.setdefault(run.brand_id, []).append(f"{label}: {what}, {done}")
    return lines


def api_calls_last_hour(*, brand_ids: list[int]) -> dict[int, list[str]]:
    """Per brand, one line per vendor it called in the last hour, split between events
    (webhooks, retries, pages) and bulk work: "Brightpearl, last hour: 120 calls for
    events, 3,400 for bulk work". One query."""
    return {
        brand_id: [
            f"{VENDOR_NAMES.get(row.system, row.system)}, last hour: "
            f"{row.events:,} call{pluralize(row.events)} for events, "
            f"{row.bulk:,} for bulk work"
            for row in rows
        ]
        for brand_id, rows in budget_usage_last_hour(brand_ids=brand_ids).items()
    }

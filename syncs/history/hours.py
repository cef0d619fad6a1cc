"""FlowHour, filled a little each minute from what is new: never a scan of all the runs.

- Runs: the hours in which runs finished since the last pass are counted again in full,
  from the runs that finished in them (found by the `run_finished` index). Counting an hour
  again, rather than adding to it, means a pass that is repeated or overlaps changes
  nothing. A run counts in the hour it finished.
- Tickets: each raise or reopen counts as opened, each resolve (by a person or by itself)
  or ignore as closed, in the hour it happened. Ticket events are never changed once
  written, so they are read once each, in order of id, and added.
- Lag: each minute, the lag of every switched-on flow (syncs/overview.py's definition, the
  one the overview shows) is sampled, and the hour keeps the longest. A row is written for
  each switched-on flow every hour, so a row's presence also says the flow was on then
  (the silence check's baseline counts only such weeks).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncHour

from brands.models import Brand
from exceptions.models import EventKind, TicketEvent
from syncs.history.marks import BACKFILL, HOUR, MARGIN, hour_floor, mark_locked
from syncs.history.models import FlowHour
from syncs.models import FlowConfig, RunState, SyncRun
from syncs.overview import flow_lags

RUN_COLUMNS = ["runs", "read", "written", "waiting", "failed", "api_calls", "throttle_waits"]
# A run sent back to the queue for a later attempt has a finish time but is not finished.
FINISHED = [RunState.SUCCEEDED, RunState.PARTIAL, RunState.FAILED]
OPENED = [EventKind.RAISED, EventKind.REOPENED]
CLOSED = [EventKind.RESOLVED, EventKind.AUTO_RESOLVED, EventKind.IGNORED]
# Ticket events read per pass at most; the rest wait for the next minute.
EVENTS_PER_PASS = 20_000
# Hours older than this are deleted (the charts show 30 days, the silence check 4 weeks).
KEEP = timedelta(days=getattr(settings, "HISTORY_KEEP_DAYS", 62))

Key = tuple[int, str, datetime]


def flow_hours_from_runs(*, now: datetime) -> int:
    """Count again every hour in which a run finished since the last pass. Returns how many
    hours of flows were written."""
    with transaction.atomic():
        mark = mark_locked("runs")
        start = hour_floor((mark.at or now - BACKFILL) - MARGIN)
        sums = (
            SyncRun.objects.filter(finished_at__gte=start, finished_at__lt=now, state__in=FINISHED)
            .annotate(at=TruncHour("finished_at", tzinfo=UTC))
            .values("brand_id", "flow", "at")
            .annotate(
                n=Count("id"),
                s_read=Sum("read"),
                s_written=Sum("written"),
                s_waiting=Sum("waiting"),
                s_failed=Sum("failed"),
                s_calls=Sum("api_calls"),
                s_waits=Sum("throttle_waits"),
            )
        )
        rows = [
            FlowHour(
                brand_id=row["brand_id"],
                flow=row["flow"],
                hour=row["at"],
                runs=row["n"],
                read=row["s_read"] or 0,
                written=row["s_written"] or 0,
                waiting=row["s_waiting"] or 0,
                failed=row["s_failed"] or 0,
                api_calls=row["s_calls"] or 0,
                throttle_waits=row["s_waits"] or 0,
            )
            for row in sums
        ]
        _upsert(rows, RUN_COLUMNS)
        mark.at = now
        mark.save(update_fields=["at"])
    return len(rows)


def flow_hours_from_tickets(*, now: datetime) -> int:
    """Add the ticket events written since the last pass. Returns how many were counted."""
    with transaction.atomic():
        mark = mark_locked("tickets")
        if not mark.last_id and mark.at is None:
            # The first pass: start from the first event of the backfill period.
            first = (
                TicketEvent.objects.filter(created__gte=now - BACKFILL)
                .order_by("pk")
                .values_list("pk", flat=True)
                .first()
            )
            mark.last_id = first - 1 if first is not None else _last_event_id()
        cutoff = now - MARGIN
        counts: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
        last = mark.last_id
        events = (
            TicketEvent.objects.filter(pk__gt=mark.last_id, kind__in=OPENED + CLOSED)
            .order_by("pk")
            .values_list("pk", "created", "kind", "ticket__brand_id", "ticket__flow")
        )
        counted = 0
        for pk, created, kind, brand_id, flow in events[:EVENTS_PER_PASS]:
            if created >= cutoff:
                # Not yet settled: an event with a smaller id may still be committed. Stop
                # here; the next pass starts from this one.
                break
            counts[(brand_id, flow or "", hour_floor(created))][0 if kind in OPENED else 1] += 1
            last = pk
            counted += 1
        if counts:
            existing = _existing(counts, ["tickets_opened", "tickets_closed"])
            rows = []
            for (brand_id, flow, hour), (opened, closed) in counts.items():
                before = existing.get((brand_id, flow, hour), (0, 0))
                rows.append(
                    FlowHour(
                        brand_id=brand_id,
                        flow=flow,
                        hour=hour,
                        tickets_opened=before[0] + opened,
                        tickets_closed=before[1] + closed,
                    )
                )
            _upsert(rows, ["tickets_opened", "tickets_closed"])
        mark.last_id = last
        mark.at = now
        mark.save(update_fields=["last_id", "at"])
    return counted


def _last_event_id() -> int:
    return TicketEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def flow_lags_sample(*, now: datetime) -> int:
    """Sample the lag of every switched-on flow of the active brands; each hour keeps its
    longest. Two queries per brand (flow_lags). Returns how many flows were sampled."""
    configs: dict[int, list[FlowConfig]] = defaultdict(list)
    for config in FlowConfig.objects.filter(enabled=True, brand__active=True):
        configs[config.brand_id].append(config)
    if not configs:
        return 0
    hour = hour_floor(now)
    samples: dict[Key, int | None] = {}
    for brand_id, brand_configs in configs.items():
        for flow, age in flow_lags(brand_id, brand_configs, now).items():
            seconds = int(age.total_seconds()) if age is not None else None
            samples[(brand_id, flow, hour)] = seconds
    with transaction.atomic():
        mark_locked("lags")
        existing = _existing(samples, ["lag_seconds_max"])
        rows = []
        for (brand_id, flow, at), seconds in samples.items():
            kept = existing.get((brand_id, flow, at), (None,))[0]
            known = [v for v in (kept, seconds) if v is not None]
            rows.append(
                FlowHour(
                    brand_id=brand_id,
                    flow=flow,
                    hour=at,
                    lag_seconds_max=max(known) if known else None,
                )
            )
        _upsert(rows, ["lag_seconds_max"])
    return len(rows)


def flow_hours_prune(*, now: datetime) -> int:
    """Delete the hours the pages and checks no longer read; once an hour."""
    with transaction.atomic():
        mark = mark_locked("prune")
        if mark.at is not None and now - mark.at < HOUR:
            return 0
        mark.at = now
        mark.save(update_fields=["at"])
    brands = Brand.objects.values_list("pk", flat=True)
    # By brand, so the (brand, hour) index finds them.
    deleted, _ = FlowHour.objects.filter(brand_id__in=list(brands), hour__lt=now - KEEP).delete()
    return deleted


def _existing(keys, columns: list[str]) -> dict[Key, tuple]:
    """The current values of some columns for these (brand, flow, hour) keys: one query."""
    brands = {k[0] for k in keys}
    hours = {k[2] for k in keys}
    found = FlowHour.objects.filter(brand_id__in=brands, hour__in=hours).values_list(
        "brand_id", "flow", "hour", *columns
    )
    wanted = set(keys)
    return {
        (b, f, h.astimezone(UTC)): tuple(values)
        for b, f, h, *values in found
        if (b, f, h.astimezone(UTC)) in wanted
    }


def _upsert(rows: list[FlowHour], columns: list[str]) -> None:
    """Insert the rows, or set these columns of the rows that exist (the others keep their
    values): one statement per few hundred rows on SQLite and PostgreSQL alike."""
    if rows:
        FlowHour.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["brand", "flow", "hour"],
            update_fields=columns,
            batch_size=500,
        )

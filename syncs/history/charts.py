"""What the charts show, read from the pre-aggregated tables only (FlowHour, DriftCheck).

One brand, or one of its flows, over 24 hours or 7 days (an hour a point) or 30 days (a day
a point, in the brand's time zone). A brand's figures add its flows together; its lag is
the longest of any flow's.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from brands.models import Brand
from syncs.history.marks import HOUR, hour_floor, vendor_label
from syncs.history.models import DriftCheck, FlowHour


@dataclass(frozen=True)
class Span:
    code: str
    label: str
    length: timedelta
    daily: bool


SPANS = {
    s.code: s
    for s in (
        Span("24h", "Last 24 hours", timedelta(hours=24), daily=False),
        Span("7d", "Last 7 days", timedelta(days=7), daily=False),
        Span("30d", "Last 30 days", timedelta(days=30), daily=True),
    )
}
DEFAULT_SPAN = "24h"
SUMMED = ["written", "held", "read", "api_calls", "throttle_waits", "opened", "closed"]
# The drift trend always covers this long: one check a day gives a point a day.
DRIFT_DAYS = 30


def chart_data(
    *, brand: Brand, flow: str = "", span: str = DEFAULT_SPAN, now: datetime | None = None
) -> dict[str, Any]:
    """The charts' JSON: labels, one list per series, totals, and the drift trend."""
    now = now or timezone.now()
    chosen = SPANS[span]
    tz = zoneinfo.ZoneInfo(brand.timezone)
    end = hour_floor(now) + HOUR  # the hour now under way is the last point
    start = end - chosen.length
    rows = FlowHour.objects.filter(brand=brand, hour__gte=start, hour__lt=end)
    if flow:
        rows = rows.filter(flow=flow)
    if chosen.daily:
        first = start.astimezone(tz).date()
        last = (end - timedelta(microseconds=1)).astimezone(tz).date()
        keys: list[Any] = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        labels = [f"{d:%a} {d.day} {d:%b}" for d in keys]
    else:
        keys = [start + HOUR * n for n in range(int(chosen.length / HOUR))]
        labels = [
            _hour_label(k.astimezone(tz), days=chosen.length > timedelta(days=1)) for k in keys
        ]
    index = {k: i for i, k in enumerate(keys)}
    series: dict[str, list] = {name: [0] * len(keys) for name in SUMMED}
    lag: list[float | None] = [None] * len(keys)
    for row in rows.values_list(
        "hour",
        "written",
        "waiting",
        "failed",
        "read",
        "api_calls",
        "throttle_waits",
        "tickets_opened",
        "tickets_closed",
        "lag_seconds_max",
    ):
        at, written, waiting, failed, read, calls, waits, opened, closed, lag_s = row
        key: Any = at.astimezone(tz).date() if chosen.daily else at
        i = index.get(key)
        if i is None:
            continue
        for name, value in zip(
            SUMMED, (written, waiting + failed, read, calls, waits, opened, closed), strict=True
        ):
            series[name][i] += value
        if lag_s is not None:
            minutes = round(lag_s / 60, 1)
            lag[i] = minutes if lag[i] is None else max(lag[i], minutes)
    known_lags = [v for v in lag if v is not None]
    return {
        "brand": brand.slug,
        "flow": flow,
        "span": chosen.code,
        "span_label": chosen.label,
        "bucket": "day" if chosen.daily else "hour",
        "timezone": brand.timezone,
        "labels": labels,
        "series": {**series, "lag_minutes": lag},
        "totals": {
            **{name: sum(values) for name, values in series.items()},
            "lag_minutes_max": max(known_lags) if known_lags else None,
        },
        "drift": drift_trend(brand=brand, flow=flow, now=now),
    }


def _hour_label(local: datetime, *, days: bool) -> str:
    return f"{local:%a %H:%M}" if days else f"{local:%H:%M}"


def drift_trend(*, brand: Brand, flow: str = "", now: datetime) -> dict[str, Any]:
    """Each day's daily checks: the records found out of date, one series per target."""
    tz = zoneinfo.ZoneInfo(brand.timezone)
    checks = DriftCheck.objects.filter(
        brand=brand, checked_at__gte=now - timedelta(days=DRIFT_DAYS), first_load=False
    )
    if flow:
        checks = checks.filter(flow=flow)
    by_day: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    days: set[date] = set()
    for target, at, drifted in checks.values_list("target", "checked_at", "drifted"):
        day = at.astimezone(tz).date()
        by_day[target][day] += drifted
        days.add(day)
    ordered = sorted(days)
    return {
        "labels": [f"{d:%a} {d.day} {d:%b}" for d in ordered],
        "datasets": [
            {
                "target": target,
                "label": vendor_label(target),
                "data": [per.get(d, 0) for d in ordered],
            }
            for target, per in sorted(by_day.items())
        ],
    }

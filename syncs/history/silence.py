"""Silence: a flow far below its own normal for this hour of the week, though nothing failed.

Once an hour (five minutes after the hour turns), for each switched-on flow of each
active brand, the records it sent to its target (FlowHour.written) in the last
SILENCE_HOURS full hours are compared with the same hours of the week (in the brand's own
time zone) in each of the 4 weeks before. "Usually" is the median of those weeks, so one
odd week (a sale, a holiday) does not move it.

The flow is **silent** when it sent less than SILENCE_FRACTION of usual. It is judged only
with a baseline: at least SILENCE_MIN_WEEKS of the 4 weeks on record (the flow was switched
on then: FlowHour has a row for every switched-on flow every hour) and a usual volume of at
least SILENCE_MIN_USUAL records, so a new brand, a new flow or a quiet night never alarms.

A silent flow gets one ticket for ops (it counts a repeat each hour it stays silent). It
resolves itself once the flow sends at least that fraction of usual again: checked every
minute over the last full hour and the hour so far, so ops hear soon after volume returns.
"""

from __future__ import annotations

import statistics
import zoneinfo
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from exceptions.models import OPEN_STATUSES, Ticket
from exceptions.services import ticket_raise, tickets_autoresolve
from syncs.flows import REGISTRY
from syncs.history.marks import HOUR, hour_floor, mark_locked, vendor_label
from syncs.history.models import FlowHour
from syncs.models import FlowConfig

SILENCE_HOURS = getattr(settings, "SILENCE_HOURS", 2)
SILENCE_WEEKS = 4
SILENCE_MIN_WEEKS = getattr(settings, "SILENCE_MIN_WEEKS", 3)
SILENCE_MIN_USUAL = getattr(settings, "SILENCE_MIN_USUAL", 10)
SILENCE_FRACTION = getattr(settings, "SILENCE_FRACTION", 0.2)
# An hour is judged a few minutes after it ends, once its last runs are counted (hours.py
# reads a little back for runs whose finish is committed late).
SETTLE = timedelta(minutes=5)


def silence_source_id(flow: str) -> str:
    """The ticket's key: one per brand and flow (a colon marks it as naming no record)."""
    return f"silence:{flow}"


def silence_check(*, now: datetime) -> dict[str, int]:
    """The hourly judgement (once per hour) and the minute's look for volume returning."""
    report = {"silent": 0, "resolved": 0}
    hour = hour_floor(now - SETTLE)
    with transaction.atomic():
        mark = mark_locked("silence")
        if mark.at is None or mark.at < hour:
            report["silent"], report["resolved"] = flows_judge(hour=hour)
            mark.at = hour
            mark.save(update_fields=["at"])
    report["resolved"] += silences_lifted(now=now)
    return report


def windows(hour: datetime, tz: zoneinfo.ZoneInfo) -> list[list[datetime]]:
    """The hours judged (first) and the same hours of the week in each week before, in the
    brand's local time (a week across a clock change is still the same wall-clock hours)."""
    local = hour.astimezone(tz)
    ends = [hour] + [
        hour_floor((local - timedelta(weeks=k)).astimezone(UTC))
        for k in range(1, SILENCE_WEEKS + 1)
    ]
    return [[end - HOUR * n for n in range(SILENCE_HOURS, 0, -1)] for end in ends]


def flows_judge(*, hour: datetime) -> tuple[int, int]:
    """Judge every switched-on flow on the SILENCE_HOURS before `hour`. Returns (silent,
    resolved)."""
    configs = list(
        FlowConfig.objects.filter(enabled=True, brand__active=True, flow__in=list(REGISTRY))
        .select_related("brand")
        .order_by("brand_id", "flow")
    )
    plans = {c.pk: windows(hour, zoneinfo.ZoneInfo(c.brand.timezone)) for c in configs}
    wanted = {h for plan in plans.values() for window in plan for h in window}
    sent: dict[tuple[int, str, datetime], int] = {}
    for brand_id, flow, at, written in FlowHour.objects.filter(
        brand_id__in={c.brand_id for c in configs}, hour__in=wanted
    ).values_list("brand_id", "flow", "hour", "written"):
        sent[(brand_id, flow, at.astimezone(UTC))] = written
    silent = resolved = 0
    for config in configs:
        volumes = [
            _volume([sent.get((config.brand_id, config.flow, h)) for h in window])
            for window in plans[config.pk]
        ]
        now_sent, weeks = volumes[0], [v for v in volumes[1:] if v is not None]
        if now_sent is None or len(weeks) < SILENCE_MIN_WEEKS:
            continue  # not sampled now (no sweeper), or no baseline yet
        usual = round(statistics.median(weeks))
        if usual < SILENCE_MIN_USUAL:
            continue  # too quiet at this hour to tell silence from chance
        if now_sent < usual * SILENCE_FRACTION:
            _raise(config, hour=hour, sent=now_sent, usual=usual, weeks=weeks)
            silent += 1
        else:
            resolved += _lift(
                config.brand_id,
                config.flow,
                f"{now_sent} sent in the last {SILENCE_HOURS} h (usually {usual}).",
            )
    return silent, resolved


def _volume(hours: list[int | None]) -> int | None:
    """The records sent in a window's hours; None when the flow has no row in any of them
    (it was not switched on then, so the window says nothing)."""
    known = [n for n in hours if n is not None]
    return sum(known) if known else None


def _raise(config: FlowConfig, *, hour: datetime, sent: int, usual: int, weeks: list) -> None:
    flow = REGISTRY[config.flow]
    tz = zoneinfo.ZoneInfo(config.brand.timezone)
    start = timezone.localtime(hour - HOUR * SILENCE_HOURS, timezone=tz)
    end = timezone.localtime(hour, timezone=tz)
    target = vendor_label(flow.target)
    noun = flow.noun if sent != 1 else flow.noun[:-1]
    ticket_raise(
        brand=config.brand_id,
        type_code="silent_flow",
        flow=config.flow,
        title=f"{flow.label}: {sent} {noun} in {SILENCE_HOURS} h; usually {usual}",
        source_system="console",
        source_id=silence_source_id(config.flow),
        snapshot={
            "from": start.isoformat(),
            "to": end.isoformat(),
            "sent": sent,
            "usual": usual,
            "weeks": weeks,
            "enough": _enough(usual),
        },
        error_message=(
            f"From {start:%H:%M} to {end:%H:%M} ({config.brand.timezone}) {sent} {noun} went "
            f"to {target}. At the same hours of the week over the last {len(weeks)} weeks it "
            f"was {', '.join(str(w) for w in weeks)}: usually {usual}. No run failed and no "
            "record was refused."
        ),
    )


def _enough(usual: int) -> int:
    """How many records in the window count as volume returning."""
    return max(1, int(usual * SILENCE_FRACTION + 0.999))


def _lift(brand_id: int, flow: str, note: str) -> int:
    return tickets_autoresolve(
        brand=brand_id,
        source_system="console",
        source_ids=[silence_source_id(flow)],
        type_codes=["silent_flow"],
        note=f"Volume has returned: {note}",
    )


def silences_lifted(*, now: datetime) -> int:
    """Each minute: resolve a silent flow's ticket as soon as enough records went through
    in the last full hour and the hour so far, or when the flow was switched off."""
    open_tickets = list(
        Ticket.objects.filter(
            type__code="silent_flow", status__in=OPEN_STATUSES, source_system="console"
        ).values_list("brand_id", "flow", "snapshot", "brand__timezone")
    )
    if not open_tickets:
        return 0
    since = hour_floor(now) - HOUR * (SILENCE_HOURS - 1)
    sent: dict[tuple[int, str], int] = defaultdict(int)
    for brand_id, flow, written in FlowHour.objects.filter(
        brand_id__in={t[0] for t in open_tickets}, hour__gte=since
    ).values_list("brand_id", "flow", "written"):
        sent[(brand_id, flow)] += written
    enabled = set(
        FlowConfig.objects.filter(
            brand_id__in={t[0] for t in open_tickets}, enabled=True
        ).values_list("brand_id", "flow")
    )
    resolved = 0
    for brand_id, flow, snapshot, tz in open_tickets:
        enough = (snapshot or {}).get("enough", 1)
        count = sent[(brand_id, flow)]
        if (brand_id, flow) not in enabled:
            resolved += tickets_autoresolve(
                brand=brand_id,
                source_system="console",
                source_ids=[silence_source_id(flow)],
                type_codes=["silent_flow"],
                note="The flow was switched off, so its volume is no longer watched.",
            )
        elif count >= enough:
            noun = REGISTRY[flow].noun if flow in REGISTRY else "records"
            local = timezone.localtime(since, timezone=zoneinfo.ZoneInfo(tz))
            resolved += _lift(brand_id, flow, f"{count} {noun} sent since {local:%H:%M}.")
    return resolved

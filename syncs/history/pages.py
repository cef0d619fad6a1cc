"""What the brand and flow history pages show besides the charts (read-only selectors)."""

from __future__ import annotations

from typing import Any

from brands.models import Brand
from exceptions.models import OPEN_STATUSES, Ticket
from syncs.flows import REGISTRY
from syncs.history import silence
from syncs.history.marks import vendor_label
from syncs.history.models import DriftCheck
from syncs.models import FlowConfig, SyncRun

WATCH_TYPES = ("silent_flow", "drift_found")
RUNS_PER_PAGE = 25


def history_flows(brand: Brand) -> list[dict[str, Any]]:
    """Every registered flow of the brand: switched on or not, and its open watch tickets
    (gone quiet, drift found). Two queries."""
    configs = {c.flow: c for c in FlowConfig.objects.filter(brand=brand)}
    watch: dict[str, list[Ticket]] = {}
    for ticket in Ticket.objects.filter(
        brand=brand, type__code__in=WATCH_TYPES, status__in=OPEN_STATUSES
    ).select_related("type"):
        watch.setdefault(ticket.flow, []).append(ticket)
    return [
        {
            "code": code,
            "label": cls.label,
            "description": cls.description,
            "route": f"{vendor_label(cls.source)} → {vendor_label(cls.target)}",
            "enabled": bool(configs.get(code) and configs[code].enabled),
            "tickets": watch.get(code, []),
        }
        for code, cls in REGISTRY.items()
    ]


def drift_checks(brand: Brand, flow: str = "", limit: int = 10) -> list[dict[str, Any]]:
    """The latest daily checks, newest first, in words the page can show."""
    checks = DriftCheck.objects.filter(brand=brand)
    if flow:
        checks = checks.filter(flow=flow)
    rows = []
    for check in checks.order_by("-checked_at", "-pk")[:limit]:
        cls = REGISTRY.get(check.flow)
        rows.append(
            {
                "check": check,
                "flow_label": cls.label if cls else check.flow,
                "noun": cls.noun if cls else "records",
                "target_label": vendor_label(check.target),
                "source_label": vendor_label(cls.source) if cls else "the source",
                "more": max(check.drifted - len(check.ids[:20]), 0),
            }
        )
    return rows


def silence_rules() -> dict[str, Any]:
    """The silence check's thresholds, for the sentence that explains it."""
    return {
        "hours": silence.SILENCE_HOURS,
        "weeks": silence.SILENCE_WEEKS,
        "min_weeks": silence.SILENCE_MIN_WEEKS,
        "min_usual": silence.SILENCE_MIN_USUAL,
        "percent": round(silence.SILENCE_FRACTION * 100),
    }


def runs_for(brand: Brand):
    """The brand's runs, newest first, without the columns only the engine reads."""
    return (
        SyncRun.objects.filter(brand=brand)
        .defer("resume", "in_flight")
        .order_by("-queued_at", "-pk")
    )

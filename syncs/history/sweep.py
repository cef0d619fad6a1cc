"""The history's share of the sweeper's minute (syncs/sweeper.py calls `history_sweep`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.utils import timezone

from syncs.history.drift import drift_checks_record
from syncs.history.hours import (
    flow_hours_from_runs,
    flow_hours_from_tickets,
    flow_hours_prune,
    flow_lags_sample,
)
from syncs.history.silence import silence_check

logger = logging.getLogger("syncs")


def history_sweep(*, now: datetime | None = None) -> dict[str, Any]:
    """Fill the hours table, record the daily checks' drift and judge silence.

    Each part stands alone: one that fails is logged and tried again next minute (its mark
    has not moved), and never stops the others or the sweeper's own work, which is the
    safety net under every run."""
    now = now or timezone.now()
    parts: dict[str, Callable[[], Any]] = {
        "hours": lambda: flow_hours_from_runs(now=now),
        "ticket_events": lambda: flow_hours_from_tickets(now=now),
        "lags": lambda: flow_lags_sample(now=now),
        "drift_checks": lambda: drift_checks_record(now=now),
        # After the hours: the hour just ended is complete before it is judged.
        "silence": lambda: silence_check(now=now),
        "pruned": lambda: flow_hours_prune(now=now),
    }
    report: dict[str, Any] = {}
    for name, part in parts.items():
        try:
            report[name] = part()
        except Exception:
            logger.exception("history: %s failed; it is tried again next minute", name)
            report[name] = "failed"
    return report

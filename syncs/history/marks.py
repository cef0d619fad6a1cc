"""Small shared pieces: the hour a moment falls in, vendor names, and the marks that say
how far each part of the minute job has read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings

from connectors.registry import REGISTRY as VENDORS
from syncs.history.models import HistoryMark

HOUR = timedelta(hours=1)
# A run's finish, or a ticket's event, is committed a moment after the time written on it:
# each pass reads this far back again, so nothing committed late is missed.
MARGIN = timedelta(minutes=2)
# The first pass (a new install, or the table emptied) reads this far back.
BACKFILL = timedelta(days=getattr(settings, "HISTORY_BACKFILL_DAYS", 30))


def hour_floor(moment: datetime) -> datetime:
    """The start of the UTC hour a moment falls in."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def vendor_label(system: str) -> str:
    cls = VENDORS.get(system)
    return cls.label if cls else system.title()


def mark_locked(name: str) -> HistoryMark:
    """The named mark, locked until the caller's transaction ends: two sweeps overlapping
    (a slow minute) take turns instead of counting the same events twice."""
    HistoryMark.objects.get_or_create(name=name)
    return HistoryMark.objects.select_for_update().get(name=name)

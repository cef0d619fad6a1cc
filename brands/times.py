"""Times as a brand's people read them: in the brand's own time zone, on a 24-hour clock,
and relative to today ("today 12:38", "yesterday 09:10", "3 Dec 14:02").

Here, in the bottom layer, because every page that shows a brand's time needs it and every
app may import brands. The template filters are in brands/templatetags/brand_time.py.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.utils import timezone
from django.utils.dateformat import format as date_format


@lru_cache(maxsize=256)
def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def zone_of(where: object = None) -> zoneinfo.ZoneInfo:
    """The time zone of a brand, or of a zone name; the console's own (settings.TIME_ZONE)
    for anything else. A brand saved with a name this machine does not know (its tz data is
    older) falls back too: a page must show a time, not fail."""
    name = getattr(where, "timezone", where)
    if isinstance(name, str) and name:
        found = _zone(name)
        if found is not None:
            return found
    return _zone(settings.TIME_ZONE) or zoneinfo.ZoneInfo("UTC")


def readable_time(value: datetime, where: object = None, *, now: datetime | None = None) -> str:
    """'today 12:38', 'yesterday 09:10', 'tomorrow 08:00', '3 Dec 14:02', or with the year
    when it is not this year's ('3 Dec 2025, 14:02'). Days are the brand's calendar days, so
    '23:30 yesterday' in London stays yesterday across a change of the clocks."""
    zone = zone_of(where)
    local = _local(value, zone)
    today = _local(now or timezone.now(), zone).date()
    clock = f"{local:%H:%M}"
    day = _day_word(local.date(), today)
    if day:
        return f"{day} {clock}"
    if local.year == today.year:
        return f"{date_format(local, 'j M')} {clock}"
    return f"{date_format(local, 'j M Y')}, {clock}"


def full_time(value: datetime, where: object = None) -> str:
    """Every part, for a tooltip: 'Thursday 3 December 2026, 14:02 GMT (Europe/London)'."""
    zone = zone_of(where)
    local = _local(value, zone)
    return f"{date_format(local, 'l j F Y')}, {local:%H:%M} {local.tzname()} ({zone.key})"


def age(value: datetime, *, now: datetime | None = None) -> str:
    """How long ago, in its largest unit: 'just now', '5 min', '3 h', '4 days', '5 weeks'."""
    minutes = max(0, int(((now or timezone.now()) - value).total_seconds())) // 60
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h"
    days = hours // 24
    return f"{days} days" if days < 14 else f"{days // 7} weeks"


def duration(value: timedelta) -> str:
    """A duration in the largest sensible units: '40 s', '3 min', '2 h 5 min', '4 days'."""
    seconds = max(int(value.total_seconds()), 0)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


def ago(value: datetime, *, now: datetime | None = None) -> str:
    """'just now', '5 min ago', '2 days ago'."""
    text = age(value, now=now)
    return text if text == "just now" else f"{text} ago"


def _local(value: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    if timezone.is_naive(value):
        # A naive time is the console's own (USE_TZ stores aware ones; this is a stray).
        value = timezone.make_aware(value, zone_of(None))
    return value.astimezone(zone)


def _day_word(day: date, today: date) -> str:
    return {
        today: "today",
        today - timedelta(days=1): "yesterday",
        today + timedelta(days=1): "tomorrow",
    }.get(day, "")

"""Display helpers for the history pages: times as people say them, in the brand's zone.

Wrap the page in `{% timezone brand.timezone %}`: `when` then shows "today 12:38",
"yesterday 09:05", "Mon 3 Mar 14:00" or "3 Mar 2025 14:00" in the brand's local time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def when(value: datetime | None, now: datetime | None = None) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value)
    today = timezone.localtime(now or timezone.now()).date()
    clock = f"{local:%H:%M}"
    if local.date() == today:
        return f"today {clock}"
    if local.date() == today - timedelta(days=1):
        return f"yesterday {clock}"
    if local.year == today.year:
        return f"{local:%a} {local.day} {local:%b} {clock}"
    return f"{local.day} {local:%b %Y} {clock}"


@register.filter
def first_ids(ids: list, count: int = 20) -> str:
    """A few record ids for a sentence: "1001, 1002, 1003"."""
    return ", ".join(str(i) for i in (ids or [])[:count])

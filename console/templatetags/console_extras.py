from datetime import timedelta

from django import template

register = template.Library()


@register.filter
def timesince_delta(value: timedelta | None) -> str:
    """A duration in the largest sensible units: '3 min', '2 h 5 min', '4 days'."""
    if value is None:
        return ""
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"

from datetime import timedelta

from django import template

from brands.times import duration

register = template.Library()


@register.filter
def timesince_delta(value: timedelta | None) -> str:
    """A duration in the largest sensible units: '3 min', '2 h 5 min', '4 days'."""
    return "" if value is None else duration(value)

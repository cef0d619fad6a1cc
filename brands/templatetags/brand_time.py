"""Template filters for a brand's times, loaded on every page (settings: TEMPLATES builtins).

    {{ ticket.last_seen|brand_time:ticket.brand }}       <time …>today 12:38</time>
    {{ ticket.last_seen|brand_time_text:ticket.brand }}  today 12:38
    {{ ticket.first_seen|age }}                           3 days
    {{ ticket.first_seen|ago }}                           3 days ago

The argument is a Brand or a zone name; without one, the console's own zone.
"""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils.html import format_html

from brands.times import age as _age
from brands.times import ago as _ago
from brands.times import full_time, readable_time

register = template.Library()


@register.filter
def brand_time(value: datetime | None, where: object = None) -> str:
    """A <time> element: the readable time, with the full date and zone on hover."""
    if not isinstance(value, datetime):
        return ""
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        full_time(value, where),
        readable_time(value, where),
    )


@register.filter
def brand_time_text(value: datetime | None, where: object = None) -> str:
    """The readable time alone, for places where an element cannot go (a title, an e-mail)."""
    return readable_time(value, where) if isinstance(value, datetime) else ""


@register.filter
def age(value: datetime | None) -> str:
    """How long ago, in one unit ('5 min', '3 h', '2 days')."""
    return _age(value) if isinstance(value, datetime) else ""


@register.filter
def ago(value: datetime | None) -> str:
    """How long ago, in words ('just now', '5 min ago')."""
    return _ago(value) if isinstance(value, datetime) else ""

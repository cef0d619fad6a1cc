"""Small display helpers for the ticket pages and the digest."""

from __future__ import annotations

from django import template

from exceptions import words
from exceptions.hooks import flow_label

register = template.Library()


@register.filter
def system_name(code: str) -> str:
    """A source system's name as people write it."""
    return words.system_name(code)


@register.filter
def person(user) -> str:
    """A person by name, falling back to their username; “the console” for no one."""
    if user is None:
        return "the console"
    return user.get_full_name() or user.get_username()


@register.filter
def flow_name(code: str) -> str:
    return flow_label(code)

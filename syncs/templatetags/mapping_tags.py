"""Words for the mappings pages."""

from __future__ import annotations

from django import template

from syncs.mappings import describe

register = template.Library()


@register.filter
def change_before(entry) -> str:
    return describe(entry.kind, entry.before)


@register.filter
def change_after(entry) -> str:
    return describe(entry.kind, entry.after)


@register.filter
def money(amounts) -> str:
    """[(currency, Decimal)] → “1,234.50 GBP, 20.00 EUR”; “nothing” when empty."""
    parts = [f"{value:,.2f} {currency}".strip() for currency, value in amounts]
    return ", ".join(parts) or "nothing"


@register.filter
def signed_money(amounts) -> str:
    parts = [
        f"{'+' if value > 0 else '−'}{abs(value):,.2f} {currency}" for currency, value in amounts
    ]
    return ", ".join(parts) or "no change"


@register.filter
def attribute_value(value) -> str:
    if value is None:
        return "cleared"
    if value == "(not sent)":
        return "not sent"
    if value is True:
        return "true"
    return f"“{value}”"


@register.filter
def get_item(mapping, key):
    return mapping.get(key, "") if hasattr(mapping, "get") else ""

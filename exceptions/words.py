"""Small pieces of plain English shared by the ticket pages: systems' names, counts, lists
of ids and amounts of money, written as people write them."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

SYSTEMS = {
    "brightpearl": "Brightpearl",
    "ometria": "Ometria",
    "mailchimp": "Mailchimp",
    "salesforce": "Salesforce",
    "bigcommerce": "BigCommerce",
    "console": "The console (the flow as a whole)",
    "email": "E-mail address",
}
# Vendors as the subject of a sentence ("Ometria refused …"); the console is not one.
VENDORS = {k: v for k, v in SYSTEMS.items() if k not in ("console", "email")}
CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "AUD": "A$", "CAD": "C$", "NZD": "NZ$"}
# A phone shows this many ids of a list; the count says how many more there are.
IDS_SHOWN = 20


def system_name(code: str) -> str:
    """A system's name as people write it."""
    return SYSTEMS.get(code, code.replace("_", " ").title() if code else "")


def vendor_name(code: str, default: str = "The target system") -> str:
    return VENDORS.get(code, code.title() if code else default)


def count(n: int, noun: str, plural: str = "") -> str:
    """'1 order', '1,204 orders'."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def joined(items: Iterable[object], total: int | None = None, shown: int = IDS_SHOWN) -> str:
    """'1001, 1002 and 1003'; past `shown`, '… and 480 more'. `total` is the whole list's
    length when the items are the first of a longer list (a ticket keeps the first 500)."""
    items = [str(i) for i in items]
    total = max(total or 0, len(items))
    head = items[:shown]
    more = total - len(head)
    if not head:
        return f"{more:,} not listed" if more else ""
    if more > 0:
        return f"{', '.join(head)} and {more:,} more"
    return head[0] if len(head) == 1 else f"{', '.join(head[:-1])} and {head[-1]}"


def money(value: object, currency: str = "") -> str:
    """'£84.00', '84.00 SEK'; the value as given when it is not a number."""
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return str(value)
    sign = "-" if amount < 0 else ""
    symbol = CURRENCY_SYMBOLS.get(currency.upper()) if currency else None
    if symbol:
        return f"{sign}{symbol}{abs(amount):,.2f}"
    return f"{amount:,.2f} {currency.upper()}".strip()


def duration(minutes: int) -> str:
    """'45 minutes', '1 h 30 min', '3 days'."""
    if minutes < 60:
        return count(minutes, "minute")
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    return count(hours // 24, "day")

"""What a kind of value map is, as a pair package declares it.

A kind says what is translated (from which system's value to which system's), in plain
words for the people who map it, which team owns its tickets, which flows use it, how to
list the values each side knows (when the vendor can tell) and how to check a value. The
editor, the import, the preview and the quarantine all read these declarations: adding a
kind adds no view, form, template or resource.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from brands.models import Brand
from connectors.models import System

# The values a vendor knows, as (value, label) pairs. May raise ConnectorError or
# Connection.DoesNotExist: the caller says the list is unknown and checks the text alone.
Lister = Callable[[Brand], Sequence[tuple[str, str]]]


def system_name(code: str) -> str:
    """A system's name as people write it: “BigCommerce”."""
    return dict(System.choices).get(code, code)


def _whole_number(text: str) -> str | None:
    """“25”, “25.0” and “ 25 ” are the same id; anything else is not one."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or number != number.to_integral_value() or number < 0:
        return None
    if number.adjusted() > 12:
        return None
    return str(int(number))


@dataclass(frozen=True)
class Part:
    """One side of a mapping (its source value, its target) or a further part of a target
    (a nominal code beside a payment method). Knows how to read and check a value."""

    name: str
    # What it is, in words: “BigCommerce payment method”, “Brightpearl nominal code”.
    label: str
    # An example, for an empty field's placeholder and for errors: “such as 1001”.
    example: str = ""
    # The values the vendor knows, read live (cached); None when the vendor cannot tell.
    values: Lister | None = None
    # A fixed list, when the vendor documents one (BigCommerce's order statuses).
    choices: tuple[tuple[str, str], ...] = ()
    # A value not on a known list is refused (a status id that does not exist). Off for
    # lists that are only suggestions (a tag or a field may be named).
    strict: bool = True
    whole_number: bool = False
    max_length: int = 120
    # A regular expression the value must match, and what it means in words.
    pattern: str = ""
    pattern_words: str = ""

    def clean(self, value: object) -> tuple[str, str]:
        """(the value as stored, the problem in words or "")."""
        text = " ".join(str(value if value is not None else "").split())
        if not text:
            return "", ""
        if self.whole_number:
            number = _whole_number(text)
            if number is None:
                return text, (
                    f"“{text}” is not a {self.label}: give its id, a whole number"
                    + (f" {self.example}" if self.example else "")
                    + "."
                )
            text = number
        if len(text) > self.max_length:
            return text, f"The {self.label} is longer than {self.max_length} characters."
        if self.pattern and not re.fullmatch(self.pattern, text):
            return text, f"“{text}” is not a {self.label}: {self.pattern_words}"
        if self.choices and text not in dict(self.choices):
            return text, (
                f"“{text}” is not a {self.label}. Choose one of: "
                + ", ".join(f"{v} ({label})" for v, label in self.choices)
                + "."
            )
        return text, ""

    def check_known(self, value: str, known: Sequence[tuple[str, str]] | None) -> str:
        """The problem with a value the vendor's own list does not have, or ""."""
        if not value or known is None or not self.strict:
            return ""
        names = dict(known)
        if value in names:
            return ""
        shown = "; ".join(f"{v} {n}" if n and n != v else v for v, n in list(known)[:40])
        return f"“{value}” is not a {self.label} of this brand. Its list: {shown or 'empty'}."

    def label_of(self, value: str) -> str:
        """A value in words, from the fixed list: an id with its name, “11 (Awaiting
        Fulfillment)”; a code as its name, “a Mailchimp tag”."""
        name = dict(self.choices).get(value)
        if not name:
            return value
        return f"{value} ({name})" if self.whole_number else name


@dataclass(frozen=True)
class ValueKind:
    """A kind of value map: what translates to what, who owns it, who uses it."""

    code: str
    # The tab's name, in plain words: “Payment methods”.
    label: str
    # One or two sentences for the top of its page: what it decides, what happens unmapped.
    description: str
    source_system: str
    target_system: str
    source: Part
    target: Part
    # The owning team (brands.models.Team) of its unmapped-value tickets.
    team: str
    # The flows (codes) that translate values through it.
    flows: tuple[str, ...] = ()
    # Further parts of a two-part target (a nominal code beside a payment method): each is
    # stored in ValueMap.extra under its name, and all are needed once the target is set.
    extra: tuple[Part, ...] = ()
    # What waits when a value has no mapping: “orders”, “stock levels”.
    noun: str = "records"
    # A check of the whole target (its parts together), returning the problem in words or
    # "": a merge field's tag has a form a Mailchimp tag has not.
    check: Callable[[str, dict[str, str]], str] | None = None

    @property
    def source_label(self) -> str:
        return self.source.label

    @property
    def target_label(self) -> str:
        return self.target.label

    @property
    def parts(self) -> tuple[Part, ...]:
        return (self.target, *self.extra)

    def describe(self, value: dict | None) -> str:
        """A mapping's value in words: “PAYPAL · nominal code 1220”; “not mapped”."""
        if not value or not value.get("target"):
            return "not mapped"
        words = self.target.label_of(str(value["target"]))
        extra = value.get("extra") or {}
        for part in self.extra:
            if extra.get(part.name):
                value = part.label_of(str(extra[part.name]))
                words += f" · {value}" if part.choices else f" · {part.label} {value}"
        return words


@dataclass
class Known:
    """What each side's vendor list says for one brand (None: not listable, or unreachable)."""

    source: list[tuple[str, str]] | None = None
    # "target", and each further part by its name.
    parts: dict[str, list[tuple[str, str]] | None] = field(default_factory=dict)
    # Why a list the kind can read is missing, in words.
    errors: list[str] = field(default_factory=list)

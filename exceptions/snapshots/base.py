"""The registry of snapshot renderers, and the generic one every other type falls back to.

A ticket's `snapshot` is whatever its raiser kept (exceptions.services.ticket_raise). People
read it as a sentence, a few labelled facts and, where it helps, a small table: never JSON.
Each ticket type registers one renderer (exceptions/snapshots/types.py) that names the keys
it understands; any key it does not is still shown, by the generic rules below, so nothing a
raiser adds is ever hidden from the page.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from brands.times import readable_time
from exceptions import words
from exceptions.hooks import flow_label

if TYPE_CHECKING:
    from exceptions.models import Ticket

logger = logging.getLogger(__name__)

# Enough to read on a phone; the rest stays in the raw data (admins' "Details").
MAX_FACTS = 30
MAX_TEXT = 300
# Words kept in capitals when a key is turned into a label.
ACRONYMS = {"id": "id", "ids": "ids", "sku": "SKU", "skus": "SKUs", "url": "URL", "api": "API"}
ACRONYMS |= {"http": "HTTP", "vat": "VAT", "gon": "GON", "utc": "UTC", "crm": "CRM"}


@dataclass
class Table:
    caption: str
    columns: list[str]
    rows: list[list[str]]


@dataclass
class SnapshotView:
    """What the ticket page shows of a snapshot: a sentence, facts (label, value), tables."""

    sentence: str = ""
    facts: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    # True when no renderer of the ticket's type drew it (the generic rules did).
    generic: bool = False

    def __bool__(self) -> bool:
        return bool(self.sentence or self.facts or self.tables)


# A renderer gets the ticket and its (cleaned) snapshot. It returns None when the snapshot is
# not the shape it knows (an old ticket, a changed raiser): the generic rules draw it then.
Renderer = Callable[["Ticket", dict[str, Any]], SnapshotView | None]


@dataclass(frozen=True)
class Registered:
    render: Renderer
    # The snapshot keys the renderer shows; other keys are added as generic facts.
    keys: frozenset[str]


RENDERERS: dict[str, Registered] = {}


def renderer(*codes: str, keys: tuple[str, ...] = ()) -> Callable[[Renderer], Renderer]:
    """Register a renderer for these ticket types, naming the snapshot keys it shows."""

    def register(render: Renderer) -> Renderer:
        for code in codes:
            RENDERERS[code] = Registered(render, frozenset(keys))
        return render

    return register


def render(ticket: Ticket, data: dict[str, Any]) -> SnapshotView:
    """The type's renderer, then the generic rules for whatever it left out (or for all of
    it, if it has none or cannot read this snapshot)."""
    entry = RENDERERS.get(ticket.type.code)
    view = None
    if entry is not None:
        try:
            view = entry.render(ticket, data)
        except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError):
            # The page must still show the data; the log says which ticket to look at.
            logger.warning(
                "ticket %s: its %s snapshot is not the expected shape",
                ticket.pk,
                ticket.type.code,
                exc_info=True,
            )
    if view is None:
        return generic(ticket, data)
    rest = {k: v for k, v in data.items() if k not in entry.keys}
    view.facts += generic(ticket, rest).facts
    view.facts = _capped(view.facts)
    return view


def generic(ticket: Ticket | None, data: dict[str, Any]) -> SnapshotView:
    """Any dict as labelled facts: keys in words, one nested level as 'Parent › child'."""
    facts: list[tuple[str, str]] = []
    for key, value in data.items():
        if _internal(key):
            continue
        label = humanise(key)
        if isinstance(value, dict) and value and not _too_deep(value):
            for inner, item in value.items():
                if not _internal(inner):
                    inner_label = f"{label} › {humanise(inner, capital=False)}"
                    facts.append((inner_label, plain(item, ticket)))
        else:
            facts.append((label, plain(value, ticket)))
    return SnapshotView(facts=_capped(facts), generic=True)


def rows_of(data: dict[str, Any], ticket: Ticket | None = None) -> list[list[str]]:
    """A dict as (field, value) rows for a small table."""
    return [[label, value] for label, value in generic(ticket, data).facts]


def humanise(key: object, *, capital: bool = True) -> str:
    """'waiting_ids' → 'Waiting ids', 'customerGroup' → 'Customer group', '@type' → 'Type'
    (with capital=False, for the second part of a label: 'post code')."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", str(key))
    parts = [p for p in re.split(r"[\s_\-.@]+", text) if p]
    if not parts:
        return str(key)
    named = [ACRONYMS.get(p.lower(), p.lower()) for p in parts]
    first = named[0]
    if capital and not first.isupper():
        named[0] = first[:1].upper() + first[1:]
    return " ".join(named)


def plain(value: Any, ticket: Ticket | None = None) -> str:
    """A value in words: yes/no, '—' for nothing, lists joined, times in the brand's zone."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        if all(not isinstance(v, dict | list | tuple) for v in value):
            return words.joined(plain(v, ticket) for v in value)
        return "; ".join(plain(v, ticket) for v in value[: words.IDS_SHOWN]) + (
            f"; and {len(value) - words.IDS_SHOWN} more" if len(value) > words.IDS_SHOWN else ""
        )
    if isinstance(value, dict):
        return ", ".join(
            f"{humanise(k)}: {plain(v, ticket)}" for k, v in value.items() if not _internal(k)
        )
    text = str(value)
    when = _timestamp(text)
    if when is not None:
        return readable_time(when, ticket.brand if ticket else None)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def as_int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def quoted(value: Any, label: Any = "") -> str:
    """'“Gift wrap” (33)' when the value has a name of its own, else '“33”'."""
    if label and str(label) != str(value):
        return f"“{label}” ({value})"
    return f"“{value}”"


def waiting_facts(by_flow: Any) -> list[tuple[str, str]]:
    """{flow: [ids]} as one fact per flow, by the flow's name."""
    if not isinstance(by_flow, dict):
        return []
    return [
        (f"Waiting in {flow_label(flow) or 'another flow'}", words.joined(ids))
        for flow, ids in by_flow.items()
        if ids
    ]


def _timestamp(text: str) -> datetime | None:
    """An ISO time with its zone ('2026-12-03T10:00:00+00:00'); a bare date or id is not."""
    if "T" not in text or len(text) > 40:
        return None
    try:
        found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo is not None else None


def _internal(key: object) -> bool:
    # The flows' own bookkeeping ("_maps": which mapping rows a payload used).
    return str(key).startswith("_")


def _too_deep(value: dict) -> bool:
    return len(value) > MAX_FACTS or any(isinstance(v, dict) for v in value.values())


def _capped(facts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if len(facts) <= MAX_FACTS:
        return facts
    more = len(facts) - MAX_FACTS + 1
    return [*facts[: MAX_FACTS - 1], ("…", f"{more} more items, kept in the ticket's data")]

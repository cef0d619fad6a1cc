"""Ometria's asynchronous validation, read back: `GET /v2/push/_errors`.

Ometria answers a push "OK" when it has queued the records and checks them later. Its docs
(https://docs.ometria.com/docs/list-errors) say precisely: the call lists "the 100 most recent
push errors", each "an error object [that] contains two fields": `error_message` ("will usually
be the same - i.e. not a valid value") and `error_path`, "the path to the incorrect value found
in the record", e.g. `root > lastname`. The root is the record: the path names a field, not the
record's place in its push, and no item names the record, its type, the push or a time.

So an error is matched to a record by what the console remembers of its own pushes (which
records each carried, and which fields each record had: `push_shape`), by the time it appeared,
and by its path: see syncs/flows/ometria/rejections.py. If an item does name its record (`id`,
`@type`, which some integrations report though the docs show neither), that is used.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.ometria.client import Ometria

# How error paths are written: "root > lastname", "root > lineitems > 0 > quantity" (the
# nested form is the sandbox's guess, in the documented style).
SEPARATOR = " > "
ROOT = "root"
# The depth of the paths remembered for each record: "root > customer > email" and
# "root > lineitems > 0" are kept; a deeper error path is matched by its first two steps.
DEPTH = 2
# An address plainly not one: no "@", a space, nothing before or after it, or no dot after it.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class PushError:
    raw: dict[str, Any]
    # The reason in words: "not a valid value".
    reason: str
    # "root > email"; "root" when the whole record was refused.
    path: str
    # Only when the item names its record (the docs show no such field).
    record_type: str = ""
    record_id: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What tells one listed error from another (two alike are counted, not merged)."""
        return (self.reason, self.path, self.record_type, self.record_id)

    @property
    def field(self) -> str:
        """The field at fault, for a person: "email", "lineitems > 0 > quantity"."""
        steps = self.path.split(SEPARATOR)
        return SEPARATOR.join(steps[1:]) if steps and steps[0] == ROOT else self.path

    @property
    def message(self) -> str:
        return f"{self.field}: {self.reason}" if self.field else self.reason


def push_error(item: dict[str, Any]) -> PushError:
    reason = str(item.get("error_message") or item.get("message") or "Rejected, without a reason.")
    path = SEPARATOR.join(
        step.strip() for step in str(item.get("error_path") or ROOT).split(">") if step.strip()
    )
    return PushError(
        raw=item,
        reason=reason,
        path=path or ROOT,
        record_type=str(item.get("@type") or ""),
        record_id=str(item.get("id") or ""),
    )


def push_errors_read(ometria: Ometria) -> list[PushError]:
    """The errors Ometria lists now (its latest 100; older ones drop off its list)."""
    return [push_error(item) for item in ometria.push_errors() if isinstance(item, dict)]


def new_errors(previous: list[list[str]], now: list[PushError]) -> list[PushError]:
    """The errors listed now that were not listed at the last read: the list holds the most
    recent 100 and no item has an id or a time, so this counts alike items (an error listed
    twice now and once before is new once)."""
    seen = Counter(tuple(k) for k in previous)
    fresh = []
    for error in now:
        if seen[error.key]:
            seen[error.key] -= 1
        else:
            fresh.append(error)
    return fresh


def matchable(path: str) -> str:
    """An error path cut to the depth remembered of each record."""
    return SEPARATOR.join(path.split(SEPARATOR)[: DEPTH + 1])


def record_paths(record: dict[str, Any]) -> set[str]:
    """The paths a record carries, written as Ometria writes error paths, to `DEPTH` steps:
    {"root", "root > email", "root > customer", "root > customer > email", …}."""
    paths = {ROOT}

    def walk(value: Any, prefix: str, depth: int) -> None:
        if depth == DEPTH:
            return
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in items:
            path = f"{prefix}{SEPARATOR}{key}"
            paths.add(path)
            if isinstance(child, dict | list):
                walk(child, path, depth + 1)

    walk({k: v for k, v in record.items() if k != "@type"}, ROOT, 0)
    return paths


def suspect_paths(record: dict[str, Any]) -> set[str]:
    """Paths whose value is plainly not what Ometria takes (an email that is not an address),
    to pick the record out of its push when Ometria's error names only the field."""
    suspects = set()
    customer = record.get("customer") if isinstance(record.get("customer"), dict) else {}
    for path, value in (
        ("root > email", record.get("email")),
        ("root > identity_email", record.get("identity_email")),
        ("root > customer > email", customer.get("email")),
    ):
        if value not in (None, "") and not (isinstance(value, str) and _EMAIL.match(value)):
            suspects.add(path)
    return suspects


def push_shape(records: list[dict[str, Any]]) -> dict[str, Any]:
    """What one push carried, compactly: each path with the indexes of the records that have
    it ("*": all of them), and the paths whose value looked wrong."""
    carried: dict[str, list[int]] = {}
    suspects: dict[str, list[int]] = {}
    for n, record in enumerate(records):
        for path in record_paths(record):
            carried.setdefault(path, []).append(n)
        for path in suspect_paths(record):
            suspects.setdefault(path, []).append(n)
    everyone = len(records)
    return {
        "paths": {p: "*" if len(ix) == everyone else ix for p, ix in carried.items()},
        "suspects": suspects,
    }


def indexes(value: str | list[int], size: int) -> list[int]:
    return list(range(size)) if value == "*" else list(value)

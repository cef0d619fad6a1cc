"""Ometria's asynchronous validation, read back: `GET /v2/push/_errors`.

Ometria answers a push "OK" when it has queued the records, and checks them later; the last
errors are listed at /v2/push/_errors (docs.ometria.com/docs/list-errors). Each item is
read here into a `PushError`: the reason in words, and the record it is about where the
item says so. The documented items carry only `error_message` and `error_path`; some
accounts' items also name the record (`@type`, `id`), and those are used when present.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.ometria.client import Ometria


@dataclass(frozen=True)
class PushError:
    raw: dict[str, Any]
    # A digest of the item, to remember which errors were read already.
    marker: str
    # The reason in words: "email: not a valid value".
    message: str
    # What the item says it is about; empty when it does not say.
    record_type: str
    record_id: str
    code: str


def push_error(item: dict[str, Any]) -> PushError:
    marker = hashlib.sha256(json.dumps(item, sort_keys=True, default=str).encode()).hexdigest()[:24]
    reason = str(
        item.get("error_message")
        or item.get("message")
        or item.get("error")
        or item.get("reason")
        or "Rejected, without a reason."
    )
    # error_path reads "root > email": the field is its last step.
    where = str(item.get("error_path") or "").split(">")[-1].strip()
    return PushError(
        raw=item,
        marker=marker,
        message=f"{where}: {reason}" if where and where != "root" else reason,
        record_type=str(item.get("@type") or item.get("type") or item.get("record_type") or ""),
        record_id=str(item.get("id") or item.get("record_id") or ""),
        code=str(item.get("code", "")),
    )


def push_errors_read(ometria: Ometria) -> list[PushError]:
    """The errors Ometria lists now (its latest; older ones drop off its list)."""
    return [push_error(item) for item in ometria.push_errors() if isinstance(item, dict)]

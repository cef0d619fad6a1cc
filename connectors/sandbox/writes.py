"""A bounded, in-memory log of every write request a vendor received, and what became of it.

One entry per POST/PUT/PATCH/DELETE (as each vendor counts writes: Vendor.is_write), whatever
the answer: applied, refused, throttled, failed by a fault, or dropped unanswered. A chaos test
counts the writes per record with it ("how many times was this order created?"), which the
vendor's own state cannot tell once a duplicate has been merged or refused. It lives in memory
(the newest `write_log_max` entries) and starts empty at every reset: it is about this run.

Listed at GET /_sandbox/state/sandbox/writes?vendor=&method=&path_prefix=&account=&key=&status=.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from typing import Any

from connectors.sandbox.core import iso_ms, utcnow

DEFAULT_MAX = 50_000


class WriteLog:
    def __init__(self, maxlen: int = DEFAULT_MAX) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self._seq = itertools.count(1)
        self._forgotten = 0  # entries pushed out by newer ones since the last reset

    def add(
        self,
        *,
        vendor: str,
        account: str | None,
        method: str,
        path: str,
        status: int | str,
        fault: str | None,
        keys: list[str],
    ) -> None:
        entry = {
            "vendor": vendor,
            "account": account,
            "method": method,
            "path": path,
            "status": status,
            "fault": fault,
            "keys": keys,
            "at": iso_ms(utcnow()),
        }
        with self._lock:
            if len(self._entries) == self._entries.maxlen:
                self._forgotten += 1
            entry["seq"] = next(self._seq)
            self._entries.append(entry)

    def reset(self, maxlen: int | None = None) -> None:
        with self._lock:
            self._entries = deque(maxlen=maxlen or self._entries.maxlen)
            self._seq = itertools.count(1)
            self._forgotten = 0

    def resize(self, maxlen: int) -> None:
        """Keep at most `maxlen` entries from now on (the newest, if there are more)."""
        maxlen = max(int(maxlen), 1)
        with self._lock:
            if maxlen != self._entries.maxlen:
                kept = deque(self._entries, maxlen=maxlen)
                self._forgotten += len(self._entries) - len(kept)
                self._entries = kept

    def query(self, params: dict[str, str], accounts: set[str] | None = None) -> dict[str, Any]:
        """The entries matching every filter given, oldest first, paged by limit and offset.

        `accounts`: the account codes that `?account=` names (a brand key names one per vendor).
        `status` is a number, "dropped", or "2xx"-style class.
        """
        with self._lock:
            entries = list(self._entries)
            forgotten = self._forgotten
        wanted = {k: params[k] for k in ("vendor", "method") if params.get(k)}
        prefix = params.get("path_prefix") or ""
        key = params.get("key")
        status = params.get("status")
        found = []
        for entry in entries:
            if any(str(entry[k]).upper() != v.upper() for k, v in wanted.items()):
                continue
            if prefix and not entry["path"].startswith(prefix):
                continue
            if accounts is not None and entry["account"] not in accounts:
                continue
            if key and key not in entry["keys"]:
                continue
            if status and not _status_matches(entry["status"], status):
                continue
            found.append(entry)
        limit = _int(params.get("limit"), 1000)
        offset = _int(params.get("offset"), 0)
        return {
            "collection": "writes",
            "count": len(found),
            # Older entries pushed out of the bounded log: a count may then be short.
            "forgotten": forgotten,
            "items": found[offset : offset + limit],
        }


def _status_matches(actual: int | str, wanted: str) -> bool:
    if wanted.endswith("xx") and isinstance(actual, int):
        return str(actual)[0] == wanted[0]
    return str(actual) == wanted


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default

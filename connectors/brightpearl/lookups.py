"""Look-ups of many records by a natural key in a few Brightpearl calls, for a whole batch.

Brightpearl's resource searches filter a STRING column (an order's `externalRef`, a contact's
`primaryEmail`) by one value a call: looking up 50 orders by their external refs one by one
costs 50 of the account's 200 requests a minute. What a search can do in one call is return
up to 500 rows of chosen columns for a window (`createdOn=FROM/`, `updatedOn=FROM/`: PERIOD
filters) — https://api-docs.brightpearl.com/order/order/search.html (orderId, externalRef,
createdOn, orderTypeId), https://api-docs.brightpearl.com/contact/contact/search.html
(contactId, primaryEmail, updatedOn), https://help.brightpearl.com/hc/en-us/articles/
212644983-Resource-search (`columns`, `pageSize`, `firstResult`).

So each index below reads a window once, then only what changed since (one call a batch),
and answers every key of the window from memory. It is sound because the window cannot miss
the record: an order carrying a storefront order's id as its external ref was created after
the storefront order was placed (the id did not exist before), and a contact created or
edited since the last read has an `updatedOn` inside the next one. Where a window would take
more pages than the keys it answers (an old order in a busy account), the index asks key by
key instead, as before: never more calls than the one-by-one look-up plus one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from connectors.brightpearl.client import ORDER_TYPE_IDS, bp_datetime

if TYPE_CHECKING:
    from connectors.brightpearl.client import Brightpearl

PAGE_SIZE = 500
ORDER_SEARCH = "/order-service/order-search"
CONTACT_SEARCH = "/contact-service/contact-search"
# Clocks (ours, Brightpearl's, BigCommerce's) and a search index that lags a write: a window
# reaches this far further back than strictly needed.
DEFAULT_MARGIN = timedelta(hours=1)
# One key (a webhook's single order) is searched by itself: a window can only tie with that
# one call, and a wide one would cost a second.
MIN_KEYS = 2


def _now() -> datetime:
    return datetime.now(UTC)


def search_window(
    bp: Brightpearl, path: str, params: dict[str, Any], *, max_pages: int
) -> list[dict] | None:
    """Every row of a search, as dicts by column name; None (after one call) when it would
    take more than `max_pages` pages: then asking key by key is cheaper."""
    rows: list[dict] = []
    first = 1
    while True:
        body = bp.http.json(
            "GET", path, params={**params, "pageSize": PAGE_SIZE, "firstResult": first}
        )
        response = (body or {}).get("response") or {}
        meta = response.get("metaData") or {}
        if first == 1 and math.ceil(int(meta.get("resultsAvailable") or 0) / PAGE_SIZE) > max(
            max_pages, 1
        ):
            return None
        columns = [c["name"] for c in meta.get("columns", [])]
        rows.extend(dict(zip(columns, row, strict=False)) for row in response.get("results") or [])
        if not meta.get("morePagesAvailable"):
            return rows
        first = int(meta.get("lastResult", first + PAGE_SIZE - 1)) + 1


class OrderRefIndex:
    """Orders (or credits) by external ref, for the refs a run looks up: read by creation
    window, kept for the run. Several orders with one ref are duplicates: the oldest (lowest
    id) is the one kept, as `Brightpearl.order_ids_by_external_ref` does."""

    def __init__(
        self,
        bp: Brightpearl,
        *,
        order_type: str = "SO",
        margin: timedelta = DEFAULT_MARGIN,
        now: Callable[[], datetime] = _now,
    ) -> None:
        self.bp = bp
        self.order_type = order_type
        self.margin = margin
        self.now = now
        self.since: datetime | None = None  # the earliest creation time read
        self.read_at: datetime | None = None  # when the window was last read up to now
        self.ids: dict[str, int] = {}
        self.calls = 0  # searches sent (for the figures and the tests)

    def find(self, refs: dict[str, datetime | None]) -> dict[str, int]:
        """{ref: order id} for those of `refs` Brightpearl holds. Each ref comes with the
        earliest time its order can have been created (the storefront order's placing);
        None: unknown, so that ref is looked up by itself."""
        wanted = {str(r): t for r, t in refs.items() if str(r)}
        dated = {r: t for r, t in wanted.items() if t is not None}
        alone = [r for r, t in wanted.items() if t is None]
        if len(dated) < MIN_KEYS:
            alone.extend(dated)
            dated = {}
        if dated and not self._cover(min(dated.values()) - self.margin, len(dated)):
            alone.extend(dated)
            dated = {}
        found = {r: self.ids[r] for r in dated if r in self.ids}
        if alone:
            self.calls += len(set(alone))
            found.update(self.bp.order_ids_by_external_ref(alone))
        return found

    def _cover(self, start: datetime, keys: int) -> bool:
        """Read what the index lacks of [start, now]; False when that is too many pages."""
        started = self.now()
        windows: list[tuple[datetime, datetime | None]] = []
        if self.since is None or self.read_at is None:
            windows.append((start, None))
        else:
            if start < self.since:
                windows.append((start, self.since))
            windows.append((self.read_at - self.margin, None))
        for frm, to in windows:
            rows = search_window(
                self.bp,
                ORDER_SEARCH,
                {
                    "createdOn": f"{bp_datetime(frm)}/{bp_datetime(to) if to else ''}",
                    "orderTypeId": ORDER_TYPE_IDS[self.order_type],
                    "columns": "orderId,externalRef",
                },
                max_pages=keys,
            )
            self.calls += 1 if rows is None else max(1, math.ceil(len(rows) / PAGE_SIZE))
            if rows is None:
                # Too wide to read now: start afresh next time rather than keep a gap.
                self.since = self.read_at = None
                self.ids.clear()
                return False
            for row in rows:
                ref = str(row.get("externalRef") or "")
                if ref:
                    order_id = int(row["orderId"])
                    self.ids[ref] = min(order_id, self.ids.get(ref, order_id))
        self.since = start if self.since is None else min(self.since, start)
        self.read_at = started
        return True


class ContactEmailIndex:
    """Contacts by primary email (lowercased), for the emails a run looks up: all contacts
    read once, then those updated since, one call a batch. Where reading them all would
    take more pages than the emails asked, each email is searched by itself instead."""

    def __init__(
        self,
        bp: Brightpearl,
        *,
        margin: timedelta = DEFAULT_MARGIN,
        now: Callable[[], datetime] = _now,
    ) -> None:
        self.bp = bp
        self.margin = margin
        self.now = now
        self.read_at: datetime | None = None
        # Reading every contact was once too many pages for the emails asked: for the rest
        # of the run each email is searched by itself (not one wasted call a batch).
        self.too_wide = False
        self.by_email: dict[str, set[int]] = {}
        self.email_of: dict[int, str] = {}
        self.calls = 0

    def find(self, emails: Iterable[str]) -> dict[str, int | None]:
        """{email: the oldest contact with it as primary email, or None: none has}."""
        wanted = sorted({str(e).strip().lower() for e in emails if str(e).strip()})
        if not wanted:
            return {}
        if len(wanted) >= MIN_KEYS and not self.too_wide and self._refresh(len(wanted)):
            return {e: min(self.by_email[e]) if self.by_email.get(e) else None for e in wanted}
        found: dict[str, int | None] = {}
        for email in wanted:
            self.calls += 1
            ids = self.bp.contact_ids_by_email(email)
            found[email] = ids[0] if ids else None
        return found

    def _refresh(self, keys: int) -> bool:
        started = self.now()
        params: dict[str, Any] = {"columns": "contactId,primaryEmail"}
        if self.read_at is not None:
            params["updatedOn"] = f"{bp_datetime(self.read_at - self.margin)}/"
        rows = search_window(self.bp, CONTACT_SEARCH, params, max_pages=keys)
        self.calls += 1 if rows is None else max(1, math.ceil(len(rows) / PAGE_SIZE))
        if rows is None:
            self.too_wide = self.read_at is None
            self.read_at = None
            self.by_email.clear()
            self.email_of.clear()
            return False
        for row in rows:
            contact_id = int(row["contactId"])
            old = self.email_of.pop(contact_id, None)
            if old is not None:
                self.by_email.get(old, set()).discard(contact_id)
            email = str(row.get("primaryEmail") or "").strip().lower()
            if email:
                self.email_of[contact_id] = email
                self.by_email.setdefault(email, set()).add(contact_id)
        self.read_at = started
        return True

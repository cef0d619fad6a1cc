"""What `manage.py bench_freshness` reads from the sandbox: the orders it changes, what
Ometria shows for them, and Ometria's push log.

It reads the vendors' state through the sandbox's control API (GET /_sandbox/state/...), as a
person at Brightpearl's and Ometria's screens would, never through the console. Tools only.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable

from django.core.management.base import CommandError

from syncs.management.freshness_figures import STATUS_CYCLE, Change, stale_in_pushes
from syncs.management.processes import SandboxProcess

# Ids in one state request (the Brightpearl fake's own id-set limit is 200 as well).
CHUNK = 200


def shown_status(record: dict | None) -> int | None:
    """The Brightpearl status id an Ometria order record carries (the order lifecycle flow
    sends it as a property beside the mapped status and lifecycle stage)."""
    if not record:
        return None
    value = (record.get("properties") or {}).get("brightpearl_status_id")
    return int(value) if value is not None else None


def _chunks(ids: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


class OrderWatch:
    """Brand A's orders in Brightpearl and Ometria, seen through the sandbox's control API."""

    def __init__(self, sandbox: SandboxProcess, account: str) -> None:
        self.sandbox = sandbox
        self.account = account  # the sandbox brand key of A's accounts ("demo")
        self.polls = 0
        self.poll_seconds = 0.0

    # --- reading -------------------------------------------------------------------------
    def in_ometria(self, ids: list[str]) -> dict[str, int | None]:
        """The Brightpearl status each order has in Ometria (None: not there)."""
        shown: dict[str, int | None] = dict.fromkeys(ids)
        for chunk in _chunks(ids):
            items = self.sandbox.get(
                "state/ometria/orders", account=self.account, id=",".join(chunk), limit=CHUNK
            )["items"]
            shown.update({str(r["id"]): shown_status(r) for r in items})
        return shown

    def in_brightpearl(self, ids: list[str]) -> dict[str, int | None]:
        found: dict[str, int | None] = dict.fromkeys(ids)
        for chunk in _chunks(ids):
            items = self.sandbox.get(
                "state/brightpearl/orders", account=self.account, id=",".join(chunk), limit=CHUNK
            )["items"]
            found.update({str(o["id"]): int(o["orderStatus"]["orderStatusId"]) for o in items})
        return found

    def pushed_statuses(self, order_id: str) -> list[int | None]:
        """The Brightpearl status every push of the order to Ometria carried, oldest first."""
        items = self.sandbox.get(
            "state/ometria/push_log",
            account=self.account,
            type="order",
            id=order_id,
            limit=100_000,
        )["items"]
        return [shown_status(item.get("record")) for item in items]

    # --- the orders to change ----------------------------------------------------------------
    def candidates(self, order_ids: list[int], needed: int, seed: int) -> list[tuple[str, int]]:
        """`needed` orders, in a random order spread over all of A's orders (a backfill meets
        them anywhere in its read), each in one of STATUS_CYCLE and shown so in Ometria:
        (order id, its status)."""
        ids = [str(i) for i in order_ids]
        random.Random(seed).shuffle(ids)
        picked: list[tuple[str, int]] = []
        for chunk in _chunks(ids):
            statuses = self.in_brightpearl(chunk)
            shown = self.in_ometria(chunk)
            picked += [
                (order_id, status)
                for order_id, status in statuses.items()
                if status in STATUS_CYCLE and shown.get(order_id) == status
            ]
            if len(picked) >= needed:
                return picked[:needed]
        raise CommandError(
            f"Only {len(picked)} of brand A's orders can be changed ({needed} needed): seed "
            "more orders (--orders) or make fewer changes (--changes)."
        )

    # --- changing ---------------------------------------------------------------------------
    def change(self, change: Change) -> None:
        """Set the order's status as the back office would: Brightpearl fires its webhook."""
        self.sandbox.post(
            f"brightpearl/orders/{change.order_id}/status",
            {"statusId": change.new, "account": self.account},
        )

    # --- watching ---------------------------------------------------------------------------
    def poll(self, changes: list[Change]) -> None:
        """One look at Ometria for every change of the condition (one request)."""
        if not changes:
            return
        started = time.monotonic()
        shown = self.in_ometria([c.order_id for c in changes])
        now = time.monotonic()
        self.polls += 1
        self.poll_seconds += now - started
        for c in changes:
            c.look(shown.get(c.order_id), now)

    def verify(self, changes: list[Change]) -> None:
        """Once the condition's runs are over: Ometria's push log and final state, against
        Brightpearl's status, for every change (whatever polling missed between two looks)."""
        if not changes:
            return
        ids = [c.order_id for c in changes]
        brightpearl = self.in_brightpearl(ids)
        ometria = self.in_ometria(ids)
        for c in changes:
            if brightpearl.get(c.order_id) != c.new:
                raise CommandError(
                    f"Order {c.order_id} is no longer in status {c.new} in Brightpearl: "
                    "something else changed it, so its figures cannot be trusted."
                )
            pushed = self.pushed_statuses(c.order_id)
            if stale_in_pushes(pushed, c.new):
                after = pushed[pushed.index(c.new) + 1 :]
                c.mark_stale("pushes", next(s for s in after if s != c.new))
            if c.new in pushed and ometria.get(c.order_id) != c.new:
                # The new status was pushed, and Ometria ends with another.
                c.mark_stale("at_end", ometria.get(c.order_id))

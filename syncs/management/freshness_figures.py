"""The pure parts of `manage.py bench_freshness`: one status change followed from Brightpearl
to Ometria, the stale-overwrite checks, percentiles and the goals.

No process, database or sandbox here: the command feeds in what it saw, and the tests check
these rules on their own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# The four conditions, in the order they run, and the key of each one's p95 in the figures.
CONDITIONS = ("idle", "own_backfill", "other_backfill", "both")
# Goals from issue 18: p95 latency per condition (seconds, strictly below), and no stale
# overwrite at all.
GOALS_P95_S = {"idle": 1.0, "own_backfill": 5.0, "other_backfill": 2.0, "both": 5.0}

# Sales-order statuses a change cycles through (ids of the sandbox's Brightpearl, standard
# statuses both brands have). With the agency's default template each one maps to another
# Ometria lifecycle stage than the one before it (and mostly another Ometria status), so
# Ometria always shows a difference: 20 Awaiting payment (pending, awaiting_payment) → 21
# Ready to ship (pending, processing) → 23 Dispatched (shipped, shipped) → 4 Invoiced
# (complete, completed) → 20 again.
STATUS_CYCLE = (20, 21, 23, 4)


def next_status(status_id: int) -> int:
    """The status an order in `status_id` (one of STATUS_CYCLE) is changed to."""
    return STATUS_CYCLE[(STATUS_CYCLE.index(status_id) + 1) % len(STATUS_CYCLE)]


def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least q% of the values at or
    below it (p95 of 30 values is the 29th smallest). None for no values."""
    if not values:
        return None
    if not 0 < q <= 100:
        raise ValueError("q is a percentage, above 0 and at most 100")
    ordered = sorted(values)
    return ordered[max(math.ceil(q / 100 * len(ordered)), 1) - 1]


def stale_in_pushes(pushed: Iterable[int | None], new: int) -> bool:
    """Whether a push history (the status id each push of one order carried, oldest first)
    holds an older status pushed after the new one: Ometria then showed the older one."""
    seen_new = False
    for status in pushed:
        if status == new:
            seen_new = True
        elif seen_new:
            return True
    return False


@dataclass
class Change:
    """One status change on one order of brand A, and what Ometria showed after it.

    Each order is changed once in a whole run, so from `t0` on Brightpearl holds `new` for
    it: any other status Ometria shows after having shown `new` is an older read pushed over
    a newer one."""

    condition: str
    order_id: str
    old: int
    new: int
    t0: float  # monotonic seconds, just before the change was made
    timeout: float
    t1: float | None = None  # when Ometria was first seen to show `new`
    timed_out: bool = False
    # Whether the condition's backfill runs were in progress when the change was made
    # (None: the condition has none).
    backfill_running: bool | None = None
    # How each stale overwrite was caught: "polled" (Ometria seen showing an older status
    # after the new one), "pushes" (Ometria's push log: an older status pushed after the new
    # one), "at_end" (Ometria not showing Brightpearl's status once the runs were over).
    stale: list[str] = field(default_factory=list)
    shown_after: int | None = None  # the older status Ometria showed, when stale

    def look(self, shown: int | None, now: float) -> None:
        """One look at the Brightpearl status id Ometria holds for the order (None: no
        record) at monotonic time `now`. A change that arrives after its timeout keeps the
        timeout as its latency, and is still watched for a stale overwrite."""
        if self.t1 is None:
            if shown == self.new:
                self.t1 = now
                self.timed_out = self.timed_out or now - self.t0 >= self.timeout
            elif now - self.t0 >= self.timeout:
                self.timed_out = True
        elif shown != self.new:
            self.mark_stale("polled", shown)

    def mark_stale(self, how: str, shown: int | None) -> None:
        if how not in self.stale:
            self.stale.append(how)
        if self.shown_after is None:
            self.shown_after = shown

    def settled(self, now: float) -> bool:
        """Seen, or given up on (its latency is known either way)."""
        if self.t1 is None and not self.timed_out and now - self.t0 >= self.timeout:
            self.timed_out = True
        return self.timed_out or self.t1 is not None

    @property
    def latency(self) -> float | None:
        if self.timed_out:
            return self.timeout
        return None if self.t1 is None else self.t1 - self.t0

    def as_dict(self) -> dict:
        return {
            "order": self.order_id,
            "from": self.old,
            "to": self.new,
            "latency_s": None if self.latency is None else round(self.latency, 3),
            "timed_out": self.timed_out,
            "stale": self.stale,
            "shown_after": self.shown_after,
        }


def summary(changes: Sequence[Change]) -> dict:
    """One condition's latency figures (seconds, 3 decimals)."""
    latencies = [c.latency for c in changes if c.latency is not None]
    running = [c.backfill_running for c in changes if c.backfill_running is not None]

    def r(value: float | None) -> float | None:
        return None if value is None else round(value, 3)

    return {
        "n": len(changes),
        "p50_s": r(percentile(latencies, 50)),
        "p95_s": r(percentile(latencies, 95)),
        "max_s": r(max(latencies) if latencies else None),
        "timed_out": sum(c.timed_out for c in changes),
        "stale_overwrites": sum(bool(c.stale) for c in changes),
        "backfill_running_share": round(sum(bool(c) for c in running) / len(running), 3)
        if running
        else None,
    }


def missed_goals(figures: dict) -> list[str]:
    """The goals the figures miss, in words; empty when every one is met."""
    missed = []
    for condition, goal in GOALS_P95_S.items():
        p95 = figures.get(f"{condition}_p95_s")
        if p95 is None:
            continue  # a condition not run (--conditions) has no goal to miss
        if p95 >= goal:
            missed.append(f"{condition} p95 {p95:.3f} s (goal: under {goal:g} s)")
    if figures.get("stale_overwrites"):
        missed.append(f"{figures['stale_overwrites']} stale overwrites (goal: 0)")
    return missed

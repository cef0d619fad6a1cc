"""The shared rate budget: stay under each vendor's limit instead of bouncing off it.

Every request first takes one unit from the brand's budget for that vendor, in a short
database transaction, so two processes never spend the same unit. After each answer the
vendor's own headers (remaining, time to reset) correct our count, because the vendor's
allowance is also spent by other apps on the same account that we cannot see.

Events go ahead of bulk work (a webhook's order status must not wait behind a backfill):
- A priority take (events: webhook and retry runs, a person waiting on a page) may spend
  every unit left.
- Bulk work keeps `reserve` units back. While events are about (one took a unit in the last
  quarter of an hour) it also paces itself through the window rather than spending it in the
  first seconds: it may take a small burst at once, then the rest of its share evenly across
  the window (`bulk_due`). So at any moment of a window there are units left for events: at
  least the reserve plus bulk's share of the time still to come. With no event about, pacing
  would slow the backfill for nobody; the reserve is there for the first event that comes.
- When a priority take finds nothing left it waits for the reset, and says so on the row
  (`events_wanted_until`). Until then bulk takes nothing, so at the reset the waiting events
  get the new window's units first.
- Concurrency caps (Mailchimp: 10 connections): bulk never holds the last connection.
- Smooth budgets (Ometria: spaced slots, no headers) give an event the next free slot; bulk
  reserves a slot only when it is at most one spacing away, so it never queues far ahead of
  events that come later.
All of it lives on the RateBudget row, read and written inside the one transaction of each
take: it holds across processes and machines, and a request still costs one transaction
(a bulk take due within a second takes its unit at once and sleeps until it is due).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from connectors.models import BudgetLease, RateBudget
from connectors.usage import budget_usage_count

# The share of bulk work's units it may take at once when a window opens; the rest it spreads
# across the window. Small, so a backfill leaves events most of the window; not nothing, so a
# short bulk job (a few calls) still goes at once. A connection's `rate_bulk_burst` setting
# changes it (1 turns pacing off).
BULK_BURST_SHARE = 0.05
# A bulk take due this soon (seconds) takes its unit now and sleeps until it is due, so a
# paced request still costs one transaction. Longer, and the unit would sit idle where an
# event could have had it.
AHEAD_SECONDS = 1.0
# The longest sleep before a waiting taker looks at the row again: a bulk taker sees at once
# that events want the budget or that it may go, and its run's heartbeat stays fresh.
NAP_SECONDS = 2.0
# How long past its next look a waiting event keeps bulk off: long enough to wake and take.
EVENTS_GRACE_SECONDS = 1.0
# Bulk paces itself while an event took a unit this recently (seconds). A brand whose webhooks
# come every few minutes is paced all the time; a backfill with no events about goes at full
# speed (a short bulk job, the contract suite's runs), keeping the reserve back.
EVENTS_RECENT_SECONDS = 900.0


def bulk_due(
    *,
    limit: int,
    remaining: int,
    reserve: int,
    resets_at: float,
    window_seconds: float,
    now: float,
    pace: bool = True,
    burst_share: float = BULK_BURST_SHARE,
) -> float:
    """When bulk work may take the window's next unit, in epoch seconds (-inf: now; inf: not
    in this window).

    Bulk's share of a window is `usable` = limit - reserve units. It may take `burst` of them
    at once; the unit that brings the window's spend to n (n > burst) is due at
        start + window * (n - burst) / (usable - burst + 1),
    that is, the rest of the share evenly across the window, the last one interval before the
    reset. The spend counts every request (events', other apps' too, as the vendor's headers
    tell), so events spending more holds bulk back; events always have what bulk has not
    reached yet.

    The window's start is its reset less its length. If the vendor resets further away than
    one of our windows, its window is not the one our settings describe (a sandbox with its
    limits off, a changed plan), we cannot tell how far into it we are, and bulk keeps only
    the reserve back, as it did before pacing. (A vendor window shorter than ours looks
    nearly over: the same.) And with `pace` off (no events about) bulk keeps only the reserve
    back.
    """
    floor = max(min(reserve, limit - 1), 0)
    usable = limit - floor
    n = limit - remaining + 1
    if n > usable:
        return math.inf
    burst = max(1, math.ceil(usable * burst_share))
    paced = usable - burst
    start = resets_at - window_seconds
    if not pace or n <= burst or paced <= 0 or start > now:
        return -math.inf
    return start + window_seconds * (n - burst) / (paced + 1)


@dataclass(frozen=True)
class BudgetPolicy:
    limit: int
    window_seconds: float
    # Units kept back from bulk work so that status and purchase events (priority work)
    # still go through while a backfill has the budget drained.
    reserve: int = 0
    concurrency: int = 0
    lease_seconds: float = 120.0
    # For a vendor that publishes a rate but sends no headers (Ometria): space requests
    # evenly, a little wider than the limit, so no window of the vendor's ever sees too many.
    smooth: bool = False
    # The share of its units bulk work may take at once when a window opens (`bulk_due`).
    bulk_burst: float = BULK_BURST_SHARE


@dataclass(frozen=True)
class BudgetHint:
    """What a vendor's headers said about its allowance."""

    remaining: int
    reset_in: float | None = None  # seconds
    limit: int | None = None


class Budget:
    def __init__(
        self,
        brand_id: int,
        system: str,
        policy: BudgetPolicy,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.brand_id = brand_id
        self.system = system
        self.policy = policy
        self.clock = clock
        self.sleep = sleep
        self.waits = 0
        self.waited_seconds = 0.0
        # For the log line only: what was left after our last take or correction.
        self.last_remaining: int | str = "-"
        # What the vendor said after our last request, and how many of our requests have
        # finished since: written with the next take, so a request costs one transaction.
        self._hint: tuple[BudgetHint, float] | None = None
        self._finished = 0
        # Called before every wait, and before every request, so a caller can show it is
        # still alive (a run's heartbeat) however long a batch of calls takes.
        self.on_wait: Callable[[], None] | None = None
        self.on_call: Callable[[], None] | None = None

    def _row(self) -> RateBudget:
        row, _ = RateBudget.objects.select_for_update().get_or_create(
            brand_id=self.brand_id,
            system=self.system,
            defaults={
                "limit": self.policy.limit,
                "window_seconds": self.policy.window_seconds,
                "remaining": self.policy.limit,
                "concurrency": self.policy.concurrency,
            },
        )
        return row

    def _wait(self, pause: float, *, first: bool) -> None:
        if first:
            self.waits += 1
        self.waited_seconds += pause
        if self.on_wait:
            self.on_wait()
        self.sleep(pause)

    def acquire(self, *, priority: bool = False) -> float:
        """Take one unit, waiting while none is ours to take (see the module's docstring).
        Returns how long it waited, in seconds."""
        if self.on_call:
            self.on_call()
        if self.policy.smooth:
            return self._acquire_slot(priority)
        waited = 0.0
        while True:
            with transaction.atomic():
                row = self._row()
                now = self.clock()
                self._apply_pending(row)
                if now >= row.resets_at:
                    row.remaining = row.limit
                    row.resets_at = now + row.window_seconds
                    row.in_flight = 0
                lead = 0.0  # a bulk take due soon: the sleep until it is due
                if priority:
                    take = row.remaining > 0
                    pause = row.resets_at - now
                elif now < row.events_wanted_until:
                    take, pause = False, row.events_wanted_until - now
                else:
                    due = bulk_due(
                        limit=row.limit,
                        remaining=row.remaining,
                        reserve=self.policy.reserve,
                        resets_at=row.resets_at,
                        window_seconds=row.window_seconds,
                        now=now,
                        pace=now - row.events_at < EVENTS_RECENT_SECONDS,
                        burst_share=self.policy.bulk_burst,
                    )
                    lead = max(due - now, 0.0)
                    take = lead <= AHEAD_SECONDS
                    pause = min(due, row.resets_at) - now
                fields = ["limit", "remaining", "resets_at", "in_flight", "updated"]
                if not waited and (lead or not take):
                    row.throttle_waits += 1  # once per request that had to wait
                    fields.append("throttle_waits")
                if take:
                    row.remaining -= 1
                    row.requests += 1
                    row.in_flight += 1
                    if priority:
                        row.events_at = now  # bulk paces itself for a while now
                        fields.append("events_at")
                    fields += budget_usage_count(row, at=now, priority=priority)
                    row.save(update_fields=[*fields, "requests"])
                    self.last_remaining = row.remaining
                else:
                    pause = min(max(pause, 0.01), NAP_SECONDS)
                    if priority:
                        # Bulk takes nothing until this event has looked again and taken.
                        row.events_wanted_until = max(
                            row.events_wanted_until, now + pause + EVENTS_GRACE_SECONDS
                        )
                        fields.append("events_wanted_until")
                    row.save(update_fields=fields)
            if take:
                if lead:
                    self._wait(lead, first=not waited)
                return waited + lead
            self._wait(pause, first=not waited)
            waited += pause

    def _acquire_slot(self, priority: bool) -> float:
        """Reserve the next free time slot (one transaction), then sleep until it comes.

        An event takes the next free slot however far ahead it is. Bulk work reserves one only
        when it is at most one spacing away; else others hold the slots ahead, and it waits,
        unreserved, until the next free slot comes near. So bulk never queues far ahead, and
        an event arriving behind any number of bulk takers waits two spacings at most.
        """
        spacing = self.policy.window_seconds / max(self.policy.limit, 1) * 1.05
        waited = 0.0
        while True:
            with transaction.atomic():
                row = self._row()
                now = self.clock()
                slot = max(row.resets_at, now)
                # (a rounding margin: a taker back right on its slot finds the next one
                # exactly one spacing away)
                take = priority or slot - now <= spacing * 1.001
                fields = ["updated"]
                if slot > now and not waited:
                    row.throttle_waits += 1  # once per request that had to wait
                    fields.append("throttle_waits")
                if take:
                    row.resets_at = slot + spacing
                    row.requests += 1
                    fields += budget_usage_count(row, at=now, priority=priority)
                    row.save(update_fields=[*fields, "resets_at", "requests"])
                elif len(fields) > 1:
                    row.save(update_fields=fields)
            if take:
                break
            pause = min(max(slot - spacing - now, 0.001), NAP_SECONDS)
            self._wait(pause, first=not waited)
            waited += pause
        pause = slot - now
        if pause > 0:
            self._wait(pause, first=not waited)
            waited += pause
        self.last_remaining = "paced"
        return waited

    def observe(self, hint: BudgetHint) -> None:
        """Note what the vendor says is left; it is written with the next take (or flush)."""
        if not self.policy.smooth:
            self._hint = (hint, self.clock())
            self._finished += 1
            if isinstance(hint.remaining, int):
                self.last_remaining = hint.remaining

    def settle(self) -> None:
        """A request ended without the vendor saying what is left (an error, no headers)."""
        if not self.policy.smooth:
            self._finished += 1

    def _apply_pending(self, row: RateBudget) -> None:
        """Our count becomes the vendor's, less our requests it has not seen yet.

        The vendor's count is the truth for the whole account (other apps spend it too);
        only our own requests still in flight are missing from it. Call inside the row's
        transaction; the caller saves the row.
        """
        row.in_flight = max(row.in_flight - self._finished, 0)
        self._finished = 0
        if self._hint is not None:
            hint, seen_at = self._hint
            self._hint = None
            if hint.limit:
                row.limit = hint.limit
            if hint.reset_in is not None:
                row.resets_at = seen_at + hint.reset_in
            row.remaining = max(hint.remaining - row.in_flight, 0)

    def flush(self) -> None:
        """Write what is pending (when the connector closes)."""
        if self._hint is None and not self._finished:
            return
        with transaction.atomic():
            row = self._row()
            self._apply_pending(row)
            row.save(update_fields=["limit", "remaining", "resets_at", "in_flight", "updated"])

    def exhausted(self, retry_after: float | None, *, refused: bool = True) -> None:
        """The vendor throttled us: nothing is left until it says so. `refused=False`: we
        slow down of our own accord (Ometria's queue running short), which is not the
        vendor refusing calls and does not count as throttling on the overview."""
        with transaction.atomic():
            row = self._row()
            now = self.clock()
            self._apply_pending(row)
            row.remaining = 0
            if refused:
                row.throttled_at = now
            if retry_after is not None:
                # The vendor's word on when to come back, even if sooner than our window's
                # end: Mailchimp's 429 is about connections at once and its window is only
                # ours, so a second's refusal must not hold every call for a minute. (Where
                # the vendor has a window, its retry_after is that window's turn.) A smooth
                # budget's resets_at is its next free slot, perhaps taken: never earlier.
                until = now + retry_after
                row.resets_at = max(row.resets_at, until) if self.policy.smooth else until
            elif row.resets_at <= now:
                row.resets_at = now + min(row.window_seconds, 5.0)
            row.save(
                update_fields=[
                    "limit",
                    "remaining",
                    "resets_at",
                    "in_flight",
                    "throttled_at",
                    "updated",
                ]
            )

    # --- concurrency (Mailchimp: more than 10 open connections gets 429) ---------
    def lease(self, *, priority: bool = False) -> int | None:
        """Hold one of the vendor's concurrent slots; None when there is no cap.

        Bulk work never takes the last slot (of a cap above one): however many workers a
        backfill has, a purchase event finds a connection free at once."""
        if not self.policy.concurrency:
            return None
        cap = self.policy.concurrency
        if not priority and cap > 1:
            cap -= 1
        while True:
            with transaction.atomic():
                row = self._row()
                now = self.clock()
                BudgetLease.objects.filter(budget=row, expires_at__lt=now).delete()
                if BudgetLease.objects.filter(budget=row).count() < cap:
                    return BudgetLease.objects.create(
                        budget=row, expires_at=now + self.policy.lease_seconds
                    ).pk
            self.waits += 1
            self.waited_seconds += 0.05
            self.sleep(0.05)

    def release(self, lease_id: int | None) -> None:
        if lease_id is not None:
            BudgetLease.objects.filter(pk=lease_id).delete()

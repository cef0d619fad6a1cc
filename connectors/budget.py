"""The shared rate budget: stay under each vendor's limit instead of bouncing off it.

Every request first takes one unit from the brand's budget for that vendor, in a short
database transaction, so two processes never spend the same unit. After each answer the
vendor's own headers (remaining, time to reset) correct our count, because the vendor's
allowance is also spent by other apps on the same account that we cannot see.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from connectors.models import BudgetLease, RateBudget


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

    def acquire(self, *, priority: bool = False) -> float:
        """Take one unit, waiting for the window to reset if none is left. Returns the wait."""
        if self.on_call:
            self.on_call()
        if self.policy.smooth:
            return self._acquire_slot()
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
                floor = 0 if priority else min(self.policy.reserve, row.limit - 1)
                if row.remaining > floor:
                    row.remaining -= 1
                    row.requests += 1
                    row.in_flight += 1
                    row.save(
                        update_fields=[
                            "limit",
                            "remaining",
                            "resets_at",
                            "in_flight",
                            "requests",
                            "updated",
                        ]
                    )
                    self.last_remaining = row.remaining
                    return waited
                pause = max(row.resets_at - now, 0.01)
                row.throttle_waits += 1
                row.save(
                    update_fields=[
                        "limit",
                        "remaining",
                        "resets_at",
                        "in_flight",
                        "throttle_waits",
                        "updated",
                    ]
                )
            self.waits += 1
            self.waited_seconds += pause
            waited += pause
            if self.on_wait:
                self.on_wait()
            self.sleep(pause)

    def _acquire_slot(self) -> float:
        """Reserve the next free time slot (one transaction), then sleep until it comes."""
        spacing = self.policy.window_seconds / max(self.policy.limit, 1) * 1.05
        with transaction.atomic():
            row = self._row()
            now = self.clock()
            slot = max(row.resets_at, now)
            row.resets_at = slot + spacing
            row.requests += 1
            if slot > now:
                row.throttle_waits += 1
            row.save(update_fields=["resets_at", "requests", "throttle_waits", "updated"])
        pause = slot - now
        if pause > 0:
            self.waits += 1
            self.waited_seconds += pause
            if self.on_wait:
                self.on_wait()
            self.sleep(pause)
        self.last_remaining = "paced"
        return pause

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

    def exhausted(self, retry_after: float | None) -> None:
        """The vendor throttled us: nothing is left until it says so."""
        with transaction.atomic():
            row = self._row()
            now = self.clock()
            self._apply_pending(row)
            row.remaining = 0
            if retry_after is not None:
                row.resets_at = max(row.resets_at, now + retry_after)
            elif row.resets_at <= now:
                row.resets_at = now + min(row.window_seconds, 5.0)
            row.save(update_fields=["limit", "remaining", "resets_at", "in_flight", "updated"])

    # --- concurrency (Mailchimp: more than 10 open connections gets 429) ---------
    def lease(self) -> int | None:
        """Hold one of the vendor's concurrent slots; None when there is no cap."""
        if not self.policy.concurrency:
            return None
        while True:
            with transaction.atomic():
                row = self._row()
                now = self.clock()
                BudgetLease.objects.filter(budget=row, expires_at__lt=now).delete()
                if BudgetLease.objects.filter(budget=row).count() < self.policy.concurrency:
                    return BudgetLease.objects.create(
                        budget=row, expires_at=now + self.policy.lease_seconds
                    ).pk
            self.waits += 1
            self.waited_seconds += 0.05
            self.sleep(0.05)

    def release(self, lease_id: int | None) -> None:
        if lease_id is not None:
            BudgetLease.objects.filter(pk=lease_id).delete()

"""Ometria's queue of pushed records: how full it is, and how long to hold pushes back.

https://docs.ometria.com/docs/ometria-data-api-introduction: "The push endpoint is
asynchronous … records from the submitted batch are added to a queue to be processed. The
queue has a maximum backlog of 50k, so if more than 50k records are waiting to be processed,
you'll get a 429 HTTP response status code. You can use the headers X-QueueSize-Limit returned
in the response to see your current backlog and X-QueueSize-Remaining to check your remaining
allowance." The console reads X-QueueSize-Remaining (the room left, whatever the other header
holds) on every push answer:
- room running low: every push of the brand is held back a little (the shared budget's next
  slot moves out), more the less room there is;
- a 429 with less room than the push carried is the queue, not the rate: the push waits and is
  sent again, waiting longer each time, for as long as `patience` allows (no retry count), and
  every other push of the brand waits with it.
The docs give no time for the queue to go down and no Retry-After; a Retry-After sent anyway
is obeyed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

REMAINING_HEADER = "X-QueueSize-Remaining"
LIMIT_HEADER = "X-QueueSize-Limit"
# The documented size of the queue, for words only (the headers say what is left).
QUEUE_SIZE = 50_000


def queue_room(headers: httpx.Headers) -> int | None:
    """X-QueueSize-Remaining, or None when the answer does not carry it."""
    value = headers.get(REMAINING_HEADER)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def records_sent(response: httpx.Response) -> int:
    """How many records the request that got this answer carried (1 if it cannot tell)."""
    try:
        body = json.loads(response.request.content or b"[]")
    except (ValueError, RuntimeError):
        return 1
    return len(body) if isinstance(body, list) and body else 1


@dataclass
class Backlog:
    """How one connection holds pushes back; every number is a connection setting."""

    # Below this many records of room, pushes are spaced out.
    low_water: int = 5_000
    # The longest pause a push gets while there is still room (seconds).
    easing: float = 2.0
    # The first wait after a full queue, doubled each time it is still full, up to the longest.
    first_wait: float = 5.0
    longest_wait: float = 300.0
    # How long one push may wait for the queue before the run gives up on it for now.
    patience: float = 1_800.0
    # Full answers in a row (the next wait doubles with each).
    streak: int = 0

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> Backlog:
        def number(name: str, default: float) -> float:
            value = settings.get(name)
            return float(value) if value not in (None, "") else default

        return cls(
            low_water=int(number("queue_low_water", cls.low_water)),
            easing=number("queue_easing_seconds", cls.easing),
            first_wait=number("backlog_wait_seconds", cls.first_wait),
            longest_wait=number("backlog_longest_wait_seconds", cls.longest_wait),
            patience=number("backlog_patience_seconds", cls.patience),
        )

    def is_full(self, response: httpx.Response) -> bool:
        """A 429 that is the queue: less room left than the push carried."""
        room = queue_room(response.headers)
        return response.status_code == 429 and room is not None and room < records_sent(response)

    def full_wait(self) -> float:
        wait = min(self.first_wait * 2**self.streak, self.longest_wait)
        self.streak += 1
        return wait

    def easing_pause(self, room: int | None) -> float:
        """How long to hold the next push back when the queue has `room` left (0: not at all)."""
        self.streak = 0
        if room is None or room >= self.low_water or self.low_water <= 0:
            return 0.0
        return self.easing * (1 - max(room, 0) / self.low_water)

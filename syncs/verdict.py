"""A brand's verdict on the overview, in words and colour: is its data flowing right now?

- **Down:** a connection a switched-on flow needs is refused, or a switched-on flow stopped
  (its last run failed and will not try again by itself until something is fixed).
- **Degraded:** a flow is further behind than the brand's lag alert, a vendor is throttling
  our calls, or a run failed and is waiting to try again.
- **Healthy:** every switched-on flow is current.
- **Not live:** no flow is switched on.

Each verdict carries its reasons, worst first, each a sentence a person can act on
("Ometria refused the connection at today 10:42."). The rules read only what the overview
has loaded already (syncs/overview.py): they make no query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from brands.times import duration, readable_time
from connectors.registry import REGISTRY as VENDORS

DOWN, DEGRADED, HEALTHY, IDLE = "down", "degraded", "healthy", "idle"
LABELS = {DOWN: "Down", DEGRADED: "Degraded", HEALTHY: "Healthy", IDLE: "Not live"}
# Worst first: the agency's page sorts by this.
RANK = {DOWN: 0, DEGRADED: 1, HEALTHY: 2, IDLE: 3}
# A vendor's throttle answer this recent makes the brand Degraded: after that, the calls
# went through again (or the connection's own line says what is wrong).
THROTTLE_RECENT = timedelta(minutes=10)


@dataclass
class Verdict:
    level: str
    reasons: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return LABELS[self.level]

    @property
    def rank(self) -> int:
        return RANK[self.level]

    @property
    def reason(self) -> str:
        return self.reasons[0] if self.reasons else ""


def flow_threshold(lag_alert_minutes: int, schedule_minutes: int | None) -> timedelta:
    """How far behind a flow may be before it counts as lagging: the brand's lag alert, or
    two of the flow's schedule intervals if longer (a flow read every hour is normally up
    to an hour behind, and that is not news)."""
    return timedelta(minutes=max(lag_alert_minutes, 2 * (schedule_minutes or 0)))


def lag_words(
    *,
    noun: str,
    lag: timedelta | None,
    threshold: timedelta,
    waiting: int,
    waiting_since: datetime | None,
    inbox: int,
    inbox_since: datetime | None,
    now: datetime,
    ran: bool = False,
    refused: int = 0,
) -> str:
    """The flow's lag as a person says it: "2 orders waiting, oldest 3 min"; records the
    target refused (each with its ticket) are counted apart: "1 order refused"."""
    if waiting or refused:
        parts = [
            f"{n:,} {noun if n != 1 else singular(noun)} {word}"
            for n, word in ((waiting, "waiting"), (refused, "refused"))
            if n
        ]
        oldest = f", oldest {duration(now - waiting_since)}" if waiting_since else ""
        return ", ".join(parts) + oldest
    if inbox:
        oldest = f", oldest {duration(now - inbox_since)}" if inbox_since else ""
        return f"{inbox:,} webhook event{'s' if inbox != 1 else ''} to read{oldest}"
    if lag is None:
        # Nothing held, nothing unread, and no cursor (a flow read in full only): current
        # once a run has been through.
        return "Current" if ran else "Not run yet"
    if lag > threshold:
        return f"Behind: changes of the last {duration(lag)} not read yet"
    if lag < timedelta(minutes=1):
        return "Current"
    return f"Current to {duration(lag)} ago"


def singular(noun: str) -> str:
    if noun.endswith("ies"):
        return noun[:-3] + "y"
    return noun[:-1] if noun.endswith("s") else noun


def brand_verdict(brand, flows: list, connections: list, now: datetime) -> Verdict:
    """The verdict from the brand's flow and connection lines (see syncs/overview.py)."""
    live = [f for f in flows if f.enabled]
    if not live:
        return Verdict(IDLE, ["No flow is switched on yet."])
    used = {system for f in live for system in f.systems}
    down: list[str] = []
    degraded: list[str] = []
    connected = {c.system for c in connections}
    for system in sorted(used - connected):
        label = getattr(VENDORS.get(system), "label", system)
        down.append(
            f"{label} is not connected: enter its credentials on the brand's settings page."
        )
    for c in connections:
        if c.system not in used:
            continue
        if c.failing:
            since = (
                f" at {readable_time(c.failing_since, brand, now=now)}" if c.failing_since else ""
            )
            down.append(f"{c.label} refused the connection{since}: {c.error}")
        elif c.throttled_at and now - c.throttled_at <= THROTTLE_RECENT:
            at = readable_time(c.throttled_at, brand, now=now)
            degraded.append(f"{c.label} is throttling our calls (last at {at}).")
    for f in live:
        run = f.last_run
        if run is not None and run.state == "failed" and (run.blocked_on or not run.scope):
            # Blocked on a refused connection, or a whole read that gave up: it waits for a
            # fix. (A failed run for a few records goes again with the schedule: Degraded.)
            at = readable_time(run.finished_at or run.queued_at, brand, now=now)
            down.append(f"{f.label} stopped at {at}: {run.error or 'its last run failed.'}")
        elif run is not None and run.state == "failed":
            n = len(run.scope)
            degraded.append(
                f"{f.label}: a run for {n:,} record{'s' if n != 1 else ''} failed. {run.error}"
            )
        elif run is not None and run.state == "queued" and run.attempts and run.error:
            degraded.append(f"{f.label}: a run failed and will try again. {run.error}")
        if f.behind:
            degraded.append(f"{f.label} is {duration(f.lag)} behind ({f.lag_words}).")
    if down:
        return Verdict(DOWN, down + degraded)
    if degraded:
        return Verdict(DEGRADED, degraded)
    noun = "flow is" if len(live) == 1 else f"{len(live)} flows are"
    return Verdict(HEALTHY, [f"{'The' if len(live) == 1 else 'All'} {noun} current."])

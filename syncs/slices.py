"""When a bulk run gives its worker back (syncs/engine.py does the giving back).

A bulk run on a worker of the bulk queue works in slices, so that every brand's bulk work
takes turns on the workers instead of one brand's backfill holding them for minutes:

- after BULK_SLICE_SECONDS of work, at the end of a batch;
- at once, at the end of a batch, when a vendor's allowance is spent for bulk work and
  would keep the worker asleep for more than a few seconds (a throttled brand must not hold
  a worker that another brand's work could use): the run comes back when the allowance does.

The second applies only once the run knows the ids it still has to read (from its second
slice on): listing them would itself wait for the allowance.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from connectors.errors import ConnectorError
from connectors.models import RateBudget

if TYPE_CHECKING:
    from syncs.engine import FlowContext

# A wait for the allowance shorter than this is slept through: giving the worker back and
# claiming it again costs more.
SHORT_WAIT_SECONDS = 5.0


def slice_over(ctx: FlowContext) -> bool:
    """At the end of a batch: is this slice over? Sets `ctx.come_back_in` when the run should
    wait (for a vendor's allowance) before its next slice."""
    if ctx.slice_ends is None:
        return False
    # Every slice does at least one batch of work, however short the slices are.
    if ctx.slice_batches and time.monotonic() > ctx.slice_ends:
        return True
    if ctx.resume_ids is None:
        return False
    wait = allowance_wait(ctx)
    if wait > SHORT_WAIT_SECONDS:
        ctx.come_back_in = wait
        return True
    return False


def allowance_wait(ctx: FlowContext) -> float:
    """How long a bulk request to one of the run's vendors would wait for its allowance now:
    what is left is down to the reserve kept for events, and the window resets later."""
    connectors = ctx.connectors_open()
    for system in (ctx.flow.source, ctx.flow.target):
        if system not in connectors:
            try:
                connectors[system] = ctx.connector(system)
            except ConnectorError:
                continue  # no such connection: the run's own read says so
    now = time.time()
    longest = 0.0
    for system, remaining, resets_at in RateBudget.objects.filter(
        brand_id=ctx.brand_id, system__in=list(connectors)
    ).values_list("system", "remaining", "resets_at"):
        policy = connectors[system].budget.policy
        if policy.smooth:
            # Paced vendors hand out the next slot: its distance is the wait.
            longest = max(longest, resets_at - now)
        elif remaining <= policy.reserve and resets_at > now:
            longest = max(longest, resets_at - now)
    return longest

"""The shared rate budget with a fake clock: windows, the vendor's corrections, and events
going ahead of bulk work (bulk paces itself through a window and yields to waiting events)."""

import math

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from connectors.budget import NAP_SECONDS, Budget, BudgetHint, BudgetPolicy, bulk_due
from connectors.models import BudgetUsage, RateBudget

pytestmark = pytest.mark.django_db

BRIGHTPEARL = BudgetPolicy(limit=200, window_seconds=60, reserve=10)


class FakeClock:
    def __init__(self):
        self.now = 1_000.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


class Asleep(Exception):
    """A taker has gone to sleep in its own process; the test goes on without it."""


def fall_asleep(seconds):
    raise Asleep


def budget(brand, clock, policy=BRIGHTPEARL, sleep=None, system="brightpearl"):
    return Budget(brand.pk, system, policy, clock=clock, sleep=sleep or clock.sleep)


def usage(brand, system="brightpearl"):
    """(events, bulk): the takes counted, finished periods and the one under way."""
    row = RateBudget.objects.get(brand=brand, system=system)
    kept = BudgetUsage.objects.filter(brand=brand, system=system)
    return (
        row.usage_events + sum(r.events for r in kept),
        row.usage_bulk + sum(r.bulk for r in kept),
    )


# --- windows and corrections ---------------------------------------------------------
def test_an_event_waits_for_the_window_instead_of_bouncing(brand_a):
    clock = FakeClock()
    events = budget(brand_a, clock, BudgetPolicy(limit=3, window_seconds=60))
    for _ in range(3):
        assert events.acquire(priority=True) == 0
    assert events.acquire(priority=True) == pytest.approx(60)
    assert sum(clock.slept) == pytest.approx(60)
    # It looks again every few seconds (a run's heartbeat stays fresh), counted as one wait.
    assert max(clock.slept) <= NAP_SECONDS
    assert RateBudget.objects.get().throttle_waits == 1


def test_two_budget_objects_share_one_allowance(brand_a):
    clock = FakeClock()
    policy = BudgetPolicy(limit=4, window_seconds=60)
    one, two = budget(brand_a, clock, policy), budget(brand_a, clock, policy)
    for taker in (one, two, one, two):
        taker.acquire(priority=True)
    assert RateBudget.objects.get().remaining == 0
    two.acquire(priority=True)
    assert clock.slept, "the fifth request of the window had to wait"


def test_vendor_headers_correct_the_count(brand_a):
    clock = FakeClock()
    events = budget(brand_a, clock, BudgetPolicy(limit=200, window_seconds=60))
    events.acquire(priority=True)
    # Another app on the account has spent most of the allowance.
    events.observe(BudgetHint(remaining=2, reset_in=20))
    events.flush()  # corrections are written with the next take, or on close
    row = RateBudget.objects.get()
    assert row.remaining == 2 and row.resets_at == pytest.approx(clock.now + 20)
    events.acquire(priority=True), events.acquire(priority=True)
    assert events.acquire(priority=True) == pytest.approx(20)
    # After the vendor's reset, its count wins.
    events.observe(BudgetHint(remaining=199, reset_in=60))
    events.flush()
    assert RateBudget.objects.get().remaining == 199


# --- bulk paces itself ---------------------------------------------------------------
def test_bulk_due_spreads_bulk_share_across_the_window():
    def due(remaining, resets_at=60.0, now=0.0):
        return bulk_due(
            limit=200,
            remaining=remaining,
            reserve=10,
            resets_at=resets_at,
            window_seconds=60.0,
            now=now,
        )

    # A burst of 10 (5% of the 190 bulk may have) at once…
    assert due(200) == due(191) == -math.inf
    # …then one every 60/181 s, the last of the 190 before the reset, none of the reserve.
    assert due(190) == pytest.approx(60 / 181)
    assert due(11) == pytest.approx(60 * 180 / 181)
    assert due(10) == math.inf
    # A vendor whose window is longer than ours (its reset further away than our window's
    # length): where we are in it is unknown, so bulk only keeps the reserve back.
    assert due(100, resets_at=61.0) == -math.inf
    assert due(10, resets_at=61.0) == math.inf


def an_event_was_here(brand, clock, policy=BRIGHTPEARL, ago=60.0):
    """An event took a unit `ago` seconds back, in a window of its own: events are about."""
    clock.now -= ago
    budget(brand, clock, policy).acquire(priority=True)
    clock.now += ago


def test_with_events_about_bulk_spends_at_most_its_paced_share_and_all_of_it_by_the_reset(
    brand_a,
):
    clock = FakeClock()
    an_event_was_here(brand_a, clock)
    bulk = budget(brand_a, clock)
    bulk.acquire()
    start = RateBudget.objects.get().resets_at - 60
    sent_at = [clock.now]  # when each request may go: after acquire returns
    while True:
        bulk.acquire()
        if clock.now >= start + 60:
            break
        sent_at.append(clock.now)
    # Every moment of the window leaves events more than the reserve: bulk's spend never
    # runs ahead of a burst of 10 plus its share of the time gone by.
    for spent, at in enumerate(sent_at, start=1):
        assert spent <= 10 + 190 * (at - start) / 60 + 1e-9, (spent, at - start)
    assert sent_at[9] == start  # the burst went at once
    assert len([t for t in sent_at if t < start + 30]) < 110  # not spent in the first half
    # Paced, not starved: bulk still gets its whole share of the window.
    assert len(sent_at) == 190


def test_with_no_event_about_bulk_keeps_only_the_reserve_back(brand_a):
    clock = FakeClock()
    an_event_was_here(brand_a, clock, ago=15 * 60 + 1)  # a quarter of an hour ago: not about
    bulk = budget(brand_a, clock)
    for _ in range(190):
        assert bulk.acquire() == 0
    assert RateBudget.objects.get().remaining == 10
    # The first event takes from the reserve; from then on bulk paces itself.
    events = budget(brand_a, clock)
    assert events.acquire(priority=True) == 0
    clock.now = RateBudget.objects.get().resets_at
    for _ in range(10):  # the next window's burst
        assert bulk.acquire() == 0
    assert bulk.acquire() > 0


def test_a_paced_bulk_request_still_costs_one_transaction(brand_a):
    clock = FakeClock()
    an_event_was_here(brand_a, clock)
    bulk = budget(brand_a, clock)
    for _ in range(10):  # the burst, and the usage row of these five minutes made
        bulk.acquire()
    with CaptureQueriesContext(connection) as queries:
        for _ in range(20):
            assert bulk.acquire() > 0  # each one waited for its turn in the window
    savepoints = [q for q in queries if q["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) == 20


def test_the_reserve_is_never_spent_by_bulk(brand_a):
    clock = FakeClock()
    policy = BudgetPolicy(limit=5, window_seconds=60, reserve=2)
    bulk, events = budget(brand_a, clock, policy), budget(brand_a, clock, policy)
    for _ in range(3):
        bulk.acquire()
    resets_at = RateBudget.objects.get().resets_at
    assert clock.now < resets_at, "all three went inside the first window"
    clock.now = resets_at - 0.5  # however late in the window, bulk's share is spent
    with pytest.raises(Asleep):
        budget(brand_a, clock, policy, sleep=fall_asleep).acquire()
    assert events.acquire(priority=True) == 0
    assert events.acquire(priority=True) == 0


def test_bulk_is_not_paced_through_a_window_it_cannot_place(brand_a):
    """The benchmark's settings (a million a second) against a sandbox with its limits off,
    which still says "199 left, reset in a minute": bulk goes at once, as before pacing."""
    clock = FakeClock()
    policy = BudgetPolicy(limit=1_000_000, window_seconds=1, reserve=10)
    an_event_was_here(brand_a, clock, policy, ago=2)
    bulk = budget(brand_a, clock, policy)
    for _ in range(50):
        bulk.acquire()
        bulk.observe(BudgetHint(remaining=199, reset_in=60 - (clock.now - 1_000)))
    assert not clock.slept


# --- bulk yields to waiting events ---------------------------------------------------
def test_while_an_event_waits_bulk_takes_nothing_and_the_event_gets_the_reset(brand_a):
    clock = FakeClock()
    policy = BudgetPolicy(limit=40, window_seconds=60, reserve=2)
    for _ in range(40):  # a burst of events spends the whole window
        assert budget(brand_a, clock, policy).acquire(priority=True) == 0
    resets_at = RateBudget.objects.get().resets_at

    looks = []

    def bulk_looks():
        """A backfill in another process looks at the budget: it must not take a unit."""
        with pytest.raises(Asleep):
            budget(brand_a, clock, policy, sleep=fall_asleep).acquire()
        looks.append(clock.now)

    def event_sleeps(seconds):
        clock.sleep(seconds)
        bulk_looks()  # while the event sleeps, and first at the reset itself

    event = budget(brand_a, clock, policy, sleep=event_sleeps)
    assert event.acquire(priority=True) == pytest.approx(resets_at - 1_000)
    assert looks[-1] == pytest.approx(resets_at), "bulk looked at the reset and yielded"
    assert usage(brand_a) == (41, 0)
    row = RateBudget.objects.get()
    assert row.remaining == 39, "the new window's first unit went to the event"

    # Once the event has taken its unit, the wish lapses and bulk goes on (its burst).
    clock.now = row.events_wanted_until
    assert budget(brand_a, clock, policy).acquire() == 0
    assert usage(brand_a) == (41, 1)


def test_bulk_waiting_on_events_keeps_its_heartbeat(brand_a):
    clock = FakeClock()
    policy = BudgetPolicy(limit=2, window_seconds=60)
    for _ in range(2):
        budget(brand_a, clock, policy).acquire(priority=True)
    with pytest.raises(Asleep):
        budget(brand_a, clock, policy, sleep=fall_asleep).acquire(priority=True)
    bulk = budget(brand_a, clock, policy)
    beats = []
    bulk.on_wait = lambda: beats.append(clock.now)
    waited = bulk.acquire()
    assert waited == pytest.approx(60)
    assert max(clock.slept) <= NAP_SECONDS
    assert len(beats) == len(clock.slept) >= 60 / NAP_SECONDS


def test_an_event_that_dies_waiting_does_not_hold_bulk_back_for_long(brand_a):
    clock = FakeClock()
    policy = BudgetPolicy(limit=2, window_seconds=60)
    for _ in range(2):
        budget(brand_a, clock, policy).acquire(priority=True)
    with pytest.raises(Asleep):  # it never looks again
        budget(brand_a, clock, policy, sleep=fall_asleep).acquire(priority=True)
    clock.now = RateBudget.objects.get().resets_at
    bulk = budget(brand_a, clock, policy)
    assert bulk.acquire() == 0, "the wish lapsed a few seconds after the event's last look"


# --- smooth (paced) budgets ----------------------------------------------------------
OMETRIA = BudgetPolicy(limit=8, window_seconds=1, smooth=True)
SPACING = 1 / 8 * 1.05


def test_an_event_gets_the_next_slot_ahead_of_waiting_bulk(brand_a):
    clock = FakeClock()
    sleeps = []  # takers in other processes: they sleep, the clock does not move
    one, two = (
        budget(brand_a, clock, OMETRIA, sleep=sleeps.append, system="ometria") for _ in range(2)
    )
    assert one.acquire() == 0
    assert two.acquire() == pytest.approx(SPACING)  # the next slot, one spacing away
    third = budget(brand_a, clock, OMETRIA, sleep=fall_asleep, system="ometria")
    with pytest.raises(Asleep):
        third.acquire()  # the next free slot is two spacings away: bulk waits unreserved
    assert RateBudget.objects.get(system="ometria").resets_at == pytest.approx(1_000 + 2 * SPACING)
    event = budget(brand_a, clock, OMETRIA, sleep=sleeps.append, system="ometria")
    assert event.acquire(priority=True) == pytest.approx(2 * SPACING)
    assert usage(brand_a, "ometria") == (1, 2)


def test_a_lone_bulk_taker_uses_every_smooth_slot(brand_a):
    clock = FakeClock()
    bulk = budget(brand_a, clock, OMETRIA, system="ometria")
    for _ in range(40):
        bulk.acquire()
    assert clock.now - 1_000 == pytest.approx(39 * SPACING)
    assert RateBudget.objects.get(system="ometria").throttle_waits == 39


def test_a_connection_can_change_the_bulk_burst(brand_a):
    from connectors.models import Connection
    from connectors.registry import connector_for

    conn = Connection.objects.create(
        brand=brand_a,
        system="brightpearl",
        base_url="https://euw1.brightpearlconnect.com",
        credentials={"app_ref": "acme_console", "account_token": "t"},
        settings={"account": "acme"},
    )
    assert connector_for(conn).budget.policy.bulk_burst == 0.05
    conn.settings = {"account": "acme", "rate_bulk_burst": 1}
    clock = FakeClock()
    an_event_was_here(brand_a, clock)
    bulk = Budget(brand_a.pk, "brightpearl", connector_for(conn).budget.policy, clock=clock)
    for _ in range(190):  # all of bulk's share at once: no pacing
        assert bulk.acquire() == 0


def test_only_the_vendors_own_refusal_counts_as_throttling(brand_a):
    clock = FakeClock()
    taker = budget(brand_a, clock, BudgetPolicy(limit=3, window_seconds=60))
    taker.acquire(priority=True)
    taker.exhausted(5.0, refused=False)  # our own easing (Ometria's queue running short)
    assert RateBudget.objects.get().throttled_at == 0
    taker.exhausted(5.0)  # the vendor's 429
    assert RateBudget.objects.get().throttled_at == pytest.approx(clock.now)


def test_a_refusal_waits_as_long_as_the_vendor_says_not_to_the_end_of_our_window(brand_a):
    """Mailchimp's 429 (too many connections) says come back in a second: the next call
    waits that second, not the rest of the minute our budget counts in."""
    clock = FakeClock()
    taker = budget(brand_a, clock, BudgetPolicy(limit=100_000, window_seconds=60), system="mc")
    taker.acquire(priority=True)
    clock.now += 2
    taker.exhausted(1.0)
    assert taker.acquire(priority=True) == pytest.approx(1.0)
    # And the other way: a refusal that says "later than your window" is waited out whole.
    taker.exhausted(90.0)
    assert taker.acquire(priority=True) == pytest.approx(90.0)


def test_bulk_never_takes_the_last_connection_an_event_gets_it_at_once(brand_a):
    """Mailchimp's cap of concurrent connections: bulk workers hold all but one; the event
    that comes meanwhile takes that one without waiting."""
    clock = FakeClock()
    policy = BudgetPolicy(limit=100_000, window_seconds=60, concurrency=3)
    bulk = budget(brand_a, clock, policy, sleep=fall_asleep, system="mailchimp")
    held = [bulk.lease(), bulk.lease()]
    assert all(held)
    with pytest.raises(Asleep):  # a third bulk connection waits
        bulk.lease()
    events = budget(brand_a, clock, policy, sleep=fall_asleep, system="mailchimp")
    event = events.lease(priority=True)
    assert event
    with pytest.raises(Asleep):  # and at the cap, an event waits too
        events.lease(priority=True)
    bulk.release(held[0])
    with pytest.raises(Asleep):  # the event's connection counts: all but one, in all
        bulk.lease()
    events.release(event)
    assert bulk.lease()


def test_a_cap_of_one_connection_is_shared_by_bulk_and_events(brand_a):
    clock = FakeClock()
    policy = BudgetPolicy(limit=100, window_seconds=60, concurrency=1)
    bulk = budget(brand_a, clock, policy, sleep=fall_asleep, system="one")
    first = bulk.lease()
    assert first
    with pytest.raises(Asleep):
        budget(brand_a, clock, policy, sleep=fall_asleep, system="one").lease(priority=True)
    bulk.release(first)
    assert bulk.lease()

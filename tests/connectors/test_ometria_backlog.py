"""Ometria's queue backlog and push rate (issue 16, "Ometria backlog"), replayed through
httpx.MockTransport with the documented answers: past about 50,000 queued records push answers
429, and X-QueueSize-Limit / X-QueueSize-Remaining say how full the queue is
(docs.ometria.com/docs/ometria-data-api-introduction). The console slows down and waits for
the queue instead of giving up after the HTTP layer's six tries."""

from __future__ import annotations

import json

import httpx
import pytest

from connectors.errors import ConfigurationError, ThrottledError
from connectors.models import Connection, RateBudget
from connectors.registry import connector_for

pytestmark = pytest.mark.django_db

OK = {"status": "OK", "request_id": "e8d96762-7ee7-4c44-8ad4-48483712437f", "accepted": 100}
FAST = {"backlog_wait_seconds": 0.01, "backlog_longest_wait_seconds": 0.05}


def ometria(brand, **settings) -> Connection:
    return Connection.objects.create(
        brand=brand,
        system="ometria",
        base_url="https://api.ometria.com",
        credentials={"api_key": "k"},
        settings={"rate_window_seconds": 0.01, **settings},
    )


def queue(status: int, room: int, body=None) -> httpx.Response:
    return httpx.Response(
        status,
        json=body or (OK if status == 200 else {"status": "ERROR", "message": "Too many"}),
        headers={"X-QueueSize-Limit": "50000", "X-QueueSize-Remaining": str(room)},
    )


def records(n: int) -> list[dict]:
    return [{"@type": "contact", "id": str(i), "email": f"c{i}@example.com"} for i in range(n)]


def test_a_full_queue_is_waited_for_past_six_tries_and_nothing_is_lost(brand_a):
    answers = [queue(429, 20)] * 9 + [queue(200, 49_000)]
    sent = []

    def vendor(request: httpx.Request) -> httpx.Response:
        sent.append(len(json.loads(request.content)))
        return answers[len(sent) - 1]

    with connector_for(ometria(brand_a, **FAST), transport=httpx.MockTransport(vendor)) as om:
        result = om.push(records(100))
        assert om.backlog_waits == 9
    assert len(result.ok) == 100 and not result.failed
    assert sent == [100] * 10, "the same push, sent again once the queue had room"


def test_each_wait_for_the_queue_is_longer_and_every_push_of_the_brand_waits(brand_a):
    waits = []
    conn = ometria(brand_a, backlog_wait_seconds=0.01, backlog_longest_wait_seconds=0.04)
    answers = [queue(429, 0)] * 4 + [queue(200, 49_000)]
    with connector_for(conn, transport=httpx.MockTransport(lambda r: answers.pop(0))) as om:
        real = om.budget.exhausted
        om.budget.exhausted = lambda after: (waits.append(after), real(after))
        om.push(records(10))
    assert waits == [0.01, 0.02, 0.04, 0.04]
    assert RateBudget.objects.get(brand=brand_a, system="ometria").remaining == 0


def test_a_queue_that_stays_full_past_patience_gives_the_records_back(brand_a):
    conn = ometria(brand_a, **FAST, backlog_patience_seconds=0.05)
    full = httpx.MockTransport(lambda r: queue(429, 0))
    with connector_for(conn, transport=full) as om, pytest.raises(ThrottledError) as gave_up:
        om.push(records(3))
    assert gave_up.value.retryable, "the run tries them again later"
    assert "queue stayed full" in str(gave_up.value)


def test_a_rate_429_without_the_queue_headers_is_retried_as_before(brand_a):
    answers = [httpx.Response(429, json={"status": "ERROR"}), queue(200, 49_000)]
    with connector_for(
        ometria(brand_a), transport=httpx.MockTransport(lambda r: answers.pop(0)), max_backoff=0.01
    ) as om:
        assert len(om.push(records(2)).ok) == 2
        assert om.backlog_waits == 0 and om.stats.retries == 1


def test_room_running_low_spaces_the_brands_pushes_out(brand_a):
    conn = ometria(brand_a, queue_low_water=1_000, queue_easing_seconds=2)
    pauses = []
    rooms = [queue(200, 49_000), queue(200, 500), queue(200, 0)]
    with connector_for(conn, transport=httpx.MockTransport(lambda r: rooms.pop(0))) as om:
        om.budget.exhausted = lambda pause, refused=True: pauses.append((pause, refused))
        om.push(records(300))
    # None with room to spare; more the less room is left. Our own easing, not Ometria
    # refusing: the overview does not call it throttling.
    assert pauses == [(1.0, False), (2.0, False)]


def test_the_push_rate_is_a_setting_and_must_be_a_number(brand_a):
    with connector_for(ometria(brand_a)) as om:
        assert om.budget.policy.limit == 8  # the documented default
    conn = Connection.objects.get(system="ometria")
    conn.settings = {"rate_limit": "4"}  # an account on the older page's rate
    conn.save()
    with connector_for(conn) as om:
        assert om.budget.policy.limit == 4
    conn.settings = {"rate_limit": "eight"}
    conn.save()
    with pytest.raises(ConfigurationError, match="Pushes a second"):
        connector_for(conn)


@pytest.mark.django_db(transaction=True)
def test_on_the_sandbox_a_filling_queue_slows_the_pushes_and_all_arrive(sandbox, brand_a):
    from connectors.sandbox.connect import connect_to_sandbox

    # A queue of 250 records that drains 2,000 a second: the third push of 100 finds it full.
    sandbox.configure(
        limits={"ometria_per_second": None},
        settings={"ometria_queue_limit": 250, "ometria_queue_drain_per_second": 2_000},
    )
    conn = next(
        c for c in connect_to_sandbox(brand_a, sandbox.discovery()) if c.system == "ometria"
    )
    # No easing here (low water 0): the pushes run into the full queue and wait for it.
    conn.settings = {**conn.settings, **FAST, "rate_limit": 1000, "queue_low_water": 0}
    conn.save()
    with connector_for(conn) as om:
        result = om.push(records(1_000))
        assert om.backlog_waits > 0
    assert len(result.ok) == 1_000 and not result.failed
    assert sandbox.state("ometria", "contacts", limit=1)["count"] == 1_000

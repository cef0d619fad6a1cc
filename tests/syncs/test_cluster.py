"""Through a real django-q2 cluster: a webhook-triggered run, and a worker killed mid-run."""

from __future__ import annotations

import os
import re
import signal
import time
from urllib.parse import urlsplit

import pytest
import redis
from django_q.conf import Conf

from exceptions.models import OPEN_STATUSES, Ticket
from syncs.models import RunState, StatusMapping, SyncRun
from syncs.services import flow_enqueue
from syncs.webhooks import webhooks_register
from tests.fixtures import loopback

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def worker_redis_url() -> str:
    """The Redis database this test session may use: under pytest-xdist, one per worker.

    django-q2's Redis queues are lists named after the cluster ("console", "bulk"), the same
    in every worker; on one database, worker gw1's cluster would take gw0's task and run it
    against gw1's test database. Numbered databases keep each worker's queues (and cluster
    stats) apart without renaming the clusters the tests are about."""
    url = urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1", ... when run with -n
    if not worker:
        return url.geturl()
    index = int(worker.removeprefix("gw")) + 1  # database 0 stays for runs without -n
    if index > 15:
        raise RuntimeError("Redis has 16 databases by default: run at most 15 workers (-n 15).")
    return url._replace(path=f"/{index}").geturl()


REDIS_URL = worker_redis_url()


def redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def wait_for(check, timeout: float, what: str, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        if proc is not None and proc.poll() is not None:
            raise AssertionError(
                f"the cluster exited while waiting for {what}:\n{proc.log_path.read_text()[-3000:]}"
            )
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def hold_for_fraud(sandbox) -> int:
    """The back office holds an order for fraud: Brightpearl's webhook goes to the console."""
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    order_id = facts["first_order_by_status"]["2"]
    loopback.post(
        f"{sandbox.url}/_sandbox/brightpearl/orders/{order_id}/status",
        json={"statusId": facts["fraud_status_id"]},
    ).raise_for_status()
    return order_id


def webhook_run_done() -> SyncRun | None:
    return SyncRun.objects.filter(
        trigger="webhook", flow="order_lifecycle", state=RunState.SUCCEEDED
    ).first()


@pytest.mark.parametrize("broker", ["orm", "redis"])
def test_a_webhook_run_completes_through_a_real_cluster(
    broker, sandbox, live_server, settings, synced_brand, start_qcluster, monkeypatch
):
    if broker == "redis":
        if not redis_up():
            pytest.skip(f"no Redis answers at {REDIS_URL}")
        # This process enqueues (the webhook view runs here); the cluster must read the same queue.
        monkeypatch.setattr(Conf, "ORM", None)
        monkeypatch.setattr(Conf, "REDIS", REDIS_URL)
        cluster = start_qcluster(REDIS_URL=REDIS_URL, Q_WORKERS="1")
    else:
        cluster = start_qcluster(Q_WORKERS="1")
    settings.CONSOLE_PUBLIC_URL = live_server.url
    webhooks_register(brand=synced_brand)
    order_id = hold_for_fraud(sandbox)
    run = wait_for(webhook_run_done, 90, "the webhook run", cluster)
    assert run.scope == [str(order_id)] and run.written == 1
    assert f"pid {cluster.pid}" not in run.log, "a cluster worker ran it, not this test process"
    assert re.search(r"Claimed by worker pid \d+", run.log)
    pushed = sandbox.state("ometria", "orders", id=order_id)["items"][0]
    assert pushed["status"] == "cancelled" and pushed["is_valid"] is False


@pytest.mark.longest
def test_nothing_lost_or_doubled_through_faults_and_a_killed_worker(
    sandbox, live_brand, start_qcluster
):
    """20% 5xx and lost answers, a worker killed mid-run: every order ends in Ometria in its
    mapped state or in exactly one open ticket."""
    sandbox.reset("demo", orders=2000)
    sandbox.set_faults("brightpearl", error_rate=0.2, lost_response_rate=0.2, latency_ms=20)
    sandbox.set_faults("ometria", error_rate=0.2, lost_response_rate=0.2, latency_ms=20)
    run = flow_enqueue(brand_id=live_brand.pk, flow="order_lifecycle", trigger="manual", full=True)
    env = {"Q_WORKERS": "1", "Q_TIMEOUT": "40", "Q_RETRY": "45", "RUN_STALE_SECONDS": "5"}
    # A full run is bulk work: the bulk queue's own cluster runs it. The default cluster runs
    # the sweeper, which hands the dead worker's run back to the bulk queue.
    cluster = start_qcluster(Q_CLUSTER_NAME="bulk", **env)
    start_qcluster(**env)

    def mid_run():
        run.refresh_from_db()
        return run.state == RunState.RUNNING and 0 < run.read < 2000 and "pid" in run.log

    wait_for(mid_run, 90, "the run to be half-way", cluster)
    worker = int(re.findall(r"Claimed by worker pid (\d+)", run.log)[-1])
    assert worker != cluster.pid
    os.kill(worker, signal.SIGKILL)
    killed_at = run.read

    def finished():
        run.refresh_from_db()
        return run.state in (RunState.SUCCEEDED, RunState.PARTIAL, RunState.FAILED)

    wait_for(finished, 240, "the run to recover and finish", cluster)
    assert run.state == RunState.PARTIAL, run.error or run.log
    assert "Taken over" in run.log and run.attempts >= 2
    assert killed_at < 2000

    # The invariant, checked at the sandbox: Brightpearl's state against Ometria's.
    mappings = {m.bp_status_id: m for m in StatusMapping.objects.filter(brand=live_brand)}
    sent = {o["id"]: o for o in sandbox.state("ometria", "orders", limit=100_000)["items"]}
    open_tickets = list(Ticket.objects.filter(brand=live_brand, status__in=OPEN_STATUSES))
    in_tickets: dict[str, int] = {}
    for ticket in open_tickets:
        ids = ticket.snapshot.get("waiting_ids") or (
            [ticket.source_id] if ticket.source_id.isdigit() else []
        )
        for order_id in ids:
            in_tickets[order_id] = in_tickets.get(order_id, 0) + 1
    orders = sandbox.state("brightpearl", "orders", type=1, limit=100_000)["items"]
    assert len(orders) == 2000
    for order in orders:
        key = str(order["id"])
        mapping = mappings.get(order["orderStatus"]["orderStatusId"])
        pushed = sent.get(key)
        if mapping is not None and pushed is not None:
            expected = "cancelled" if mapping.cancels else mapping.ometria_status
            assert pushed["status"] == expected, key
            assert key not in in_tickets, f"order {key} is synced and also in a ticket"
        else:
            assert in_tickets.get(key) == 1, (
                f"order {key} is neither synced nor in exactly one ticket"
            )


@pytest.mark.parametrize("broker", ["orm", "redis"])
def test_events_go_through_while_a_backfill_fills_the_bulk_cluster(
    broker, sandbox, live_server, settings, live_brand, start_qcluster, monkeypatch
):
    """Two clusters, as in production: a slow full run holds the bulk cluster's only worker,
    and a webhook's run still goes through the events cluster at once."""
    env = {"Q_WORKERS": "1"}
    if broker == "redis":
        if not redis_up():
            pytest.skip(f"no Redis answers at {REDIS_URL}")
        monkeypatch.setattr(Conf, "ORM", None)
        monkeypatch.setattr(Conf, "REDIS", REDIS_URL)
        env["REDIS_URL"] = REDIS_URL
    sandbox.reset("demo", orders=3000)
    # Brightpearl answers slowly: the full run lasts well beyond the webhook's.
    sandbox.set_faults("brightpearl", latency_ms=150)
    settings.CONSOLE_PUBLIC_URL = live_server.url
    webhooks_register(brand=live_brand)
    backfill = flow_enqueue(
        brand_id=live_brand.pk, flow="order_lifecycle", trigger="manual", full=True
    )
    bulk = start_qcluster(Q_CLUSTER_NAME="bulk", **env)
    events = start_qcluster(**env)

    def backfill_reading():
        backfill.refresh_from_db()
        return backfill.state == RunState.RUNNING and backfill.read > 0

    wait_for(backfill_reading, 90, "the backfill to be reading", bulk)
    changed_at = time.monotonic()
    order_id = hold_for_fraud(sandbox)
    run = wait_for(webhook_run_done, 60, "the webhook run", events)
    took = time.monotonic() - changed_at
    backfill.refresh_from_db()
    assert backfill.state in (RunState.RUNNING, RunState.QUEUED), "the backfill was still going"
    assert run.scope == [str(order_id)] and run.written == 1
    assert took < 15, f"the webhook's run waited {took:.1f} s"
    pushed = sandbox.state("ometria", "orders", id=order_id)["items"][0]
    assert pushed["status"] == "cancelled"

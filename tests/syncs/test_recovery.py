"""Runs blocked on refused credentials recover by themselves once the connection is fixed."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from connectors.models import Connection
from connectors.services import connection_seen
from exceptions.models import OPEN_STATUSES, Ticket
from syncs import recovery, services, sweeper
from syncs.models import RunState, SyncRun

pytestmark = pytest.mark.django_db(transaction=True)


def _break(brand) -> tuple[Connection, dict]:
    """The brand's Brightpearl token is replaced by a wrong one."""
    conn = Connection.objects.get(brand=brand, system="brightpearl")
    good = dict(conn.credentials)
    conn.credentials = {**good, "account_token": "wrong"}
    conn.save()
    return conn, good


def _enqueued():
    """Runs handed to the queue: run in place, as a worker would."""
    return mock.patch.object(
        services, "_enqueue", lambda run_id, queue: services.flow_run(run_id=run_id, sliced=True)
    )


def _failed_runs(brand) -> list[SyncRun]:
    runs = []
    for scope in ([], ["10001"], []):
        run = SyncRun.objects.create(
            brand=brand, flow="order_lifecycle", trigger="manual", scope=scope, full=not scope
        )
        services.flow_run(run_id=run.pk)
        run.refresh_from_db()
        runs.append(run)
    return runs


def test_fixing_the_credentials_sends_the_blocked_runs_again_and_resolves_the_ticket(
    sandbox, live_brand
):
    conn, good = _break(live_brand)
    runs = _failed_runs(live_brand)
    assert [r.state for r in runs] == [RunState.FAILED] * 3
    assert {r.blocked_on for r in runs} == {"brightpearl"}
    ticket = Ticket.objects.get(brand=live_brand, type__code="auth_failure")
    with _enqueued():
        conn.credentials = good
        conn.save()  # the admin pastes the right token
    for run in runs:
        run.refresh_from_db()
    full_older, scoped, newest = runs
    assert scoped.state == RunState.SUCCEEDED
    assert sandbox.state("ometria", "orders", id="10001")["items"], "the webhook's order went"
    assert newest.state in (RunState.SUCCEEDED, RunState.PARTIAL) and newest.full
    assert "Queued again: the Brightpearl connection was changed" in newest.log
    # The older reading run is superseded by the newest, not run twice.
    assert full_older.state == RunState.FAILED and full_older.blocked_on == ""
    ticket.refresh_from_db()
    assert ticket.status not in OPEN_STATUSES, "the run that worked resolved the ticket"


def test_a_failing_health_check_does_not_requeue_but_a_working_one_does(sandbox, live_brand):
    conn, good = _break(live_brand)
    run = _failed_runs(live_brand)[1]
    with mock.patch.object(recovery, "runs_unblock") as unblock:
        connection_seen(connection=conn, ok=False, message="still refused")
        assert not unblock.called
    with _enqueued():
        Connection.objects.filter(pk=conn.pk).update(credentials_token="")
        conn.refresh_from_db()
        conn.credentials = good
        conn.save(update_fields=["credentials_token"])  # fixed at the source
        run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED


def test_the_sweeper_tries_blocked_runs_again_after_a_while(sandbox, live_brand):
    conn, good = _break(live_brand)
    run = _failed_runs(live_brand)[1]
    # The vendor's side is fixed (the key re-enabled): the console saved nothing.
    Connection.objects.filter(pk=conn.pk).update(
        credentials_token=Connection(credentials=good).credentials_token
    )
    with _enqueued():
        assert sweeper.runs_sweep()["unblocked"] == 0, "not yet: it failed a moment ago"
        SyncRun.objects.filter(pk=run.pk).update(
            finished_at=timezone.now() - timedelta(minutes=recovery.BLOCKED_RETRY_MINUTES + 1)
        )
        assert sweeper.runs_sweep()["unblocked"] >= 1
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED and "trying again by itself" in run.log

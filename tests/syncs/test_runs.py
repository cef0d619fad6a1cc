"""Runs: claims, takeovers, failures that retry or become tickets, schedules, the sweeper."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from brands.models import AuditEvent
from connectors.errors import AuthError, TransientError
from connectors.models import Connection
from exceptions.models import Ticket
from syncs import services, sweeper
from syncs.models import FlowConfig, RunState, SyncRun
from syncs.overview import flow_lag

pytestmark = pytest.mark.django_db


def queued(brand, flow="order_lifecycle", **kw) -> SyncRun:
    return SyncRun.objects.create(brand=brand, flow=flow, trigger="manual", **kw)


def finish(run, progress=None, sliced=False):
    run.state = RunState.SUCCEEDED
    run.finished_at = timezone.now()
    run.save()
    return run


def test_tasks_get_ids_only(brand_a, django_capture_on_commit_callbacks):
    with (
        mock.patch("syncs.services.async_task") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        run = services.flow_enqueue(brand_id=brand_a.pk, flow="order_lifecycle", trigger="manual")
    enqueue.assert_called_once()
    assert enqueue.call_args.args == ("syncs.tasks.run_flow", run.pk)


def test_bulk_runs_go_on_the_bulk_queue_and_events_on_the_default_one(
    brand_a, django_capture_on_commit_callbacks, settings
):
    """A backfill never holds the workers that every brand's webhooks need: an unscoped
    read goes on the bulk queue (its own cluster), a scoped one (webhook, retry, one record)
    on the default queue. With no bulk queue set, everything shares the one."""
    with (
        mock.patch("syncs.services.async_task") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.flow_enqueue(
            brand_id=brand_a.pk, flow="order_lifecycle", trigger="manual", full=True
        )
        services.flow_enqueue(brand_id=brand_a.pk, flow="order_lifecycle", trigger="schedule")
        services.flow_enqueue(
            brand_id=brand_a.pk, flow="order_lifecycle", trigger="webhook", scope=["7"]
        )
        settings.BULK_QUEUE = ""
        services.flow_enqueue(
            brand_id=brand_a.pk, flow="order_lifecycle", trigger="manual", full=True
        )
    assert [c.kwargs["cluster"] for c in enqueue.call_args_list] == ["bulk", "bulk", None, None]


def test_a_scheduled_read_is_run_by_the_bulk_cluster(brand_a):
    config = services.flow_configure(brand=brand_a, flow="order_lifecycle", enabled=True)
    assert config.schedule.cluster == "bulk"


def test_an_unknown_flow_is_refused_by_name(brand_a):
    with pytest.raises(ValueError, match="no flow called “nope”"):
        services.flow_enqueue(brand_id=brand_a.pk, flow="nope", trigger="manual")


def test_a_task_delivered_twice_runs_once(brand_a):
    run = queued(brand_a)
    with mock.patch("syncs.engine.execute", side_effect=finish) as execute:
        assert services.flow_run(run_id=run.pk) is not None
        assert services.flow_run(run_id=run.pk) is None
    execute.assert_called_once()


def test_a_run_whose_worker_died_is_taken_over(brand_a):
    run = queued(
        brand_a, state=RunState.RUNNING, heartbeat=timezone.now() - timedelta(hours=1), attempts=1
    )
    with mock.patch("syncs.engine.execute", side_effect=finish) as execute:
        services.flow_run(run_id=run.pk)
    execute.assert_called_once()
    run.refresh_from_db()
    assert run.attempts == 2 and "Taken over" in run.log


def test_a_live_run_is_not_taken_over(brand_a):
    run = queued(brand_a, state=RunState.RUNNING, heartbeat=timezone.now())
    with mock.patch("syncs.engine.execute") as execute:
        assert services.flow_run(run_id=run.pk) is None
    execute.assert_not_called()


def test_while_one_run_reads_a_scheduled_one_skips_a_full_one_waits_a_webhook_one_goes(brand_a):
    reading = queued(brand_a, state=RunState.RUNNING, heartbeat=timezone.now())
    scheduled = SyncRun.objects.create(brand=brand_a, flow="order_lifecycle", trigger="schedule")
    full = queued(brand_a, full=True)
    webhook = queued(brand_a, scope=["10001"])
    with mock.patch("syncs.engine.execute", side_effect=finish) as execute:
        assert services.flow_run(run_id=scheduled.pk) is None
        assert services.flow_run(run_id=full.pk) is None
        services.flow_run(run_id=webhook.pk)
    scheduled.refresh_from_db()
    assert scheduled.state == RunState.SUCCEEDED and "Skipped" in scheduled.log
    full.refresh_from_db()
    assert full.state == RunState.QUEUED and f"Waiting for run {reading.pk}" in full.log
    assert Schedule.objects.filter(func="syncs.tasks.run_flow", args=str(full.pk)).exists()
    execute.assert_called_once()


def test_a_scheduled_run_behind_a_partner_flow_waits_instead_of_skipping(brand_a):
    # Refunds every 5 minutes and orders every 15 meet at every order schedule.
    refunds = queued(brand_a, flow="refunds", state=RunState.RUNNING, heartbeat=timezone.now())
    scheduled = SyncRun.objects.create(brand=brand_a, flow="order_lifecycle", trigger="schedule")
    assert services.flow_run(run_id=scheduled.pk) is None
    scheduled.refresh_from_db()
    assert scheduled.state == RunState.QUEUED and f"Waiting for run {refunds.pk}" in scheduled.log


def test_a_one_off_flow_never_has_two_senders(brand_a):
    queued(brand_a, flow="shipments", state=RunState.RUNNING, heartbeat=timezone.now(), scope=["1"])
    webhook = queued(brand_a, flow="shipments", scope=["2"])
    with mock.patch("syncs.engine.execute", side_effect=finish) as execute:
        assert services.flow_run(run_id=webhook.pk) is None
    execute.assert_not_called()
    webhook.refresh_from_db()
    assert webhook.state == RunState.QUEUED


def test_an_inactive_brand_runs_nothing(brand_a):
    brand_a.active = False
    brand_a.save()
    run = queued(brand_a, scope=["1"])
    with mock.patch("syncs.engine.execute") as execute:
        assert services.flow_run(run_id=run.pk) is None
    execute.assert_not_called()
    run.refresh_from_db()
    assert run.state == RunState.FAILED and "switched off" in run.error


def test_a_run_taken_over_stops_without_writing(brand_a):
    from syncs import engine

    run = queued(brand_a)

    def taken_over(run, progress=None, sliced=False):
        SyncRun.objects.filter(pk=run.pk).update(attempts=run.attempts + 1)  # another worker
        engine._fenced_save(run, ["read"])

    with mock.patch("syncs.engine.execute", side_effect=taken_over):
        assert services.flow_run(run_id=run.pk) is None
    run.refresh_from_db()
    assert run.state == RunState.RUNNING, "the run belongs to the other worker"


def test_an_unexpected_error_fails_the_run_with_a_ticket_for_the_agency(brand_a, caplog):
    run = queued(brand_a)
    with mock.patch("syncs.engine.execute", side_effect=KeyError("orderRows")):
        services.flow_run(run_id=run.pk)
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    ticket = Ticket.objects.get(type__code="run_crashed")
    assert ticket.team == "admin" and ticket.flow == "order_lifecycle"
    # The pages and the ticket say it in words; Python's own text is for the agency's log.
    assert run.error == (
        "An unexpected error stopped the run. The agency has the details in the server log, "
        f"under run {run.pk}."
    )
    assert ticket.error_message == run.error and ticket.error_code == "unexpected_error"
    logged = [r for r in caplog.records if r.getMessage() == f"run {run.pk} failed unexpectedly"]
    assert logged and logged[0].exc_info[0] is KeyError


def test_an_auth_failure_fails_the_run_with_one_ticket_for_admins(brand_a):
    conn = Connection.objects.create(
        brand=brand_a,
        system="brightpearl",
        base_url="https://x.example",
        credentials={"app_ref": "a", "account_token": "b"},
        settings={"account": "acme"},
    )
    error = AuthError(
        "Brightpearl did not accept the app reference and token.", vendor="brightpearl", status=401
    )
    for _ in range(2):
        run = queued(brand_a)
        with mock.patch("syncs.engine.execute", side_effect=error):
            services.flow_run(run_id=run.pk)
        run.refresh_from_db()
        assert run.state == RunState.FAILED
        assert "did not accept the saved credentials" in run.error
    ticket = Ticket.objects.get()
    assert ticket.type.code == "auth_failure" and ticket.team == "admin"
    assert ticket.source_id == f"connection:{conn.pk}" and ticket.occurrences == 2
    assert not Schedule.objects.filter(func="syncs.tasks.run_flow").exists(), "auth is not retried"
    # The admin's list of connections says so too, not "Not tested yet".
    conn.refresh_from_db()
    assert conn.status == "failing" and "did not accept" in conn.last_error
    assert AuditEvent.objects.filter(action="connection.health", brand=brand_a).count() == 1


def test_a_temporary_failure_is_retried_later_then_becomes_a_ticket(brand_a):
    run = queued(brand_a, scope=["10001", "10002"])
    error = TransientError(
        "Brightpearl is temporarily unavailable (HTTP 503).", vendor="brightpearl", status=503
    )
    with mock.patch("syncs.engine.execute", side_effect=error):
        for attempt in range(1, services.RUN_MAX_ATTEMPTS + 1):
            services.flow_run(run_id=run.pk)
            run.refresh_from_db()
            if attempt < services.RUN_MAX_ATTEMPTS:
                assert run.state == RunState.QUEUED
                retry = Schedule.objects.filter(
                    func="syncs.tasks.run_flow", args=str(run.pk)
                ).latest("pk")
                assert retry.schedule_type == Schedule.ONCE and retry.next_run > timezone.now()
    assert run.state == RunState.FAILED and run.attempts == services.RUN_MAX_ATTEMPTS
    ticket = Ticket.objects.get(type__code="attempts_exhausted")
    assert ticket.snapshot["waiting_ids"] == ["10001", "10002"]
    assert ticket.flow == "order_lifecycle" and ticket.type.retryable


def test_flow_configure_schedules_and_audits(brand_a, admin_user):
    config = services.flow_configure(
        brand=brand_a, flow="refunds", enabled=True, schedule_minutes=5, actor=admin_user
    )
    schedule = Schedule.objects.get(pk=config.schedule_id)
    assert schedule.func == "syncs.tasks.scheduled_run" and schedule.args == str(config.pk)
    assert schedule.minutes == 5
    services.flow_configure(brand=brand_a, flow="refunds", enabled=False, actor=admin_user)
    assert not Schedule.objects.filter(pk=schedule.pk).exists()
    assert AuditEvent.objects.filter(action="flow.configured", actor=admin_user).count() == 2


def test_the_sweeper_revives_lost_runs_and_gives_up_after_the_last_attempt(brand_a):
    old = timezone.now() - timedelta(hours=1)
    lost = queued(brand_a, state=RunState.RUNNING, heartbeat=old, attempts=1)
    dead = queued(
        brand_a,
        flow="refunds",
        state=RunState.RUNNING,
        heartbeat=old,
        attempts=services.RUN_MAX_ATTEMPTS,
    )
    with mock.patch("syncs.services._enqueue") as enqueue, mock.patch("syncs.sweeper.async_task"):
        report = sweeper.runs_sweep()
    enqueue.assert_called_once_with(lost.pk, "bulk")
    assert report["revived"] == 1 and report["gave_up"] == 1
    dead.refresh_from_db()
    assert dead.state == RunState.FAILED
    assert Ticket.objects.get(type__code="attempts_exhausted").flow == "refunds"


def test_a_late_flow_gets_a_sync_delayed_ticket_that_resolves_when_it_catches_up(brand_a):
    config = FlowConfig.objects.create(
        brand=brand_a,
        flow="order_lifecycle",
        enabled=True,
        schedule_minutes=15,
        cursor=timezone.now() - timedelta(hours=3),
    )
    with mock.patch("syncs.sweeper.async_task"):
        sweeper.runs_sweep()
    ticket = Ticket.objects.get(type__code="sync_delayed")
    assert "behind" in ticket.title and ticket.team == "operations"
    config.cursor = timezone.now()
    config.save()
    with mock.patch("syncs.sweeper.async_task"):
        sweeper.runs_sweep()
    ticket.refresh_from_db()
    assert ticket.status == "resolved"


def test_lag_is_how_long_the_oldest_change_not_synced_has_waited(brand_a):
    now = timezone.now()
    config = FlowConfig.objects.create(
        brand=brand_a, flow="order_lifecycle", enabled=True, cursor=now - timedelta(minutes=5)
    )
    assert flow_lag(config, now) == timedelta(minutes=5)
    from syncs.models import RecordState

    # An order changed two years ago, held back for a mapping two hours ago: two hours.
    RecordState.objects.create(
        brand=brand_a,
        flow="order_lifecycle",
        source_id="1",
        status="waiting",
        source_updated=now - timedelta(days=730),
        held_since=now - timedelta(hours=2),
    )
    assert flow_lag(config, now) == timedelta(hours=2)


def test_sync_command_names_what_is_wrong():
    with pytest.raises(CommandError, match="No brand has the slug “nope”"):
        call_command("sync", "nope", "order_lifecycle")


def test_sync_command_reports_the_run(brand_a):
    out, err = StringIO(), StringIO()
    with mock.patch("syncs.engine.execute", side_effect=finish):
        call_command("sync", brand_a.slug, "customers", stdout=out, stderr=err)
    assert "succeeded" in out.getvalue().lower()
    with pytest.raises(CommandError, match="No flow is called “x”"):
        call_command("sync", brand_a.slug, "x")


def test_overview_shows_each_flow_with_its_last_run_and_a_link_to_its_tickets(
    client, ops_user, brand_a
):
    FlowConfig.objects.create(
        brand=brand_a, flow="order_lifecycle", enabled=True, cursor=timezone.now()
    )
    SyncRun.objects.create(
        brand=brand_a,
        flow="order_lifecycle",
        trigger="schedule",
        state="partial",
        written=12,
        waiting=3,
    )
    from exceptions.services import ticket_raise

    ticket_raise(
        brand=brand_a,
        type_code="unmapped_status",
        title="t",
        flow="order_lifecycle",
        source_id="status:9",
    )
    client.force_login(ops_user)
    page = client.get(reverse("home")).content.decode()
    assert "Order lifecycle → Ometria" in page
    assert "12 written, 3 waiting" in page
    assert "Finished with exceptions" in page
    assert f"?brand={brand_a.slug}&amp;flow=order_lifecycle&amp;status=open" in page
    # Open tickets by the team that owns them (unmapped statuses: marketing).
    assert "1 marketing</a>" in page


def test_a_retry_whose_run_fails_says_so_on_its_ticket(brand_a):
    from exceptions.services import ticket_raise

    ticket = ticket_raise(
        brand=brand_a,
        type_code="rejected_by_target",
        title="Order 7 refused",
        flow="order_lifecycle",
        source_system="brightpearl",
        source_id="7",
    )
    run = queued(brand_a, scope=["7"], ticket_id=ticket.pk)
    error = AuthError(
        "Brightpearl did not accept the app reference and token.", vendor="brightpearl", status=401
    )
    with mock.patch("syncs.engine.execute", side_effect=error):
        services.flow_run(run_id=run.pk)
    event = ticket.events.get(kind="retry_failed")
    assert "did not accept the saved credentials" in event.note
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_flows_that_write_the_same_records_do_not_read_at_the_same_time(brand_a):
    queued(brand_a, flow="order_lifecycle", state=RunState.RUNNING, heartbeat=timezone.now())
    refunds = queued(brand_a, flow="refunds")
    refunds_webhook = queued(brand_a, flow="refunds", scope=["10301"])
    customers = queued(brand_a, flow="customers")
    with mock.patch("syncs.engine.execute", side_effect=finish) as execute:
        assert services.flow_run(run_id=refunds.pk) is None
        services.flow_run(run_id=refunds_webhook.pk)
        services.flow_run(run_id=customers.pk)
    refunds.refresh_from_db()
    assert refunds.state == RunState.QUEUED and "Waiting for run" in refunds.log
    assert execute.call_count == 2


def test_a_run_that_waited_for_another_goes_as_soon_as_that_one_ends(brand_a):
    orders = queued(brand_a, flow="order_lifecycle", full=True)
    refunds = queued(brand_a, flow="refunds", state=RunState.RUNNING, heartbeat=timezone.now())
    unrelated = queued(brand_a, flow="customers")
    services._enqueue_later(unrelated, seconds=30, why="attempt 2")
    assert services.flow_run(run_id=orders.pk) is None
    assert Schedule.objects.filter(args=str(orders.pk)).count() == 1
    # The refunds run ends (here, a takeover by this test's worker finishing it).
    SyncRun.objects.filter(pk=refunds.pk).update(state=RunState.QUEUED)
    with (
        mock.patch("syncs.engine.execute", side_effect=finish),
        mock.patch("syncs.services.async_task") as enqueue,
    ):
        services.flow_run(run_id=refunds.pk)
    assert [c.args[1] for c in enqueue.call_args_list] == [orders.pk]
    assert not Schedule.objects.filter(args=str(orders.pk)).exists()
    # A run waiting for its backoff, not for this run, keeps its time.
    assert Schedule.objects.filter(args=str(unrelated.pk)).count() == 1


def test_a_scheduled_run_reconciles_in_full_once_a_day(brand_a):
    config = FlowConfig.objects.create(brand=brand_a, flow="customers", enabled=True)
    with mock.patch("syncs.engine.execute", side_effect=finish):
        first = services.flow_scheduled(config_id=config.pk)
        second = services.flow_scheduled(config_id=config.pk)
    assert first.full is True and second.full is False


def test_record_states_are_saved_in_bulk_last_one_winning(brand_a):
    from syncs.models import RecordState
    from syncs.states import save_states

    def state(source_id, status="synced", detail=""):
        return RecordState(
            brand_id=brand_a.pk,
            flow="customers",
            source_id=source_id,
            status=status,
            detail=detail,
            last_pushed={"id": source_id},
        )

    RecordState.objects.create(
        brand=brand_a, flow="customers", source_id="7", status="failed", detail="old"
    )
    # More rows than one statement may carry on SQLite, and one record twice in the batch
    # (an error on PostgreSQL if sent in one statement): the later state is kept.
    batch = [state(str(i)) for i in range(3000)]
    batch.append(state("7", status="waiting", detail="second"))
    save_states(batch)

    assert RecordState.objects.filter(brand=brand_a, flow="customers").count() == 3000
    seven = RecordState.objects.get(brand=brand_a, flow="customers", source_id="7")
    assert (seven.status, seven.detail, seven.last_pushed) == ("waiting", "second", {"id": "7"})

"""The services are the only way a ticket changes: each one, its refusals, and its history."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from brands.models import Team
from exceptions.models import EventKind, ExceptionType, TeamOverride, Ticket, TicketStatus
from exceptions.services import (
    HIDDEN,
    TicketActionError,
    people_of_brand,
    snapshot_clean,
    ticket_comment,
    ticket_ignore,
    ticket_raise,
    ticket_reassign,
    ticket_reopen,
    ticket_resolve,
    ticket_retry,
    tickets_autoresolve,
    tickets_bulk,
)
from syncs.models import SyncRun
from tests.exceptions.conftest import raise_ticket

pytestmark = pytest.mark.django_db


def kinds(ticket: Ticket) -> list[str]:
    return list(ticket.events.values_list("kind", flat=True))


# --- raise, repeat, reopen ----------------------------------------------------------------
def test_raise_opens_a_ticket_owned_by_the_types_team(brand_a):
    ticket = raise_ticket(brand_a, "unmapped_status", source_id="status:33", title="Status 33")
    assert ticket.status == TicketStatus.OPEN
    assert ticket.team == Team.MARKETING
    assert ticket.occurrences == 1
    assert ticket.fingerprint == f"{brand_a.pk}:unmapped_status:brightpearl:status:33"
    assert kinds(ticket) == [EventKind.RAISED]


def test_a_brands_override_gives_the_type_to_another_team(brand_a, brand_b):
    TeamOverride.objects.create(
        brand=brand_a,
        exception_type=ExceptionType.objects.get(code="unmapped_status"),
        team=Team.OPERATIONS,
    )
    assert raise_ticket(brand_a, "unmapped_status").team == Team.OPERATIONS
    assert raise_ticket(brand_b, "unmapped_status").team == Team.MARKETING


def test_a_repeat_raises_the_count_on_the_one_ticket(brand_a):
    first = raise_ticket(brand_a, source_id="1001")
    again = raise_ticket(brand_a, source_id="1001", error_message="The email address is not valid.")
    assert again.pk == first.pk
    assert Ticket.objects.count() == 1
    again.refresh_from_db()
    assert again.occurrences == 2
    assert kinds(again) == [EventKind.RAISED, EventKind.SEEN_AGAIN]
    # Within the hour and with the same error, a third sighting adds no history line...
    raise_ticket(brand_a, source_id="1001", error_message="The email address is not valid.")
    assert kinds(again) == [EventKind.RAISED, EventKind.SEEN_AGAIN]
    # ...but a new error does, and the ticket shows the newest one.
    latest = raise_ticket(brand_a, source_id="1001", error_message="Currency is missing.")
    assert latest.occurrences == 4
    assert latest.error_message == "Currency is missing."
    assert kinds(latest)[-1] == EventKind.SEEN_AGAIN


def test_the_same_record_on_two_brands_is_two_tickets(brand_a, brand_b):
    a = raise_ticket(brand_a, source_id="1001")
    b = raise_ticket(brand_b, source_id="1001")
    assert a.pk != b.pk


def test_a_resolved_problem_that_comes_back_reopens_its_ticket(brand_a, ops_user):
    ticket = raise_ticket(brand_a, source_id="1001")
    ticket_resolve(ticket=ticket, actor=ops_user, note="Fixed the email in Brightpearl.")
    reopened = raise_ticket(brand_a, source_id="1001")
    assert reopened.pk == ticket.pk
    assert reopened.status == TicketStatus.OPEN
    assert reopened.resolved_at is None
    assert reopened.occurrences == 2
    assert kinds(reopened)[-1] == EventKind.REOPENED
    assert "came back" in reopened.events.last().note


def test_an_ignored_ticket_stays_ignored_but_counts_repeats(brand_a, ops_user):
    ticket = raise_ticket(brand_a, source_id="1001")
    ticket_ignore(ticket=ticket, actor=ops_user)
    again = raise_ticket(brand_a, source_id="1001")
    assert again.status == TicketStatus.IGNORED
    assert again.occurrences == 2


def test_a_failed_retry_is_recorded_as_such(brand_a):
    ticket = raise_ticket(brand_a, source_id="1001")
    again = raise_ticket(brand_a, source_id="1001", retry_of=ticket, error_message="Still bad.")
    assert kinds(again)[-1] == EventKind.RETRY_FAILED
    assert again.events.last().note == "Still bad."


def test_secrets_never_reach_a_ticket(brand_a):
    ticket = raise_ticket(
        brand_a,
        snapshot={
            "order": {"id": 7, "api_key": "sk-live-123", "headers": {"Authorization": "Bearer x"}},
            "password": "hunter2",
            "items": [{"token": "abc", "sku": "TEE-1"}],
            "match_key": "kept",
        },
    )
    ticket.refresh_from_db()
    assert ticket.snapshot == {
        "order": {"id": 7, "api_key": HIDDEN, "headers": {"Authorization": HIDDEN}},
        "password": HIDDEN,
        "items": [{"token": HIDDEN, "sku": "TEE-1"}],
        "match_key": "kept",
    }
    assert "hunter2" not in str(snapshot_clean({"nested": [{"client_secret": "hunter2"}]}))


# --- auto-resolve ---------------------------------------------------------------------------
def test_autoresolve_closes_the_open_tickets_of_records_that_synced(brand_a, brand_b):
    synced = raise_ticket(brand_a, source_id="1001")
    waiting = raise_ticket(brand_a, source_id="1002")
    other_brand = raise_ticket(brand_b, source_id="1001")
    count = tickets_autoresolve(
        brand=brand_a, source_system="brightpearl", source_ids=["1001"], note="It synced in run 9."
    )
    assert count == 1
    synced.refresh_from_db()
    waiting.refresh_from_db()
    other_brand.refresh_from_db()
    assert synced.status == TicketStatus.RESOLVED and synced.resolved_at is not None
    assert kinds(synced)[-1] == EventKind.AUTO_RESOLVED
    assert synced.events.last().actor is None
    assert synced.events.last().note == "It synced in run 9."
    assert waiting.status == TicketStatus.OPEN
    assert other_brand.status == TicketStatus.OPEN


def test_autoresolve_respects_flow_and_types(brand_a):
    lifecycle = raise_ticket(brand_a, source_id="1001", flow="order_lifecycle")
    refunds = raise_ticket(brand_a, "async_rejection", source_id="1001", flow="refunds")
    assert (
        tickets_autoresolve(
            brand=brand_a, source_system="brightpearl", source_ids=["1001"], flow="refunds"
        )
        == 1
    )
    assert (
        tickets_autoresolve(
            brand=brand_a,
            source_system="brightpearl",
            source_ids=["1001"],
            type_codes=["unmapped_status"],
        )
        == 0
    )
    lifecycle.refresh_from_db()
    refunds.refresh_from_db()
    assert (lifecycle.status, refunds.status) == (TicketStatus.OPEN, TicketStatus.RESOLVED)
    assert tickets_autoresolve(brand=brand_a, source_system="brightpearl", source_ids=[]) == 0


# --- reassign ---------------------------------------------------------------------------------
def test_reassign_to_a_team(brand_a, ops_user):
    ticket = raise_ticket(brand_a, "unmapped_status")
    ticket_reassign(ticket=ticket, actor=ops_user, team=Team.OPERATIONS)
    ticket.refresh_from_db()
    assert ticket.team == Team.OPERATIONS and ticket.assignee is None
    event = ticket.events.last()
    assert event.kind == EventKind.REASSIGNED and event.actor == ops_user
    assert event.detail == {
        "before": {"team": "marketing", "assignee": ""},
        "after": {"team": "operations", "assignee": ""},
    }
    assert event.note == "Reassigned to the Operations team."


def test_reassign_to_a_person_takes_their_team_and_starts_work(brand_a, ops_user, finance_user):
    ticket = raise_ticket(brand_a, "unmapped_status")
    ticket_reassign(ticket=ticket, actor=ops_user, assignee=finance_user, note="Yours, Fiona.")
    ticket.refresh_from_db()
    assert ticket.assignee == finance_user
    assert ticket.team == Team.FINANCE
    assert ticket.status == TicketStatus.IN_PROGRESS
    assert ticket.events.last().note == "Yours, Fiona."
    # Back to a team with nobody in particular: nobody is working on it any more.
    ticket_reassign(ticket=ticket, actor=ops_user, team=Team.MARKETING)
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.status) == (None, TicketStatus.OPEN)


def test_reassign_to_a_person_of_another_brand_is_refused(brand_a, ops_user, bravo_user):
    ticket = raise_ticket(brand_a)
    with pytest.raises(TicketActionError, match="does not belong to Acme Apparel"):
        ticket_reassign(ticket=ticket, actor=ops_user, assignee=bravo_user)
    ticket.refresh_from_db()
    assert ticket.assignee is None
    assert kinds(ticket) == [EventKind.RAISED]


@pytest.mark.parametrize(
    ("team", "use_person", "message"),
    [
        ("", False, "Choose a team or a person"),
        ("sales", False, "“sales” is not a team"),
        (Team.MARKETING, True, "is not in the Marketing team"),
    ],
)
def test_reassign_refusals(brand_a, ops_user, finance_user, team, use_person, message):
    ticket = raise_ticket(brand_a)
    with pytest.raises(TicketActionError, match=message):
        ticket_reassign(
            ticket=ticket, actor=ops_user, team=team, assignee=finance_user if use_person else None
        )


def test_reassign_to_the_current_owner_or_of_a_closed_ticket_is_refused(brand_a, ops_user):
    ticket = raise_ticket(brand_a)  # ecommerce owns "rejected by the target"
    with pytest.raises(TicketActionError, match="already with the Ecommerce team"):
        ticket_reassign(ticket=ticket, actor=ops_user, team=Team.ECOMMERCE)
    ticket_resolve(ticket=ticket, actor=ops_user, note="Done.")
    with pytest.raises(TicketActionError, match="only an open ticket can be reassigned"):
        ticket_reassign(ticket=ticket, actor=ops_user, team=Team.OPERATIONS)


def test_people_of_brand_are_its_active_members(brand_a, ops_user, finance_user, bravo_user):
    finance_user.is_active = False
    finance_user.save()
    assert list(people_of_brand(brand_a)) == [ops_user]


# --- retry ------------------------------------------------------------------------------------
def test_retry_enqueues_a_run_of_exactly_that_record(
    brand_a, ops_user, django_capture_on_commit_callbacks
):
    ticket = raise_ticket(brand_a, source_id="1001", flow="order_lifecycle")
    with (
        mock.patch("syncs.services.async_task") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        run = ticket_retry(ticket=ticket, actor=ops_user)
    assert isinstance(run, SyncRun)
    assert (run.brand_id, run.flow, run.trigger) == (brand_a.pk, "order_lifecycle", "retry")
    assert run.scope == ["1001"]
    assert run.ticket_id == ticket.pk
    enqueue.assert_called_once()
    assert enqueue.call_args.args == ("syncs.tasks.run_flow", run.pk)
    event = ticket.events.last()
    assert (event.kind, event.actor, event.detail["run"]) == (EventKind.RETRIED, ops_user, run.pk)
    # The ticket stays open: it resolves itself only when the sync passes.
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN


def test_a_second_retry_waits_for_the_first(brand_a, ops_user):
    ticket = raise_ticket(brand_a, source_id="1001")
    with mock.patch("syncs.services.async_task"):
        run = ticket_retry(ticket=ticket, actor=ops_user)
        with pytest.raises(
            TicketActionError, match=f"already on its way \\(run {run.pk}, queued\\)"
        ):
            ticket_retry(ticket=ticket, actor=ops_user)
        SyncRun.objects.filter(pk=run.pk).update(state="partial")
        assert ticket_retry(ticket=ticket, actor=ops_user).pk != run.pk


def test_retry_of_an_unmapped_status_syncs_its_waiting_orders(brand_a, marketing_user):
    ticket = raise_ticket(
        brand_a,
        "unmapped_status",
        source_id="status:33",
        snapshot={"status_id": 33, "waiting_ids": ["11", "12", "13"]},
    )
    with mock.patch("syncs.services.async_task"):
        run = ticket_retry(ticket=ticket, actor=marketing_user)
    assert run.scope == ["11", "12", "13"]


def test_retry_of_a_flow_wide_failure_runs_the_whole_flow(brand_a, ops_user):
    ticket = raise_ticket(
        brand_a,
        "attempts_exhausted",
        source_system="console",
        source_id="flow:order_lifecycle",
        snapshot={"run": 4, "waiting_ids": []},
    )
    with mock.patch("syncs.services.async_task"):
        run = ticket_retry(ticket=ticket, actor=ops_user)
    # Not a scope of ["flow:order_lifecycle"]: that is no Brightpearl order.
    assert run.scope == []
    assert "the whole flow" in ticket.events.last().note


def test_retry_of_a_type_a_retry_cannot_fix_is_refused(brand_a, ops_user):
    ticket = raise_ticket(brand_a, "duplicate_contact", source_system="email", source_id="a@b.c")
    with pytest.raises(TicketActionError, match="A retry cannot fix “Two Brightpearl contacts"):
        ticket_retry(ticket=ticket, actor=ops_user)
    assert not SyncRun.objects.exists()
    assert kinds(ticket) == [EventKind.RAISED]


def test_retry_of_a_closed_ticket_or_an_unknown_flow_is_refused(brand_a, ops_user):
    closed = raise_ticket(brand_a)
    ticket_resolve(ticket=closed, actor=ops_user, note="Done.")
    with pytest.raises(TicketActionError, match="only an open ticket can be retried"):
        ticket_retry(ticket=closed, actor=ops_user)
    elsewhere = raise_ticket(brand_a, "unmapped_sku", flow="a_flow_this_console_lacks")
    with pytest.raises(TicketActionError, match="not switched on in this console"):
        ticket_retry(ticket=elsewhere, actor=ops_user)
    assert not SyncRun.objects.exists()


# --- resolve, ignore, comment ---------------------------------------------------------------
@pytest.mark.parametrize("note", ["", "   "])
def test_resolve_needs_a_note(brand_a, ops_user, note):
    ticket = raise_ticket(brand_a)
    with pytest.raises(TicketActionError, match="a resolve needs one"):
        ticket_resolve(ticket=ticket, actor=ops_user, note=note)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN


def test_resolve_with_a_note(brand_a, ops_user):
    ticket = raise_ticket(brand_a)
    ticket_resolve(ticket=ticket, actor=ops_user, note="  Corrected the email.  ")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED
    assert timezone.now() - ticket.resolved_at < timedelta(minutes=1)
    event = ticket.events.last()
    assert (event.kind, event.actor, event.note) == (
        EventKind.RESOLVED,
        ops_user,
        "Corrected the email.",
    )
    with pytest.raises(TicketActionError, match="is resolved; only an open ticket"):
        ticket_resolve(ticket=ticket, actor=ops_user, note="Again.")


def test_ignore(brand_a, ops_user):
    ticket = raise_ticket(brand_a)
    ticket_ignore(ticket=ticket, actor=ops_user, note="A test order.")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.IGNORED
    assert (ticket.events.last().kind, ticket.events.last().note) == (
        EventKind.IGNORED,
        "A test order.",
    )
    with pytest.raises(TicketActionError, match="only an open ticket can be ignored"):
        ticket_ignore(ticket=ticket, actor=ops_user)


def test_comment_adds_to_the_history_and_changes_nothing_else(brand_a, ops_user):
    ticket = raise_ticket(brand_a)
    event = ticket_comment(ticket=ticket, actor=ops_user, note="Asked the warehouse.")
    assert (event.kind, event.actor, event.note) == (
        EventKind.COMMENTED,
        ops_user,
        "Asked the warehouse.",
    )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    with pytest.raises(TicketActionError, match="The comment is empty"):
        ticket_comment(ticket=ticket, actor=ops_user, note=" ")


# --- several at once ------------------------------------------------------------------------------
def test_bulk_retry_reports_each_ticket(brand_a, ops_user):
    retryable = [raise_ticket(brand_a) for _ in range(3)]
    stuck = [
        raise_ticket(brand_a, "duplicate_contact", source_system="email", source_id=f"{i}@x.y")
        for i in range(2)
    ]
    with mock.patch("syncs.services.async_task"):
        outcome = tickets_bulk(action="retry", tickets=retryable + stuck, actor=ops_user)
    assert outcome.done == retryable
    assert [t for t, _ in outcome.refused] == stuck
    summary = outcome.summary()
    assert summary.startswith("3 tickets retried (")
    assert "2 could not be retried. #" in summary and ".;" not in summary
    assert f"#{stuck[0].pk}: A retry cannot fix" in summary
    assert SyncRun.objects.count() == 3


def test_bulk_resolve_without_a_note_touches_nothing(brand_a, ops_user):
    tickets = [raise_ticket(brand_a) for _ in range(2)]
    with pytest.raises(TicketActionError, match="resolving needs one"):
        tickets_bulk(action="resolve", tickets=tickets, actor=ops_user, note="")
    assert set(Ticket.objects.values_list("status", flat=True)) == {TicketStatus.OPEN}


def test_bulk_reassign_and_an_unknown_action(brand_a, ops_user):
    tickets = [raise_ticket(brand_a) for _ in range(2)]
    outcome = tickets_bulk(action="reassign", tickets=tickets, actor=ops_user, team=Team.FINANCE)
    assert outcome.summary().startswith("2 tickets reassigned")
    assert set(Ticket.objects.values_list("team", flat=True)) == {Team.FINANCE}
    with pytest.raises(TicketActionError, match="not an action for several tickets"):
        tickets_bulk(action="delete", tickets=tickets, actor=ops_user)


def test_ticket_raise_keeps_its_signature(brand_a):
    # The sync engine calls it with these keywords; they must keep working.
    ticket = ticket_raise(
        brand=brand_a.pk,
        type_code="sync_delayed",
        title="Order lifecycle is 90 minutes behind",
        flow="order_lifecycle",
        source_system="console",
        source_id="flow:order_lifecycle:delay",
        source_url="",
        snapshot={"behind_minutes": 90},
        error_code="",
        error_message="The oldest change not yet read is 90 minutes old.",
        retry_of=None,
    )
    assert ticket.team == Team.OPERATIONS


def test_reopen_brings_back_an_ignored_or_resolved_ticket_with_who_and_why(brand_a, ops_user):
    ticket = raise_ticket(brand_a)
    with pytest.raises(TicketActionError, match="already open"):
        ticket_reopen(ticket=ticket, actor=ops_user)
    ticket_ignore(ticket=ticket, actor=ops_user)
    ticket_reopen(ticket=ticket, actor=ops_user, note="Ignored by mistake.")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    event = ticket.events.last()
    assert (event.kind, event.actor, event.note) == (
        EventKind.REOPENED,
        ops_user,
        "Ignored by mistake.",
    )
    # Assigned to someone, it goes back to them, in progress.
    ticket_reassign(ticket=ticket, actor=ops_user, assignee=ops_user)
    ticket_resolve(ticket=ticket, actor=ops_user, note="Mapped it.")
    ticket_reopen(ticket=ticket, actor=ops_user)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolved_at, ticket.assignee) == (
        TicketStatus.IN_PROGRESS,
        None,
        ops_user,
    )
    assert ticket.events.last().note == "Reopened (it was resolved)."


def test_the_same_record_id_in_two_flows_is_two_tickets(brand_a):
    contact = ticket_raise(
        brand=brand_a,
        type_code="async_rejection",
        title="Ometria rejected contact 1001",
        flow="customers",
        source_system="brightpearl",
        source_id="1001",
    )
    order = ticket_raise(
        brand=brand_a,
        type_code="async_rejection",
        title="Ometria rejected order 1001",
        flow="order_lifecycle",
        source_system="brightpearl",
        source_id="1001",
    )
    assert contact.pk != order.pk
    # A key that is not a record's id stays one ticket whichever flow raises it.
    status = [
        ticket_raise(
            brand=brand_a,
            type_code="unmapped_status",
            title="Status 25 has no mapping",
            flow=flow,
            source_system="brightpearl",
            source_id="status:25",
        ).pk
        for flow in ("order_lifecycle", "refunds")
    ]
    assert status[0] == status[1]

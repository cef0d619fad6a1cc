"""The drift report: what a daily reconciliation corrected although nothing had said it
changed, its ticket for ops, and the ticket resolving when a check finds nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from exceptions.models import Ticket
from syncs.history.drift import drift_checks_record
from syncs.history.models import DriftCheck, HistoryMark
from syncs.models import MappingChange
from tests.fixtures import loopback
from tests.syncs.history.helpers import NOW, finished_run, synced_state

pytestmark = pytest.mark.django_db

PREVIOUS = NOW - timedelta(hours=2)  # the flow's previous (incremental) run began here
CHECK = NOW - timedelta(minutes=30)  # the daily check began here...
CHECK_END = CHECK + timedelta(minutes=10)  # ...and finished here
IN_CHECK = CHECK + timedelta(seconds=1)  # the check's records are synced at its start
OLD = NOW - timedelta(days=3)


def previous_run(brand, **fields):
    return finished_run(brand, started=PREVIOUS, finished=PREVIOUS + timedelta(minutes=1), **fields)


def daily_check(brand, **fields):
    values = {"full": True, "trigger": "schedule", "read": 500, "written": 4, **fields}
    return finished_run(brand, started=CHECK, finished=CHECK_END, **values)


@pytest.fixture
def mark():
    """The minute job has read up to an hour ago: the check is news."""
    return HistoryMark.objects.create(name="drift", at=NOW - timedelta(hours=1))


def test_records_the_check_corrected_though_nothing_said_they_changed_are_drift(
    brand_a, brand_b, mark
):
    previous_run(brand_a)
    check = daily_check(brand_a)
    synced_state(brand_a, "1001", synced_at=IN_CHECK, source_updated=OLD)  # drift
    synced_state(brand_a, "999", synced_at=IN_CHECK, source_updated=None)  # no change time: drift
    # Changed since the previous run began: ordinary traffic the check reached first.
    synced_state(
        brand_a, "1002", synced_at=IN_CHECK, source_updated=PREVIOUS + timedelta(minutes=5)
    )
    # Synced by an earlier run, not by the check.
    synced_state(brand_a, "1003", synced_at=PREVIOUS + timedelta(seconds=1), source_updated=OLD)
    # Synced meanwhile by a webhook run that named it: it said itself that it changed.
    finished_run(
        brand_a,
        started=CHECK + timedelta(minutes=2),
        finished=CHECK + timedelta(minutes=3),
        trigger="webhook",
        scope=["1004"],
    )
    synced_state(brand_a, "1004", synced_at=CHECK + timedelta(minutes=2), source_updated=OLD)
    # Another flow, another brand.
    synced_state(brand_a, "1005", synced_at=IN_CHECK, source_updated=OLD, flow="customers")
    synced_state(brand_b, "1001", synced_at=IN_CHECK, source_updated=OLD)

    assert drift_checks_record(now=NOW) == 1
    found = DriftCheck.objects.get()
    assert (found.run, found.flow, found.target) == (check, "order_lifecycle", "ometria")
    assert (found.compared, found.sent, found.drifted, found.first_load) == (500, 4, 2, False)
    assert found.ids == ["999", "1001"], "ids in numeric order"

    ticket = Ticket.objects.get(type__code="drift_found")
    assert ticket.title == (
        "2 orders in Ometria differed from Brightpearl and were corrected by the daily check"
    )
    assert (ticket.brand, ticket.flow, ticket.team) == (brand_a, "order_lifecycle", "operations")
    assert ticket.source_id == "drift:order_lifecycle"
    assert ticket.error_message.startswith("Orders 999, 1001: the copy in Ometria was out of date")
    assert ticket.snapshot["ids"] == ["999", "1001"] and ticket.snapshot["run"] == check.pk
    assert found.ticket_id == ticket.pk


def test_each_check_is_recorded_once_and_a_repeat_counts_on_the_same_ticket(brand_a, mark):
    previous_run(brand_a)
    daily_check(brand_a)
    synced_state(brand_a, "1001", synced_at=IN_CHECK, source_updated=OLD)
    drift_checks_record(now=NOW)
    drift_checks_record(now=NOW + timedelta(minutes=1))
    assert DriftCheck.objects.count() == 1
    assert Ticket.objects.get().occurrences == 1
    assert Ticket.objects.get().title.startswith(
        "1 order in Ometria differed from Brightpearl and was"
    )
    # The next day's check finds the same kind of drift: one ticket, counted twice.
    tomorrow = timedelta(days=1)
    finished_run(
        brand_a,
        started=CHECK + tomorrow,
        finished=CHECK_END + tomorrow,
        full=True,
        read=500,
        written=1,
    )
    synced_state(brand_a, "1007", synced_at=IN_CHECK + tomorrow, source_updated=OLD)
    drift_checks_record(now=NOW + tomorrow)
    assert DriftCheck.objects.count() == 2
    ticket = Ticket.objects.get()
    assert ticket.occurrences == 2 and "1007" in ticket.error_message


def test_a_check_with_nothing_to_correct_resolves_the_ticket(brand_a, mark):
    previous_run(brand_a)
    daily_check(brand_a)
    synced_state(brand_a, "1001", synced_at=IN_CHECK, source_updated=OLD)
    drift_checks_record(now=NOW)
    tomorrow = timedelta(days=1)
    finished_run(
        brand_a,
        started=CHECK + tomorrow,
        finished=CHECK_END + tomorrow,
        full=True,
        read=500,
        written=0,
    )
    drift_checks_record(now=NOW + tomorrow)
    ticket = Ticket.objects.get()
    assert ticket.status == "resolved"
    assert "found nothing to correct in Ometria" in ticket.events.last().note
    assert DriftCheck.objects.order_by("checked_at").last().drifted == 0


def test_a_first_load_is_not_drift(brand_a, mark):
    daily_check(brand_a, written=500)
    for n in range(5):
        synced_state(brand_a, str(n), synced_at=IN_CHECK, source_updated=OLD)
    drift_checks_record(now=NOW)
    check = DriftCheck.objects.get()
    assert check.first_load and check.drifted == 0
    assert not Ticket.objects.exists()


def test_only_full_scheduled_runs_are_daily_checks(brand_a, mark):
    previous_run(brand_a)
    daily_check(brand_a, trigger="manual")  # a backfill someone asked for
    daily_check(brand_a, full=False)  # an ordinary scheduled run
    daily_check(brand_a, state="failed")  # did not finish its check
    synced_state(brand_a, "1001", synced_at=IN_CHECK, source_updated=OLD)
    assert drift_checks_record(now=NOW) == 0
    assert not DriftCheck.objects.exists() and not Ticket.objects.exists()


def test_mapping_changes_since_the_last_check_are_named_on_the_ticket(brand_a, mark):
    previous_run(brand_a)
    daily_check(brand_a)
    synced_state(brand_a, "1001", synced_at=IN_CHECK, source_updated=OLD)
    change = MappingChange.objects.create(
        brand=brand_a, kind="status", key="4", label="Awaiting payment", via="console"
    )
    MappingChange.objects.filter(pk=change.pk).update(created=CHECK - timedelta(hours=5))
    drift_checks_record(now=NOW)
    assert DriftCheck.objects.get().mapping_changes == 1
    assert (
        "1 mapping change was made since the previous check" in Ticket.objects.get().error_message
    )


def test_old_checks_read_for_the_first_time_raise_no_ticket(brand_a):
    """A new install reads 30 days back: the trend fills in, old news raises nothing."""
    week = timedelta(days=7)
    finished_run(brand_a, started=PREVIOUS - week, finished=PREVIOUS - week + timedelta(minutes=1))
    finished_run(brand_a, started=CHECK - week, finished=CHECK_END - week, full=True, written=1)
    synced_state(brand_a, "1001", synced_at=IN_CHECK - week, source_updated=OLD - week)
    drift_checks_record(now=NOW)
    assert DriftCheck.objects.get().drifted == 1
    assert not Ticket.objects.exists()


@pytest.mark.usefixtures("fresh_cache")
def test_a_custom_field_changed_in_brightpearl_is_found_by_the_daily_check(sandbox, live_brand):
    """Brightpearl does not move updatedOn for a custom field: the regular runs miss the
    change, the daily check corrects it, and the drift report names the contact."""
    from syncs.models import AttributeMapping, AttributeSource
    from syncs.services import flow_run_now

    AttributeMapping.objects.create(
        brand=live_brand,
        source=AttributeSource.CUSTOM_FIELD,
        source_name="PCF_BIRTHMON",
        ometria_attribute="birthday_month",
    )
    first = flow_run_now(brand=live_brand, flow="customers", full=True)
    assert first.written > 0
    contact_id = sandbox.state("brightpearl", "contacts", limit=1)["items"][0]["contactId"]
    loopback.post(
        f"{sandbox.url}/_sandbox/brightpearl/contacts/{contact_id}",
        json={"customFields": {"PCF_BIRTHMON": "Drifted"}},
    ).raise_for_status()
    regular = flow_run_now(brand=live_brand, flow="customers", trigger="schedule")
    assert regular.written == 0, "nothing said the contact changed"
    check = flow_run_now(brand=live_brand, flow="customers", trigger="schedule", full=True)
    assert check.written == 1

    drift_checks_record(now=timezone.now())
    found = DriftCheck.objects.get(run=check)
    assert (found.drifted, found.ids, found.target) == (1, [str(contact_id)], "ometria")
    ticket = Ticket.objects.get(type__code="drift_found")
    assert ticket.title == (
        "1 contact in Ometria differed from Brightpearl and was corrected by the daily check"
    )
    assert str(contact_id) in ticket.error_message

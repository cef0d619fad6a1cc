"""Ometria's late rejections, as its docs show them: `GET /v2/push/_errors` items carry only
`error_message` and `error_path` (docs.ometria.com/docs/list-errors), so the console matches
them to the records of its own recent pushes by the field's path. Each test replays the
documented shape; none relies on an id, a type, a push id or a time in the item."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from django.utils import timezone

from connectors.models import Connection
from connectors.ometria.readback import push_errors_read, push_shape
from connectors.registry import connector_for
from exceptions.models import Ticket
from syncs.flows.ometria import rejections
from syncs.flows.ometria.rejections import ometria_rejections_collect
from syncs.models import Checkpoint, OmetriaPush, RecordState, RecordStatus

pytestmark = pytest.mark.django_db

DOCUMENTED = json.loads(
    (
        Path(__file__).parents[1] / "sandbox" / "payloads" / "ometria_push_errors_response.json"
    ).read_text()
)


@pytest.fixture
def listed(brand_a, monkeypatch):
    """Ometria's error list, as the test sets it, served over HTTP in the documented shape."""
    Connection.objects.create(
        brand=brand_a,
        system="ometria",
        base_url="https://api.ometria.com",
        credentials={"api_key": "k"},
    )
    items: list[dict] = []

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v2/push/_errors"
        return httpx.Response(200, json=items)

    real = connector_for
    monkeypatch.setattr(
        rejections,
        "connector_for",
        lambda conn: real(conn, transport=httpx.MockTransport(answer)),
    )
    return items


def pushed(brand, flow: str, record_type: str, records: list[dict], minutes_ago: float = 1):
    """A push the console made (what push_to_ometria remembers), and each record's state."""
    OmetriaPush.objects.create(
        brand=brand,
        flow=flow,
        record_type=record_type,
        pushed_at=timezone.now() - timedelta(minutes=minutes_ago),
        records=[[r["id"], r["id"].removeprefix("gon-")] for r in records],
        **push_shape(records),
    )
    for r in records:
        RecordState.objects.update_or_create(
            brand=brand,
            flow=flow,
            source_id=r["id"].removeprefix("gon-"),
            defaults={"status": RecordStatus.SYNCED, "synced_at": timezone.now()},
        )


def contact(cid: str, **fields) -> dict:
    return {"@type": "contact", "id": cid, "email": f"c{cid}@example.com", **fields}


def test_the_documented_item_is_read_as_a_field_and_a_reason(brand_a, listed):
    listed.extend(DOCUMENTED)
    with rejections.connector_for(Connection.objects.get(system="ometria")) as om:
        [error] = push_errors_read(om)
    assert (error.reason, error.path, error.field) == (
        "not a valid value",
        "root > lastname",
        "lastname",
    )
    assert (error.record_type, error.record_id) == ("", "")
    assert error.message == "lastname: not a valid value"


def test_an_error_only_one_pushed_record_can_be_about_fails_that_record(brand_a, listed):
    pushed(brand_a, "customers", "contact", [contact("201", lastname="Ng")])
    listed.extend(DOCUMENTED)
    assert ometria_rejections_collect(brand=brand_a) == 1
    ticket = Ticket.objects.get(type__code="async_rejection")
    assert (ticket.flow, ticket.source_id) == ("customers", "201")
    assert ticket.error_message == "lastname: not a valid value"
    state = RecordState.objects.get(flow="customers", source_id="201")
    assert state.status == RecordStatus.FAILED and state.held_since is not None
    # Read again, the same list: nothing new.
    assert ometria_rejections_collect(brand=brand_a) == 0
    assert Ticket.objects.get().occurrences == 1


def test_the_field_picks_the_kind_of_record(brand_a, listed):
    """Shipment events and contacts pushed in the same minutes: an error at "root > email"
    is about the contact (custom events carry no email)."""
    event = {"@type": "custom_event", "id": "gon-50006", "event_type": "order_shipped"}
    pushed(brand_a, "shipments", "custom_event", [event])
    pushed(brand_a, "customers", "contact", [contact("204")])
    listed.append({"error_message": "not a valid value", "error_path": "root > email"})
    ometria_rejections_collect(brand=brand_a)
    assert Ticket.objects.get().source_id == "204"
    assert RecordState.objects.get(flow="shipments").status == RecordStatus.SYNCED


def test_a_record_whose_value_is_plainly_wrong_is_picked_out_of_its_push(brand_a, listed):
    records = [contact(str(n)) for n in range(201, 251)]
    records[7]["email"] = "not-an-address"
    pushed(brand_a, "customers", "contact", records)
    listed.append({"error_message": "not a valid value", "error_path": "root > email"})
    ometria_rejections_collect(brand=brand_a)
    ticket = Ticket.objects.get()
    assert ticket.source_id == "208"
    assert ticket.snapshot["matched"] == "its value there is not a valid one"


def test_several_records_it_can_be_about_are_all_named_and_none_is_guessed(brand_a, listed):
    pushed(brand_a, "customers", "contact", [contact(c, lastname="x") for c in ("301", "302")])
    listed.extend(DOCUMENTED)
    assert ometria_rejections_collect(brand=brand_a) == 1
    ticket = Ticket.objects.get()
    assert ticket.source_system == "ometria" and ticket.source_id == "field:root > lastname"
    assert "did not say which" in ticket.title
    assert "contact 301, contact 302" in ticket.error_message
    assert ticket.snapshot["candidates"] == [["customers", "301"], ["customers", "302"]]
    assert set(RecordState.objects.values_list("status", flat=True)) == {RecordStatus.SYNCED}

    # Both sent again, and Ometria quiet for the grace period: resolved.
    RecordState.objects.update(synced_at=ticket.last_seen + timedelta(seconds=1))
    ometria_rejections_collect(brand=brand_a)
    assert Ticket.objects.get().status == "open", "Ometria may still object"
    RecordState.objects.update(synced_at=timezone.now() - timedelta(minutes=11))
    Ticket.objects.update(last_seen=timezone.now() - timedelta(minutes=12))
    ometria_rejections_collect(brand=brand_a)
    assert Ticket.objects.get().status == "resolved"


def test_only_the_errors_listed_since_the_last_read_are_new(brand_a, listed):
    pushed(brand_a, "customers", "contact", [contact("401", lastname="x")])
    listed.extend(DOCUMENTED)
    ometria_rejections_collect(brand=brand_a)
    # The same record rejected again: listed twice now, once before, so new once.
    listed.extend(DOCUMENTED)
    assert ometria_rejections_collect(brand=brand_a) == 1
    assert Ticket.objects.get().occurrences == 2


def test_a_checkpoint_from_before_keeps_its_errors_read(brand_a, listed):
    """The console used to remember digests of the items it had read."""
    pushed(brand_a, "customers", "contact", [contact("501", lastname="x")])
    listed.extend(DOCUMENTED)
    Checkpoint.objects.create(
        brand=brand_a,
        name="ometria_push_errors",
        value={"seen": [rejections._marker(DOCUMENTED[0])]},
    )
    assert ometria_rejections_collect(brand=brand_a) == 0
    assert "last" in Checkpoint.objects.get().value


def test_pushes_are_remembered_for_a_day(brand_a, listed):
    pushed(brand_a, "customers", "contact", [contact("601")], minutes_ago=25 * 60)
    pushed(brand_a, "customers", "contact", [contact("602")])
    ometria_rejections_collect(brand=brand_a)
    assert list(OmetriaPush.objects.values_list("records", flat=True)) == [[["602", "602"]]]


def test_a_repeat_at_the_same_field_adds_its_records_to_the_open_ticket(brand_a, listed):
    pushed(brand_a, "customers", "contact", [contact(c, lastname="x") for c in ("701", "702")])
    listed.extend(DOCUMENTED)
    ometria_rejections_collect(brand=brand_a)
    OmetriaPush.objects.all().delete()
    pushed(brand_a, "customers", "contact", [contact(c, lastname="x") for c in ("702", "703")])
    listed.extend(DOCUMENTED)
    ometria_rejections_collect(brand=brand_a)
    ticket = Ticket.objects.get()
    assert ticket.occurrences == 2
    assert ticket.snapshot["candidates"] == [
        ["customers", "701"],
        ["customers", "702"],
        ["customers", "703"],
    ]

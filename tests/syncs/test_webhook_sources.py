"""Ids that Brightpearl does not know cost one lookup per id set, no reads and no tickets; a
source that keeps sending them is refused for a while, with one ticket for operations, that
resolves itself once it stops (issue 16, item 2). On the vendor sandbox's demo account."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from connectors.brightpearl.client import Brightpearl
from connectors.brightpearl.webhooks import BrightpearlWebhooks
from connectors.errors import TransientError
from connectors.models import Connection
from exceptions.models import Ticket, TicketStatus
from syncs.models import Checkpoint, FlowConfig, InboxState, SyncRun, WebhookEvent
from syncs.webhook_sources import webhook_sources_review
from syncs.webhooks import webhooks_drain
from tests.syncs.test_webhooks import BODY, bp_connection

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]
__all__ = ["bp_connection"]  # the fixture, shared

_raised = itertools.count()
STATUS = "order.modified.order-status"


def deliver(client, brand, ids: str, event: str = STATUS):
    """One Brightpearl webhook to the brand's address, as Brightpearl fills the template."""
    conn = Connection.objects.get(brand=brand, system="brightpearl")
    body = {
        "accountCode": conn.settings["account"],
        "resourceType": event.split(".")[0],
        "id": ids,
        "lifecycleEvent": event.split(".")[1],
        "fullEvent": event,
        "raisedOn": f"2026-11-27T10:00:{next(_raised):02d}.000Z",
    }
    return client.post(
        reverse("webhook", args=["brightpearl", conn.webhook_secret]),
        data=json.dumps(body),
        content_type="application/json",
    )


def drain(brand):
    conn = Connection.objects.get(brand=brand, system="brightpearl")
    return webhooks_drain(connection_id=conn.pk)


@pytest.fixture
def lookups():
    """Counts Brightpearl.existing_ids calls (each is one lookup), and lets them through."""
    with mock.patch.object(
        Brightpearl, "existing_ids", autospec=True, side_effect=Brightpearl.existing_ids
    ) as spy:
        yield spy


def missing_tickets(brand) -> int:
    return Ticket.objects.filter(brand=brand, type__code="record_missing").count()


def test_ten_thousand_unknown_ids_cost_one_call_and_raise_no_ticket(
    client, live_brand, sandbox, lookups
):
    # Before: each flow reading order events GET 200 ids at a time (50 calls each, two flows)
    # and raised a "record missing" ticket per id, up to 500 a run.
    assert deliver(client, live_brand, "900001-910000").status_code == 200
    sandbox.reset_stats()
    assert drain(live_brand) == []
    assert sandbox.stats()["brightpearl"]["requests"] == 1
    assert lookups.call_count == 1
    assert missing_tickets(live_brand) == 0
    assert not SyncRun.objects.exists()
    assert WebhookEvent.objects.get().state == InboxState.IGNORED


def test_the_known_ids_among_unknown_ones_are_read(client, live_brand, sandbox, lookups):
    FlowConfig.objects.filter(brand=live_brand).exclude(flow="order_lifecycle").update(
        enabled=False
    )
    assert deliver(client, live_brand, "10001-10003,900001-909000").status_code == 200
    [run] = drain(live_brand)
    assert run.scope == ["10001", "10002", "10003"]
    assert run.state == "succeeded" and run.read == 3
    assert lookups.call_count == 1 and missing_tickets(live_brand) == 0


def test_many_small_events_share_one_lookup(client, live_brand, lookups):
    FlowConfig.objects.filter(brand=live_brand).exclude(flow="order_lifecycle").update(
        enabled=False
    )
    for order_id in range(10001, 10021):
        assert deliver(client, live_brand, str(order_id)).status_code == 200
    [run] = drain(live_brand)
    assert run.scope == [str(n) for n in range(10001, 10021)]
    assert lookups.call_count == 1


def test_unknown_goods_out_notes_cost_one_call(client, live_brand, sandbox, lookups):
    # Goods-out note search cannot filter by an id set: notes are looked up by their GET,
    # 500 a call, and a first 500 that finds nothing stops the lookup.
    assert (
        deliver(client, live_brand, "700001-705000", "goods-out-note.modified.shipped").status_code
        == 200
    )
    sandbox.reset_stats()
    assert drain(live_brand) == []
    assert sandbox.stats()["brightpearl"]["requests"] == 1
    assert missing_tickets(live_brand) == 0


def test_a_source_that_keeps_sending_unknown_ids_is_refused_with_one_ticket(
    client, live_brand, settings, lookups
):
    settings.WEBHOOK_UNKNOWN_LIMIT = 1000
    assert deliver(client, live_brand, "900001-900600").status_code == 200
    drain(live_brand)
    assert not Ticket.objects.filter(type__code="webhook_unknown_ids").exists()
    assert deliver(client, live_brand, "900601-901200").status_code == 200
    drain(live_brand)  # 1,200 unknown ids in the window, none known: refused from now

    [ticket] = Ticket.objects.filter(brand=live_brand, type__code="webhook_unknown_ids")
    assert ticket.title == "Brightpearl webhook source sending ids that do not exist"
    assert ticket.team == "operations" and ticket.status != TicketStatus.RESOLVED
    assert "named 1,200 ids that Brightpearl does not have" in ticket.error_message

    stored = WebhookEvent.objects.count()
    refused = deliver(client, live_brand, "10001")
    assert refused.status_code == 429
    assert 29 * 60 <= int(refused["Retry-After"]) <= 30 * 60
    assert "kept naming Brightpearl records that do not exist" in refused.json()["reason"]
    assert WebhookEvent.objects.count() == stored  # nothing stored or queued

    # The throttle ends; the source goes on: refused again, on the same ticket.
    point = Checkpoint.objects.get(brand=live_brand, name__startswith="webhook-source:")
    point.value["until"] = (timezone.now() - timedelta(seconds=1)).isoformat()
    point.save()
    assert deliver(client, live_brand, "902001-903200").status_code == 200
    drain(live_brand)
    assert deliver(client, live_brand, "10001").status_code == 429
    ticket.refresh_from_db()
    assert ticket.occurrences == 2
    assert Ticket.objects.filter(type__code="webhook_unknown_ids").count() == 1


def test_the_ticket_resolves_once_the_source_has_stopped(client, live_brand, settings, lookups):
    settings.WEBHOOK_UNKNOWN_LIMIT = 100
    deliver(client, live_brand, "900001-900200")
    drain(live_brand)
    ticket = Ticket.objects.get(type__code="webhook_unknown_ids")
    point = Checkpoint.objects.get(brand=live_brand, name__startswith="webhook-source:")

    # The throttle ended a minute ago: too soon to say the source stopped.
    point.value["until"] = (timezone.now() - timedelta(minutes=1)).isoformat()
    point.save()
    assert webhook_sources_review() == 0
    # A whole window (10 minutes) since, without a new throttle: it stopped.
    point.value["until"] = (timezone.now() - timedelta(minutes=11)).isoformat()
    point.save()
    assert webhook_sources_review() == 1
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED
    assert deliver(client, live_brand, "10001").status_code == 200


def test_real_ids_do_not_throttle_a_source(client, live_brand, settings, lookups):
    settings.WEBHOOK_UNKNOWN_LIMIT = 10
    FlowConfig.objects.filter(brand=live_brand).exclude(flow="order_lifecycle").update(
        enabled=False
    )
    # 12 unknown, but 100 known: a source that also deletes orders, not a junk sender.
    deliver(client, live_brand, "10001-10100,900001-900012")
    drain(live_brand)
    assert not Ticket.objects.filter(type__code="webhook_unknown_ids").exists()
    assert deliver(client, live_brand, "10001").status_code == 200


def test_if_brightpearl_cannot_be_asked_every_id_is_read(bp_connection, brand_a, client):
    FlowConfig.objects.create(brand=brand_a, flow="order_lifecycle", enabled=True)
    assert deliver(client, brand_a, BODY["id"]).status_code == 200
    down = TransientError("Brightpearl is temporarily unavailable (HTTP 503).")
    with (
        mock.patch.object(BrightpearlWebhooks, "known", side_effect=down),
        mock.patch("syncs.services.flow_run", side_effect=lambda run_id, **kw: None),
    ):
        [run] = drain(brand_a)
    assert run.scope == ["10004", "10005", "10006", "10009"]

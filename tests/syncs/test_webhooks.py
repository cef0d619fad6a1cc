"""POST /hooks/brightpearl/<secret>/: stored first, answered at once, processed once."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.urls import reverse

from connectors.brightpearl.webhooks import parse_idset
from connectors.models import Connection
from syncs.models import FlowConfig, InboxState, SyncRun, WebhookEvent
from syncs.webhooks import webhooks_drain

pytestmark = pytest.mark.django_db

# What Brightpearl sends, from the body template the console registers.
BODY = {
    "accountCode": "acme",
    "resourceType": "order",
    "id": "10004-10006,10009",
    "lifecycleEvent": "modified",
    "fullEvent": "order.modified.order-status",
    "raisedOn": "2026-11-27T10:00:00.000Z",
}


@pytest.fixture
def bp_connection(brand_a):
    return Connection.objects.create(
        brand=brand_a,
        system="brightpearl",
        base_url="https://euw1.brightpearlconnect.com",
        credentials={"app_ref": "a", "account_token": "t"},
        settings={"account": "acme"},
    )


def everything_exists():
    """The drain's check that the ids exist answers "all of them" without calling anyone
    (these connections point at no server)."""
    return mock.patch(
        "syncs.webhooks.webhook_ids_known",
        side_effect=lambda *, connection, hooks, events: [None] * len(events),
    )


def post(client, secret, body, content_type="application/json"):
    data = json.dumps(body) if isinstance(body, dict | list) else body
    return client.post(
        reverse("webhook", args=["brightpearl", secret]), data=data, content_type=content_type
    )


def test_parse_idset_keeps_ranges_as_ranges():
    assert parse_idset("1-3,7") == [[1, 3], 7]
    # Sorted, overlaps and neighbours merged: ten thousand ids are two numbers.
    assert parse_idset("7,1-3,2,4-10000") == [[1, 10000]]
    assert parse_idset("1-10000," * 1000) == [[1, 10000]]
    for bad in ("", "x", "3-1", "1-", "-5", "1-2-3"):
        with pytest.raises(ValueError):
            parse_idset(bad)


def test_unknown_secret_is_404_and_queues_nothing(
    client, bp_connection, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(client, "not-a-secret", BODY)
    assert response.status_code == 404
    assert "No connection has this webhook address" in response.json()["reason"]
    assert not WebhookEvent.objects.exists() and not callbacks


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "not JSON"),
        ([1, 2], "must be a JSON object"),
        ({"id": "5"}, "needs “id” and “fullEvent”"),
        ({**BODY, "id": "abc"}, "not a Brightpearl id set"),
        ({**BODY, "accountCode": "second"}, "events of Brightpearl account acme, not of “second”"),
    ],
)
def test_malformed_body_is_400_with_a_reason(
    client, bp_connection, body, reason, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(client, bp_connection.webhook_secret, body)
    assert response.status_code == 400
    assert reason in response.json()["reason"]
    assert not WebhookEvent.objects.exists() and not callbacks


def test_an_event_is_stored_then_queued_by_id_and_a_repeat_is_stored_once(
    client, bp_connection, django_capture_on_commit_callbacks
):
    with (
        mock.patch("syncs.webhooks.async_task") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        first = post(client, bp_connection.webhook_secret, BODY)
        again = post(client, bp_connection.webhook_secret, BODY)
    assert first.status_code == 200 and first.json()["status"] == "accepted"
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    event = WebhookEvent.objects.get()
    assert event.resource_ids == [[10004, 10006], 10009]
    assert event.state == InboxState.RECEIVED
    # One task, and it carries the connection's id only: no credentials, no body.
    enqueue.assert_called_once()
    assert enqueue.call_args.args == ("syncs.tasks.drain_webhooks", bp_connection.pk)


def test_drain_makes_one_scoped_run_per_enabled_flow(bp_connection, brand_a):
    FlowConfig.objects.create(brand=brand_a, flow="order_lifecycle", enabled=True)
    FlowConfig.objects.create(brand=brand_a, flow="shipments", enabled=False)
    for n, ids in enumerate(("10", "11-12", "10")):
        WebhookEvent.objects.create(
            connection=bp_connection,
            brand=brand_a,
            dedupe_key=f"k{n}",
            event="order.modified.order-status",
            resource_ids=parse_idset(ids),
            body={},
        )
    WebhookEvent.objects.create(
        connection=bp_connection,
        brand=brand_a,
        dedupe_key="gon",
        event="goods-out-note.modified.shipped",
        resource_ids=[5],
        body={},
    )
    with (
        mock.patch("syncs.services.flow_run", side_effect=lambda run_id, **kw: None) as run,
        everything_exists(),
    ):
        runs = webhooks_drain(connection_id=bp_connection.pk)
    assert [r.flow for r in runs] == ["order_lifecycle"]
    assert runs[0].scope == ["10", "11", "12"] and runs[0].trigger == "webhook"
    run.assert_called_once()
    states = dict(WebhookEvent.objects.values_list("dedupe_key", "state"))
    assert states == {"k0": "processed", "k1": "processed", "k2": "processed", "gon": "ignored"}
    # Drained events are not drained again.
    assert webhooks_drain(connection_id=bp_connection.pk) == []
    assert SyncRun.objects.count() == 1

"""What one webhook may cost: a capped body, a capped number of ids, ranges kept as ranges,
and drains that make runs of a bounded number of ids (issue 16, item 1)."""

from __future__ import annotations

import json
import tracemalloc
from unittest import mock

import pytest

from connectors.brightpearl.webhooks import BrightpearlWebhooks
from syncs.models import FlowConfig, InboxState, SyncRun, WebhookEvent
from syncs.webhooks import webhooks_drain
from tests.syncs.test_webhooks import BODY, bp_connection, everything_exists, post

pytestmark = pytest.mark.django_db
__all__ = ["bp_connection"]  # the fixture, shared


def test_the_reported_body_is_stored_as_one_range_in_a_few_bytes(client, bp_connection):
    # The probe: 8 KB of "1-10000," a thousand times was 10 million ids, a 58.9 MB row and
    # a worker at 823 MB. It names 10,000 distinct ids, so it is taken, as one range.
    body = {**BODY, "id": "1-10000," * 1000}
    tracemalloc.start()
    try:
        answer = post(client, bp_connection.webhook_secret, body)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.status_code == 200, answer.json()
    event = WebhookEvent.objects.get()
    assert event.resource_ids == [[1, 10000]]
    assert len(json.dumps(event.resource_ids)) < 20
    assert peak < 5_000_000  # bytes; it was over 500 MB


def test_an_event_over_the_id_cap_is_refused_and_nothing_is_stored(
    client, bp_connection, django_capture_on_commit_callbacks
):
    body = {**BODY, "id": "1-10000,20000"}  # 10,001 ids in 13 characters
    with django_capture_on_commit_callbacks() as callbacks:
        answer = post(client, bp_connection.webhook_secret, body)
    assert answer.status_code == 400
    assert answer.json()["reason"] == (
        "The event names 10,001 ids; this console takes at most 10,000 in one event "
        "(a range counts every id in it). Nothing was stored."
    )
    assert not WebhookEvent.objects.exists() and not callbacks


def test_the_id_cap_is_a_setting(client, bp_connection, settings):
    settings.WEBHOOK_MAX_IDS = 5
    assert post(client, bp_connection.webhook_secret, {**BODY, "id": "1-5"}).status_code == 200
    refused = post(client, bp_connection.webhook_secret, {**BODY, "id": "1-3,7-9"})
    assert refused.status_code == 400 and "names 6 ids" in refused.json()["reason"]


def test_a_body_over_the_size_cap_is_413_before_it_is_parsed(client, bp_connection, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 1024
    body = {**BODY, "padding": "x" * 1024}
    with mock.patch.object(BrightpearlWebhooks, "parse") as parse:
        answer = post(client, bp_connection.webhook_secret, body)
    assert answer.status_code == 413
    assert answer.json()["reason"] == (
        "The body is larger than 1,024 bytes, more than any webhook this console takes."
    )
    parse.assert_not_called()
    assert not WebhookEvent.objects.exists()
    # Just under the cap is read as usual.
    small = {**BODY, "padding": "x" * (1024 - len(json.dumps(BODY)) - 20)}
    assert post(client, bp_connection.webhook_secret, small).status_code == 200


def test_a_drain_makes_runs_of_at_most_the_id_cap_and_leaves_the_rest_queued(
    bp_connection, brand_a, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_IDS = 10
    FlowConfig.objects.create(brand=brand_a, flow="order_lifecycle", enabled=True)
    for key, ids in (("a", [[1, 6]]), ("b", [[11, 16]]), ("c", [21, 22, 23])):
        WebhookEvent.objects.create(
            connection=bp_connection,
            brand=brand_a,
            dedupe_key=key,
            event="order.modified.order-status",
            resource_ids=ids,
            body={},
        )
    with (
        mock.patch("syncs.services.flow_run", side_effect=lambda run_id, **kw: None),
        everything_exists(),
        mock.patch("syncs.webhooks.async_task") as enqueue,
    ):
        with django_capture_on_commit_callbacks(execute=True):
            [first] = webhooks_drain(connection_id=bp_connection.pk)
        # a (6 ids) and b (6 more) would be 12: b waits for the next drain, queued now.
        assert first.scope == ["1", "2", "3", "4", "5", "6"]
        enqueue.assert_called_once_with(
            "syncs.tasks.drain_webhooks", bp_connection.pk, group="webhooks"
        )
        [second] = webhooks_drain(connection_id=bp_connection.pk)
    assert second.scope == ["11", "12", "13", "14", "15", "16", "21", "22", "23"]
    assert not WebhookEvent.objects.filter(state=InboxState.RECEIVED).exists()
    assert SyncRun.objects.count() == 2

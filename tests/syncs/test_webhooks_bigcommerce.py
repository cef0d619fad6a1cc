"""POST /hooks/bigcommerce/<secret>/: BigCommerce's documented envelope, proven by the header
the console registers and, with a client secret, by the Standard Webhooks signature."""

from __future__ import annotations

import json
import time
from unittest import mock

import httpx
import pytest
from django.urls import reverse

from connectors.bigcommerce.fake.webhooks import sign
from connectors.bigcommerce.webhooks import SECRET_HEADER, header_token, signature
from connectors.models import Connection
from syncs.models import WebhookEvent
from tests.sandbox.conftest import PAYLOADS

pytestmark = pytest.mark.django_db

STORE_HASH = "abc123"
CLIENT_SECRET = "bc-client-secret"


def documented(name: str, store_hash: str = STORE_HASH) -> bytes:
    """A recorded body from BigCommerce's docs; its producer reads "stores/{store_hash}"."""
    return (PAYLOADS / name).read_text().replace("{store_hash}", store_hash).encode()


@pytest.fixture
def bc_connection(brand_a):
    return Connection.objects.create(
        brand=brand_a,
        system="bigcommerce",
        base_url="https://api.bigcommerce.com",
        credentials={"access_token": "t"},
        settings={"store_hash": STORE_HASH},
    )


@pytest.fixture
def signed_connection(bc_connection):
    bc_connection.credentials = {"access_token": "t", "client_secret": CLIENT_SECRET}
    bc_connection.save()
    return bc_connection


def deliver(client, connection, body: bytes, *, token: str | None = None, **headers):
    given = {SECRET_HEADER: header_token(connection) if token is None else token, **headers}
    return client.post(
        reverse("webhook", args=["bigcommerce", connection.webhook_secret]),
        data=body,
        content_type="application/json",
        headers={k: v for k, v in given.items() if v},
    )


def signed(body: bytes, *, secret: str = CLIENT_SECRET, at: int | None = None) -> dict:
    """The three headers BigCommerce adds, made the way the sandbox's fake makes them."""
    stamp = int(time.time()) if at is None else at
    return {
        "webhook-id": "msg_2a7",
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(secret, "msg_2a7", stamp, body),
    }


@pytest.mark.parametrize("name", ["store_order_created.json", "store_order_statusUpdated.json"])
def test_the_documented_bodies_are_stored_with_the_order_id(
    client, bc_connection, name, django_capture_on_commit_callbacks
):
    with (
        mock.patch("syncs.webhooks.async_task") as enqueue,
        mock.patch.object(httpx.Client, "send", side_effect=AssertionError("no vendor call")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        answer = deliver(client, bc_connection, documented(name))
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "accepted"
    event = WebhookEvent.objects.get()
    sent = json.loads(documented(name))
    assert event.event == sent["scope"] and event.resource_ids == [250]
    assert event.body == sent and event.connection == bc_connection
    assert enqueue.call_args.args == ("syncs.tasks.drain_webhooks", bc_connection.pk)


def test_a_redelivery_is_one_event_and_a_later_change_is_another(
    client, bc_connection, django_capture_on_commit_callbacks
):
    body = documented("store_order_created.json")
    with (
        mock.patch("syncs.webhooks.async_task") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        first = deliver(client, bc_connection, body)
        again = deliver(client, bc_connection, body)
        # The same order changed again later: the same data, so the same hash, but a new
        # created_at. It is its own event.
        later = json.loads(body) | {"created_at": json.loads(body)["created_at"] + 60}
        third = deliver(client, bc_connection, json.dumps(later).encode())
    assert [r.json()["status"] for r in (first, again, third)] == [
        "accepted",
        "duplicate",
        "accepted",
    ]
    assert WebhookEvent.objects.count() == 2
    assert enqueue.call_count == 2


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"{not json", 400, "not JSON"),
        (b"[1]", 400, "must be a JSON object"),
        (b'{"scope": "store/order/created", "data": {"id": 1}}', 400, "needs “scope” and “hash”"),
        (
            b'{"scope": "store/order/created", "hash": "h", "data": {"type": "order"}}',
            400,
            "“data” with the “id”",
        ),
        (
            b'{"scope": "store/order/created", "hash": "h", "data": {"id": 1}}',
            400,
            "names no store",
        ),
        (documented("store_order_created.json", "someoneelse"), 400, "not of “someoneelse”"),
    ],
)
def test_a_body_that_is_not_this_stores_event_is_refused_and_nothing_queued(
    client, bc_connection, body, status, reason, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        answer = deliver(client, bc_connection, body)
    assert answer.status_code == status
    assert reason in answer.json()["reason"]
    assert not WebhookEvent.objects.exists() and not callbacks


def test_the_store_id_is_checked_when_the_connection_knows_it(client, bc_connection):
    bc_connection.settings = {"store_hash": STORE_HASH, "store_id": "999"}
    bc_connection.save()
    answer = deliver(client, bc_connection, documented("store_order_created.json"))
    assert answer.status_code == 400
    assert "store id 999, not of “1025646”" in answer.json()["reason"]
    bc_connection.settings = {"store_hash": STORE_HASH, "store_id": "1025646"}
    bc_connection.save()
    assert deliver(client, bc_connection, documented("store_order_created.json")).status_code == 200
    assert WebhookEvent.objects.count() == 1


@pytest.mark.parametrize("token", ["", "wrong"])
def test_without_the_registered_header_nothing_is_stored(
    client, bc_connection, token, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        answer = deliver(client, bc_connection, documented("store_order_created.json"), token=token)
    assert answer.status_code == 401
    assert SECRET_HEADER in answer.json()["reason"]
    assert not WebhookEvent.objects.exists() and not callbacks


def test_the_header_belongs_to_one_connection(client, bc_connection, brand_b):
    other = Connection.objects.create(
        brand=brand_b, system="bigcommerce", base_url="https://x", settings={"store_hash": "o"}
    )
    body = documented("store_order_created.json")
    answer = deliver(client, bc_connection, body, token=header_token(other))
    assert answer.status_code == 401 and not WebhookEvent.objects.exists()


def test_the_bigcommerce_address_takes_no_other_vendors_secret(client, bc_connection, brand_a):
    bp = Connection.objects.create(brand=brand_a, system="brightpearl", base_url="https://bp")
    answer = client.post(
        reverse("webhook", args=["bigcommerce", bp.webhook_secret]),
        data=documented("store_order_created.json"),
        content_type="application/json",
        headers={SECRET_HEADER: header_token(bp)},
    )
    assert answer.status_code == 404
    assert "No connection has this webhook address" in answer.json()["reason"]


def test_a_signed_delivery_is_checked_with_the_client_secret(client, signed_connection):
    body = documented("store_order_statusUpdated.json")
    answer = deliver(client, signed_connection, body, **signed(body))
    assert answer.status_code == 200, answer.content
    assert WebhookEvent.objects.get().event == "store/order/statusUpdated"


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("unsigned", "not signed"),
        ("other secret", "signature does not match"),
        ("body changed", "signature does not match"),
        ("old", "more than 5 minutes"),
        ("bad timestamp", "not a Unix time"),
    ],
)
def test_a_bad_signature_is_refused_and_nothing_queued(
    client, signed_connection, tamper, reason, django_capture_on_commit_callbacks
):
    body = documented("store_order_statusUpdated.json")
    headers = {
        "unsigned": {},
        "other secret": signed(body, secret="not-the-secret"),
        "body changed": signed(body.replace(b"250", b"251")),
        "old": signed(body, at=int(time.time()) - 301),
        "bad timestamp": {**signed(body), "webhook-timestamp": "yesterday"},
    }[tamper]
    with django_capture_on_commit_callbacks() as callbacks:
        answer = deliver(client, signed_connection, body, **headers)
    assert answer.status_code == 401
    assert reason in answer.json()["reason"]
    assert not WebhookEvent.objects.exists() and not callbacks


def test_any_one_of_several_signatures_may_match(client, signed_connection):
    body = documented("store_order_created.json")
    headers = signed(body)
    headers["webhook-signature"] = "v1,bm90LWl0 " + headers["webhook-signature"]
    assert deliver(client, signed_connection, body, **headers).status_code == 200


def test_the_signature_follows_the_standard_webhooks_test_vector():
    """The Standard Webhooks specification's published example (secret, id, timestamp,
    payload → signature): any of its libraries, as BigCommerce's docs use, agrees."""
    assert (
        signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "1614265330",
            b'{"test": 2432232314}',
        )
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_a_get_is_not_a_delivery(client, bc_connection):
    answer = client.get(reverse("webhook", args=["bigcommerce", bc_connection.webhook_secret]))
    assert answer.status_code == 405 and "POST" in answer.json()["reason"]

"""/hooks/mailchimp/<secret>/: the validator's GET answers 200 and stores nothing; the
form-encoded callbacks are stored for the connection's own audience only."""

from __future__ import annotations

from unittest import mock
from urllib.parse import urlencode

import httpx
import pytest
from django.urls import reverse

from connectors.mailchimp.webhooks import read_form
from connectors.models import Connection
from syncs.models import WebhookEvent
from tests.sandbox.conftest import PAYLOADS

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"


def sample_pairs() -> list[tuple[str, str]]:
    """Mailchimp's documented unsubscribe sample, in its order ("key": "value", lines)."""
    pairs = []
    for line in (PAYLOADS / "mailchimp_webhook_unsubscribe_sample.txt").read_text().splitlines():
        if line.strip():
            key, value = line.strip().rstrip(",").split(": ", 1)
            pairs.append((key.strip('"'), value.strip('"')))
    return pairs


SAMPLE = urlencode(sample_pairs())
LIST_ID = dict(sample_pairs())["data[list_id]"]


@pytest.fixture
def mc_connection(brand_a):
    return Connection.objects.create(
        brand=brand_a,
        system="mailchimp",
        base_url="https://us14.api.mailchimp.com",
        credentials={"api_key": "k-us14"},
        settings={"list_id": LIST_ID},
    )


def url(connection) -> str:
    return reverse("webhook", args=["mailchimp", connection.webhook_secret])


def post(client, connection, body: str, content_type: str = FORM):
    return client.post(url(connection), data=body, content_type=content_type)


def test_the_validators_get_answers_200_and_stores_nothing(
    client, mc_connection, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        answer = client.get(url(mc_connection), headers={"User-Agent": "MailChimp.com"})
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}
    assert not WebhookEvent.objects.exists() and not callbacks


def test_the_validators_get_on_an_unknown_address_is_404(client, mc_connection):
    answer = client.get(reverse("webhook", args=["mailchimp", "nope"]))
    assert answer.status_code == 404


def test_the_documented_unsubscribe_is_stored_by_email(
    client, mc_connection, django_capture_on_commit_callbacks
):
    with (
        mock.patch("syncs.webhooks.async_task") as enqueue,
        mock.patch.object(httpx.Client, "send", side_effect=AssertionError("no vendor call")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        answer = post(client, mc_connection, SAMPLE)
    assert answer.status_code == 200, answer.content
    event = WebhookEvent.objects.get()
    assert event.event == "unsubscribe"
    assert event.resource_ids == ["api+unsub@mailchimp.com"]
    assert event.body["fired_at"] == "2009-03-26 21:40:57"
    assert event.body["data"]["merges"] == {
        "EMAIL": "api+unsub@mailchimp.com",
        "FNAME": "MailChimp",
        "LNAME": "API",
        "INTERESTS": "Group1,Group2",
    }
    # The sample sends data[reason] twice; the last one stands.
    assert event.body["data"]["reason"] == "hard"
    assert enqueue.call_args.args == ("syncs.tasks.drain_webhooks", mc_connection.pk)


def test_a_redelivery_is_one_event_and_a_later_one_is_another(client, mc_connection):
    first = post(client, mc_connection, SAMPLE)
    again = post(client, mc_connection, SAMPLE)
    later = post(client, mc_connection, SAMPLE.replace("21%3A40%3A57", "21%3A41%3A00"))
    assert [r.json()["status"] for r in (first, again, later)] == [
        "accepted",
        "duplicate",
        "accepted",
    ]
    assert WebhookEvent.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (SAMPLE.replace(LIST_ID, "0ther1ist"), FORM, "not of “0ther1ist”"),
        (SAMPLE.replace("data%5Blist_id%5D", "data%5Bother%5D"), FORM, "names no audience"),
        ("type=bounce&data%5Blist_id%5D=" + LIST_ID, FORM, "needs a “type”"),
        ("fired_at=2009-03-26", FORM, "needs a “type”"),
        (
            "type=unsubscribe&data%5Blist_id%5D=" + LIST_ID,
            FORM,
            "names no member",
        ),
        ('{"type": "unsubscribe"}', "application/json", "form-encoded"),
    ],
)
def test_a_callback_for_another_audience_or_malformed_stores_nothing(
    client, mc_connection, body, content_type, reason, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        answer = post(client, mc_connection, body, content_type)
    assert answer.status_code == 400, answer.content
    assert reason in answer.json()["reason"]
    assert not WebhookEvent.objects.exists() and not callbacks


def test_a_connection_without_an_audience_takes_nothing(client, mc_connection):
    mc_connection.settings = {}
    mc_connection.save()
    answer = post(client, mc_connection, SAMPLE)
    assert answer.status_code == 400 and "(none set)" in answer.json()["reason"]
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize(
    ("form", "ids"),
    [
        ({"type": "upemail", "data[new_email]": "New@Example.com", "data[old_email]": "o@x"}, ["new@example.com"]),
        ({"type": "campaign", "data[id]": "cb398d21d2", "data[subject]": "Sale"}, ["cb398d21d2"]),
        ({"type": "cleaned", "data[email]": "Gone@Example.com", "data[reason]": "hard"}, ["gone@example.com"]),
    ],
)  # fmt: skip
def test_each_event_names_what_it_is_about(client, mc_connection, form, ids):
    body = urlencode({**form, "fired_at": "2009-03-26 21:35:57", "data[list_id]": LIST_ID})
    assert post(client, mc_connection, body).status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.event, event.resource_ids) == (form["type"], ids)


def test_read_form_nests_php_style_keys():
    assert read_form("type=x&data%5Bmerges%5D%5BFNAME%5D=Ann&data%5Bid%5D=1&data%5Bid%5D=2") == {
        "type": "x",
        "data": {"merges": {"FNAME": "Ann"}, "id": "2"},
    }

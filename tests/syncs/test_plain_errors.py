"""Python's own error text never reaches a page or a ticket: each says it in a sentence, and
the exception goes to the server log for the agency (issue 16, item 8)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import httpx
import pytest
from django.urls import reverse

from connectors.errors import TransientError
from connectors.models import Connection
from connectors.registry import connector_for
from exceptions.services import ticket_raise
from syncs.plain_errors import run_crash_sentence, unreadable_reason

# What Python's text looks like: a class name such as KeyError or ConnectTimeout, or its
# own phrasing ("invalid literal for int()").
PYTHONIC = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z]+)*(?:Error|Exception|Timeout)\b|literal for")


def _raised(fn) -> BaseException:
    try:
        fn()
    except Exception as exc:  # the exception itself is what is tested
        return exc
    raise AssertionError("nothing was raised")


@pytest.mark.parametrize(
    ("exc", "code", "sentence"),
    [
        (_raised(lambda: {}["email"]), "missing_field", "The field “email” is missing from it."),
        (_raised(lambda: int("12a")), "bad_value", "A value in it is missing or in a form"),
        (_raised(lambda: Decimal("x")), "bad_value", "A value in it is missing or in a form"),
        (_raised(lambda: None + 1), "bad_value", "A value in it is missing or in a form"),
        (_raised(lambda: [][3]), "bad_value", "Part of it that the flow needs is missing"),
        (_raised(lambda: None.rows), "bad_value", "Part of it that the flow needs is missing"),
        (RuntimeError("boom at 0x7f"), "unexpected_error", "the agency has the details"),
    ],
)
def test_an_unreadable_record_is_said_in_a_sentence(exc, code, sentence):
    got_code, got = unreadable_reason(exc)
    assert got_code == code
    assert sentence in got
    assert not PYTHONIC.search(got), got
    assert "0x7f" not in got and "12a" not in got


def test_invalid_operation_counts_as_a_bad_value():
    assert unreadable_reason(InvalidOperation())[0] == "bad_value"


def test_a_crash_names_the_run_to_find_in_the_log():
    assert run_crash_sentence(41) == (
        "An unexpected error stopped the run. The agency has the details in the server log, "
        "under run 41."
    )


@pytest.mark.parametrize(
    ("wire", "words"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), "the connection was refused"),
        (httpx.ConnectTimeout("timed out"), "did not answer in time"),
        (httpx.ReadTimeout("timed out"), "did not answer in time"),
        (httpx.RemoteProtocolError("Server disconnected"), "closed the connection"),
        (httpx.ReadError("reset"), "the network connection broke"),
    ],
)
def test_a_vendor_that_cannot_be_reached_is_said_in_words(brand_a, wire, words):
    conn = Connection.objects.create(
        brand=brand_a,
        system="brightpearl",
        base_url="https://euw1.brightpearlconnect.com",
        credentials={"app_ref": "acme_console", "account_token": "t"},
        settings={"account": "acme"},
    )

    def handler(request):
        raise wire

    with connector_for(conn, transport=httpx.MockTransport(handler), max_backoff=0.01) as bp:
        with pytest.raises(TransientError) as caught:
            bp.create_order({"orderTypeCode": "SO"})
    message = caught.value.message
    assert "Brightpearl" in message and words in message
    assert not PYTHONIC.search(message), message
    assert type(wire).__name__ not in str(caught.value)


def test_the_ticket_page_shows_the_sentence_not_python(client, ops_user, brand_a):
    """What the engine now writes, as the owners see it."""
    code, sentence = unreadable_reason(_raised(lambda: {}["orderRows"]))
    ticket = ticket_raise(
        brand=brand_a,
        type_code="record_unreadable",
        title="Order 10003 could not be read",
        source_system="brightpearl",
        source_id="10003",
        error_code=code,
        error_message=sentence,
    )
    client.force_login(ops_user)
    page = client.get(reverse("exceptions:ticket", args=[ticket.pk])).content.decode()
    assert "The field “orderRows” is missing from it." in page
    assert "KeyError" not in page and not PYTHONIC.search(page)

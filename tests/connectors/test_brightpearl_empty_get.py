"""A Brightpearl GET for ids that no longer exist: the documented 404 and the recorded 200 [],
both read as "gone", never as a failed run (issue 16, "Brightpearl empty multi-GET")."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from connectors.models import Connection
from connectors.registry import connector_for
from exceptions.models import Ticket
from syncs.models import RunState
from syncs.services import flow_run_now

PAYLOADS = Path(__file__).parents[1] / "sandbox" / "payloads"
# Recorded: a contact GET of an id that exists nowhere (ruby-brightpearl
# spec/fixtures/customer/get/empty_not_found.yml, 2025) and an order GET of one (2022,
# order_get_empty_not_found.yml, /work/shared/vendors/brightpearl/ruby-brightpearl-fixtures/).
NOT_FOUND_404 = json.loads((PAYLOADS / "brightpearl_contact_get_not_found.json").read_text())
EMPTY_200 = {"response": []}


def connection(brand) -> Connection:
    return Connection.objects.create(
        brand=brand,
        system="brightpearl",
        base_url="https://euw1.brightpearlconnect.com",
        credentials={"app_ref": "acme_console", "account_token": "t"},
        settings={"account": "acme"},
    )


@pytest.mark.django_db
@pytest.mark.parametrize("status,body", [(404, NOT_FOUND_404), (200, EMPTY_200)])
def test_every_get_by_id_set_reads_nothing_found_as_no_records(brand_a, status, body):
    calls = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(status, json=body)

    with connector_for(connection(brand_a), transport=httpx.MockTransport(answer)) as bp:
        assert list(bp.orders([5, 6])) == []
        assert list(bp.contacts([7])) == []
        assert list(bp.sales_credits([8])) == []
        assert list(bp.products([9])) == []
        assert list(bp.goods_out_notes(note_ids=[10])) == []
        assert bp.availability([11]) == {}
        assert bp.webhooks() == []
    assert len(calls) == 7, "a 404 is an answer: not retried"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("answers_404", [True, False])
def test_a_run_for_ids_that_are_gone_tickets_them_as_missing_and_does_not_fail(
    sandbox, live_brand, answers_404
):
    sandbox.configure(settings={"brightpearl_empty_get_404": answers_404})
    run = flow_run_now(
        brand=live_brand, flow="order_lifecycle", trigger="webhook", scope=["99998", "99999"]
    )
    assert run.state == RunState.SUCCEEDED, run.error
    tickets = Ticket.objects.filter(brand=live_brand)
    assert sorted(tickets.values_list("type__code", "source_id")) == [
        ("record_missing", "99998"),
        ("record_missing", "99999"),
    ], "the ids are missing, as before; no ticket for a failed run"

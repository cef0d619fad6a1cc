"""The orders flow's writes against Salesforce's documented collection-upsert answers
(httpx.MockTransport): new Orders go Draft, then their items, then their mapped Status only
for the Orders whose items Salesforce took; a per-record refusal holds that order alone.

The answers are the documented shape of `PATCH /composite/sobjects/{Object}/{ExternalIdField}`:
one `{id, success, errors[{statusCode, message, fields}], created}` per record, in order
(developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-sobjects-
collections-upsert.html); REQUIRED_FIELD_MISSING as the object reference gives it for
OrderItem.PricebookEntryId."""

from __future__ import annotations

import json

import httpx
import pytest

from connectors.registry import connector_for
from syncs.flows.base import Push
from syncs.flows.salesforce.orders_out import SalesforceOrdersFlow
from tests.connectors.test_salesforce_auth import TOKEN, Org, sf

pytestmark = pytest.mark.django_db


def ok(record_id: str, created: bool) -> dict:
    return {"id": record_id, "success": True, "errors": [], "created": created}


MISSING = {
    "success": False,
    "errors": [
        {
            "statusCode": "REQUIRED_FIELD_MISSING",
            "message": "Required fields are missing: [PricebookEntryId]",
            "fields": ["PricebookEntryId"],
        }
    ],
}


class Ctx:
    """What the flow's write uses of a run: the brand and its Salesforce connector."""

    def __init__(self, connector) -> None:
        self.brand_id = connector.connection.brand_id
        self._sf = connector

    def connector(self, system: str):
        assert system == "salesforce"
        return self._sf


def push(order_id: str, status: str, rows: int) -> Push:
    items = [
        {
            "Brightpearl_Row_Id__c": f"{order_id}-{n}",
            "PricebookEntryId": "01u5g00000AbCdEAAZ",
            "Quantity": 1.0,
            "UnitPrice": 9.99,
        }
        for n in range(1, rows + 1)
    ]
    header = {"Brightpearl_Order_Id__c": order_id, "AccountId": "0015g00000XyZaBAAV"}
    return Push(source_id=order_id, payload={"Order": header, "Items": items, "Status": status})


def test_draft_then_items_then_the_status_and_a_refused_item_holds_its_order(brand_a):
    org = Org(
        [
            httpx.Response(200, json=[ok("8015g0000001", True), ok("8015g0000002", True)]),
            httpx.Response(200, json=[ok("8025g0000001", True), ok("8025g0000002", True), MISSING]),
            httpx.Response(200, json=[ok("8015g0000001", False)]),
        ],
        [httpx.Response(200, json=TOKEN)],
    )
    with connector_for(sf(brand_a), transport=httpx.MockTransport(org)) as api:
        result = SalesforceOrdersFlow().write(
            Ctx(api), [push("10001", "Activated", 2), push("10002", "Fulfilled", 1)]
        )
    assert result.created == {"10001": "8015g0000001"}
    assert set(result.failed) == {"10002"}
    assert result.failed["10002"].code == "REQUIRED_FIELD_MISSING"
    headers, items, status = (json.loads(c.content) for c in org.api_calls())
    assert [c.url.path.rsplit("/", 2)[-2] for c in org.api_calls()] == [
        "Order",
        "OrderItem",
        "Order",
    ]
    # New Orders go as Draft: Salesforce adds products only to a draft order.
    assert {r["Status"] for r in headers["records"]} == {"Draft"}
    assert headers["allOrNone"] is False
    # Each item names its Order by the Brightpearl id: no look-up of the Order's id first.
    assert items["records"][0]["Order"] == {"Brightpearl_Order_Id__c": "10001"}
    assert items["records"][0]["attributes"] == {"type": "OrderItem"}
    # Then the mapped Status, only for the Order whose items all went.
    assert status["records"] == [
        {"attributes": {"type": "Order"}, "Brightpearl_Order_Id__c": "10001", "Status": "Activated"}
    ]

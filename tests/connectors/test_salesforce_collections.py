"""Products → Salesforce against Salesforce's documented answers, replayed with
httpx.MockTransport: an sObject Collections upsert by the SKU field answers one UpsertResult
per record, in the order sent (`{id, success, errors[{statusCode, message, fields}], created}`,
developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-sobjects-collections-
upsert.html and the UpsertResult page of the API guide). A refused record fails alone; a SKU
on several Product2 records (the DUPLICATE_EXTERNAL_ID text below is Salesforce's own, as
recorded at wiki.myrapidi.com/wiki/duplicate_external_id) becomes a duplicate ticket listing
the records a GET by external id answers 300 with."""

from __future__ import annotations

import json
from types import SimpleNamespace

import httpx
import pytest

from connectors.errors import ConfigurationError
from connectors.registry import connector_for
from syncs.flows.base import Push
from syncs.flows.salesforce.catalog import product_ids_by_sku, upsert_products
from tests.connectors.test_salesforce_allowance import sf

pytestmark = pytest.mark.django_db
USAGE = {"Sforce-Limit-Info": "api-usage=4210/15000"}
CREATED = {"id": "01tj00000033KNQAA2", "success": True, "errors": [], "created": True}
UPDATED = {"id": "01tj00000033KNRAA2", "success": True, "errors": [], "created": False}
INVALID = {
    "success": False,
    "errors": [
        {
            "statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            "message": "Product Family is required for live products",
            "fields": [],
        }
    ],
}
DOUBLED = {
    "success": False,
    "errors": [
        {
            "statusCode": "DUPLICATE_EXTERNAL_ID",
            "message": "Case SKU Number (US): more than one record found for external id field: "
            "[01tj00000033KNPAA2, 01tj0000002xwceAAA]",
            "fields": [],
        }
    ],
}
MATCHES = [
    "/services/data/v61.0/sobjects/Product2/01tj00000033KNPAA2",
    "/services/data/v61.0/sobjects/Product2/01tj0000002xwceAAA",
]


def pushes(n: int) -> list[Push]:
    return [
        Push(
            source_id=str(1000 + i),
            payload={"Name": f"Product {i}", "ProductCode": f"SKU-{i}", "IsActive": True},
            natural_key=f"SKU-{i}",
        )
        for i in range(n)
    ]


def org(answers: list[dict], sent: list[dict]):
    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH":
            body = json.loads(request.content)
            sent.append({"path": request.url.path, **body})
            return httpx.Response(200, json=answers[: len(body["records"])], headers=USAGE)
        if request.url.path.endswith("/sobjects/Product2/Brightpearl_SKU__c/SKU-3"):
            return httpx.Response(300, json=MATCHES, headers=USAGE)
        return httpx.Response(404, json=[{"errorCode": "NOT_FOUND", "message": "?"}])

    return answer


def test_each_record_is_answered_alone_and_a_doubled_sku_lists_its_records(brand_a):
    sent: list[dict] = []
    transport = httpx.MockTransport(org([CREATED, UPDATED, INVALID, DOUBLED], sent))
    with connector_for(sf(brand_a), transport=transport) as api:
        ctx = SimpleNamespace(connector=lambda system: api, brand_id=brand_a.pk)
        result = upsert_products(ctx, pushes(4))
    [call] = sent
    assert call["path"] == "/services/data/v61.0/composite/sobjects/Product2/Brightpearl_SKU__c"
    assert call["allOrNone"] is False
    assert call["records"][0] == {
        "attributes": {"type": "Product2"},
        "Name": "Product 0",
        "ProductCode": "SKU-0",
        "IsActive": True,
        "Brightpearl_SKU__c": "SKU-0",
    }
    assert sorted(result.ok) == ["1000", "1001"]
    assert result.created == {"1000": CREATED["id"]}
    assert result.info["1001"] == UPDATED["id"]
    invalid = result.failed["1002"]
    assert invalid.code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert invalid.message == "Product Family is required for live products"
    doubled = result.failed["1003"]
    assert doubled.ticket_type == "salesforce_multiple_matches"
    assert doubled.snapshot["candidates"] == ["01tj00000033KNPAA2", "01tj0000002xwceAAA"]
    assert "SKU-3" in doubled.message and "Brightpearl_SKU__c" in doubled.message


def test_two_hundred_a_call(brand_a):
    sent: list[dict] = []
    with connector_for(
        sf(brand_a), transport=httpx.MockTransport(org([CREATED] * 200, sent))
    ) as api:
        ctx = SimpleNamespace(connector=lambda system: api, brand_id=brand_a.pk)
        result = upsert_products(ctx, pushes(450))
    assert [len(c["records"]) for c in sent] == [200, 200, 50]
    assert len(result.ok) == 450


def test_a_missing_sku_field_is_a_setting_to_correct(brand_a):
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            404,
            json=[
                {
                    "errorCode": "NOT_FOUND",
                    "message": "Provided external ID field does not exist or is not accessible: "
                    "Brightpearl_SKU__c",
                }
            ],
            headers=USAGE,
        )

    with connector_for(sf(brand_a), transport=httpx.MockTransport(refuse)) as api:
        ctx = SimpleNamespace(connector=lambda system: api, brand_id=brand_a.pk)
        with pytest.raises(ConfigurationError) as raised:
            upsert_products(ctx, pushes(1))
    assert "Product SKU field" in raised.value.plain


def test_the_look_up_after_a_lost_answer_is_one_query_per_200_skus(brand_a):
    queries: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        soql = request.url.params["q"]
        queries.append(soql)
        records = [
            {
                "attributes": {
                    "type": "Product2",
                    "url": f"/services/data/v61.0/sobjects/Product2/01t{n}",
                },
                "Id": f"01t{n}",
                "Brightpearl_SKU__c": "O'Neill-1" if n == 0 else f"SKU-{n}",
            }
            for n in range(2)
        ]
        return httpx.Response(
            200, json={"totalSize": 2, "done": True, "records": records}, headers=USAGE
        )

    with connector_for(sf(brand_a), transport=httpx.MockTransport(answer)) as api:
        ctx = SimpleNamespace(connector=lambda system: api, brand_id=brand_a.pk)
        found = product_ids_by_sku(ctx, ["O'Neill-1", "SKU-1"])
    assert found == {"O'Neill-1": "01t0", "SKU-1": "01t1"}
    [soql] = queries
    assert soql == (
        "SELECT Id, Brightpearl_SKU__c FROM Product2 "
        "WHERE Brightpearl_SKU__c IN ('O\\'Neill-1','SKU-1')"
    )

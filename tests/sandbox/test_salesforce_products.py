"""The Salesforce fake's Product2 collection upserts, as the docs describe them: up to 200
records a call by an External ID field, one UpsertResult per record in order (allOrNone
false: a refused record leaves the rest written), Sforce-Limit-Info on every answer, and an
upsert by a standard field that is not an External ID (ProductCode) refused."""

from __future__ import annotations

import re

import pytest

from tests.sandbox.conftest import control, salesforce

pytestmark = pytest.mark.django_db(transaction=True)
PATH = "/composite/sobjects/Product2/Brightpearl_SKU__c"
USAGE = re.compile(r"^api-usage=\d+/\d+$")


def products(n: int, start: int = 0) -> list[dict]:
    return [
        {
            "attributes": {"type": "Product2"},
            "Brightpearl_SKU__c": f"SKU-{i}",
            "Name": f"P{i}",
            "ProductCode": f"SKU-{i}",
        }
        for i in range(start, start + n)
    ]


def test_two_hundred_products_a_call_each_answered_in_order(sandbox):
    client = salesforce(sandbox)
    first = client.patch(PATH, json={"allOrNone": False, "records": products(200)})
    assert first.status_code == 200 and USAGE.match(first.headers["Sforce-Limit-Info"])
    answers = first.json()
    assert len(answers) == 200
    assert set(answers[0]) == {"id", "success", "errors", "created"}
    assert all(a["success"] and a["created"] and a["errors"] == [] for a in answers)
    assert answers[0]["id"].startswith("01t") and len(answers[0]["id"]) == 18
    again = client.patch(PATH, json={"allOrNone": False, "records": products(2)})
    assert [a["created"] for a in again.json()] == [False, False]
    assert [a["id"] for a in again.json()] == [a["id"] for a in answers[:2]]
    over = client.patch(PATH, json={"allOrNone": False, "records": products(201)})
    assert over.status_code == 400 and over.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    assert USAGE.match(over.headers["Sforce-Limit-Info"])


def test_a_refused_record_is_answered_alone_and_the_rest_are_written(sandbox):
    control(sandbox).post(
        "/salesforce/records",
        json={"type": "Product2", "fields": {"Brightpearl_SKU__c": "SKU-1", "Name": "Old"}},
    ).raise_for_status()
    control(sandbox).post(
        "/salesforce/records",
        json={"type": "Product2", "fields": {"Brightpearl_SKU__c": "SKU-1", "Name": "Older"}},
    ).raise_for_status()
    answer = salesforce(sandbox).patch(PATH, json={"allOrNone": False, "records": products(3)})
    assert answer.status_code == 200 and "Sforce-Limit-Info" in answer.headers
    ok, refused, also_ok = answer.json()
    assert ok["success"] and also_ok["success"]
    assert refused["success"] is False and refused.get("id") is None
    [error] = refused["errors"]
    assert set(error) == {"statusCode", "message", "fields"}
    assert error["statusCode"] == "DUPLICATE_EXTERNAL_ID"
    assert error["fields"] == ["Brightpearl_SKU__c"]


def test_product_code_is_not_an_external_id(sandbox):
    client = salesforce(sandbox)
    refused = client.patch(
        "/composite/sobjects/Product2/ProductCode",
        json={"allOrNone": False, "records": [{"attributes": {"type": "Product2"}, "Name": "A"}]},
    )
    assert refused.status_code == 404 and refused.json()[0]["errorCode"] == "NOT_FOUND"
    assert "ProductCode" in refused.json()[0]["message"]
    assert USAGE.match(refused.headers["Sforce-Limit-Info"])
    one = client.patch("/sobjects/Product2/ProductCode/SKU-1", json={"Name": "A"})
    assert one.status_code == 404
    assert client.get("/query", params={"q": "SELECT Id FROM Product2"}).json()["totalSize"] == 0


def test_the_spent_allocation_is_refused_with_its_usage(sandbox):
    sandbox.configure(limits={"salesforce_daily": 2})
    client = salesforce(sandbox)
    answers = [client.patch(PATH, json={"allOrNone": False, "records": products(1)}) for _ in "abc"]
    assert [a.status_code for a in answers] == [200, 200, 403]
    assert answers[2].json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    assert all(USAGE.match(a.headers["Sforce-Limit-Info"]) for a in answers)

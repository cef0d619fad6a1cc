"""Salesforce on the sandbox: OAuth, upserts by external id, required fields, daily allocation."""

from __future__ import annotations

from tests.fixtures import loopback
from tests.sandbox.conftest import control, salesforce


def test_the_token_endpoint_checks_the_client_secret(sandbox):
    entry = sandbox.discovery()["salesforce"]
    url = entry["base_url"] + "/services/oauth2/token"
    good = loopback.post(url, data={"grant_type": "client_credentials",
                                 "client_id": entry["client_id"],
                                 "client_secret": entry["client_secret"]})  # fmt: skip
    token = good.json()
    assert good.status_code == 200
    assert token["instance_url"] == entry["base_url"] and token["token_type"] == "Bearer"
    assert {"access_token", "issued_at", "signature", "id"} <= set(token)
    bad = loopback.post(url, data={"grant_type": "client_credentials",
                                "client_id": entry["client_id"], "client_secret": "wrong"})  # fmt: skip
    assert bad.status_code == 400
    assert bad.json() == {
        "error": "invalid_client",
        "error_description": "invalid client credentials",
    }


def test_a_bad_or_expired_session_gets_401(sandbox):
    client = salesforce(sandbox)
    assert client.get("/limits").status_code == 200
    control(sandbox).post("/salesforce/expire-tokens", json={})
    expired = client.get("/limits")
    assert expired.status_code == 401
    assert expired.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    assert salesforce(sandbox).get("/limits").status_code == 200  # a new token works


def test_collection_upsert_answers_per_record_with_required_field_checks(sandbox):
    client = salesforce(sandbox)
    records = [
        {"attributes": {"type": "Account"}, "BP_Id__c": "201", "Name": "Alex Morgan", "Type": "Retail"},
        {"attributes": {"type": "Account"}, "BP_Id__c": "202"},
    ]  # fmt: skip
    first = client.patch(
        "/composite/sobjects/Account/BP_Id__c", json={"allOrNone": False, "records": records}
    )
    assert first.status_code == 200
    created, missing = first.json()
    assert created["success"] is True and created["created"] is True and created["errors"] == []
    assert missing["success"] is False
    assert missing["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert missing["errors"][0]["fields"] == ["Name"]
    again = client.patch("/composite/sobjects/Account/BP_Id__c",
                         json={"allOrNone": False, "records": records[:1]}).json()  # fmt: skip
    assert again[0]["created"] is False and again[0]["id"] == created["id"]
    assert sandbox.state("salesforce", "Account")["count"] == 1
    assert "Sforce-Limit-Info" in first.headers


def test_all_or_none_writes_nothing_when_one_record_fails(sandbox):
    client = salesforce(sandbox)
    records = [{"attributes": {"type": "Contact"}, "BP_Id__c": "1", "LastName": "A"},
               {"attributes": {"type": "Contact"}, "BP_Id__c": "2"}]  # fmt: skip
    answer = client.patch(
        "/composite/sobjects/Contact/BP_Id__c", json={"allOrNone": True, "records": records}
    )
    assert [r["success"] for r in answer.json()] == [False, False]
    assert answer.json()[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert sandbox.state("salesforce", "Contact")["count"] == 0


def test_more_than_200_records_are_refused(sandbox):
    records = [
        {"attributes": {"type": "Account"}, "BP_Id__c": str(n), "Name": "x"} for n in range(201)
    ]
    answer = salesforce(sandbox).patch(
        "/composite/sobjects/Account/BP_Id__c", json={"records": records}
    )
    assert answer.status_code == 400
    assert answer.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_single_upserts_answer_201_then_200_and_300_for_duplicates(sandbox):
    client = salesforce(sandbox)
    client.patch("/sobjects/Account/BP_Id__c/201", json={"Name": "Alex"})
    created = client.patch("/sobjects/Contact/BP_Id__c/201",
                           json={"LastName": "Morgan", "Account": {"BP_Id__c": "201"}})  # fmt: skip
    assert created.status_code == 201 and created.json()["created"] is True
    updated = client.patch("/sobjects/Contact/BP_Id__c/201", json={"LastName": "Morgan-Smith"})
    assert updated.status_code == 200 and updated.json()["created"] is False
    old_api = salesforce(sandbox, version="45.0").patch(
        "/sobjects/Contact/BP_Id__c/201", json={"LastName": "M"}
    )
    assert old_api.status_code == 204
    contact = client.get("/sobjects/Contact/BP_Id__c/201").json()
    account = client.get("/sobjects/Account/BP_Id__c/201").json()
    assert contact["AccountId"] == account["Id"]
    no_account = client.patch("/sobjects/Order/BP_Id__c/10001", json={"Status": "Draft"})
    assert no_account.status_code == 400
    assert no_account.json()[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    control(sandbox).post(
        "/salesforce/records",
        json={"type": "Account", "fields": {"BP_Id__c": "201", "Name": "Dup"}},
    )
    multiple = client.patch("/sobjects/Account/BP_Id__c/201", json={"Name": "Alex"})
    assert multiple.status_code == 300 and len(multiple.json()) == 2


def test_the_daily_allocation_is_reported_and_enforced(sandbox):
    sandbox.configure(limits={"salesforce_daily": 3})
    client = salesforce(sandbox)
    answers = [client.get("/limits") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 403]
    assert answers[2].headers["Sforce-Limit-Info"] == "api-usage=3/3"
    assert answers[3].json() == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    assert answers[0].json()["DailyApiRequests"] == {"Max": 3, "Remaining": 2}

"""The write log: every vendor write request, whatever became of it, to count writes per record."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from tests.sandbox.conftest import bigcommerce, brightpearl, control, mailchimp, ometria, salesforce

SALES_ORDER = {
    "customer": {"id": 201},
    "ref": "BC-77",
    "externalRef": "77",
    "rows": [{"sku": "TEE-BLA-1001", "name": "Tee", "quantity": 1, "net": 10, "tax": 2}],
}


def test_every_write_is_logged_with_its_outcome_and_reads_are_not(sandbox):
    client = brightpearl(sandbox)
    created = client.post("/order-service/sales-order", json=SALES_ORDER)
    assert created.status_code == 200
    client.get("/order-service/order-status")
    assert client.post("/order-service/order", json={"reference": "#1"}).status_code == 400
    sandbox.set_faults("brightpearl", lost_write_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/order-service/sales-order", json=SALES_ORDER)
    log = sandbox.writes(vendor="brightpearl")
    assert log["count"] == 3 and log["forgotten"] == 0
    first, refused, lost = log["items"]
    assert first["method"] == "POST"
    assert first["path"] == "/public-api/demo/order-service/sales-order"
    assert first["status"] == 200 and first["fault"] is None and first["account"] == "demo"
    assert first["keys"] == ["reference:BC-77", "externalRef:77"]
    assert first["at"].startswith("20") and first["seq"] < refused["seq"] < lost["seq"]
    assert refused["status"] == 400 and refused["keys"] == ["reference:#1"]
    assert lost["status"] == "dropped" and lost["fault"] == "lost_write"
    # Counting the creates of one record: two, one of them unanswered.
    assert sandbox.writes(key="externalRef:77")["count"] == 2
    assert sandbox.writes(key="externalRef:77", status="2xx")["count"] == 1


def test_filters_by_vendor_method_path_prefix_account_and_status(sandbox):
    bp = brightpearl(sandbox)
    bp.post("/contact-service/contact/", json={"firstName": "A", "lastName": "B"})
    bp.put("/order-service/order/10001/status", json={"orderStatusId": 24})
    brightpearl(sandbox, "second").put(
        "/order-service/order/20001/status", json={"orderStatusId": 2}
    )
    client, list_id = mailchimp(sandbox)
    client.patch(f"/lists/{list_id}/members/nobody@example.com", json={"merge_fields": {}})
    assert sandbox.writes(vendor="brightpearl")["count"] == 3
    assert sandbox.writes(method="PUT")["count"] == 2
    assert sandbox.writes(method="PUT", account="second")["count"] == 1
    assert sandbox.writes(path_prefix="/public-api/demo/order-service/")["count"] == 1
    assert sandbox.writes(key="order:10001")["items"][0]["status"] == 200
    missing = sandbox.writes(vendor="mailchimp")["items"][0]
    assert missing["status"] == 400  # no status for a new member
    assert missing["keys"] == ["member:" + hashlib.md5(b"nobody@example.com").hexdigest()]
    assert sandbox.writes(status="4xx")["count"] == 1
    over_http = control(sandbox).get("/state/sandbox/writes", params={"method": "PUT"}).json()
    assert over_http == sandbox.writes(method="PUT")


def test_each_vendor_names_the_records_it_writes(sandbox):
    om = ometria(sandbox)
    om.post("/v2/push", json=[{"@type": "contact", "id": "c1", "email": "c1@x.io"},
                              {"@type": "contact", "id": "c2", "email": "c2@x.io"}])  # fmt: skip
    sf = salesforce(sandbox)
    sf.patch("/sobjects/Account/BP_Id__c/201", json={"Name": "Alex"})
    sf.patch("/composite/sobjects/Contact/BP_Id__c", json={"records": [
        {"attributes": {"type": "Contact"}, "BP_Id__c": "5", "LastName": "X"}]})  # fmt: skip
    bc = bigcommerce(sandbox)
    bc.put("/v2/orders/101", json={"status_id": 9})
    mc, list_id = mailchimp(sandbox)
    mc.post(
        f"/lists/{list_id}",
        json={"members": [{"email_address": "New@x.io", "status": "subscribed"}]},
    )
    keys = {w["vendor"]: w["keys"] for w in sandbox.writes()["items"]}
    assert keys["ometria"] == ["contact:c1", "contact:c2"]
    assert keys["salesforce"] == ["Contact.BP_Id__c:5"]
    assert sandbox.writes(key="Account.BP_Id__c:201")["count"] == 1
    assert keys["bigcommerce"] == ["order:101"]
    assert keys["mailchimp"] == ["member:" + hashlib.md5(b"new@x.io").hexdigest()]
    # The token request is not a write.
    assert sandbox.writes(path_prefix="/services/oauth2")["count"] == 0


def test_writes_refused_by_a_fault_or_the_rate_limit_are_logged_too(sandbox):
    client = brightpearl(sandbox)
    sandbox.set_faults("brightpearl", error_rate=1.0)
    assert client.post("/contact-service/contact/", json={"firstName": "A"}).status_code == 500
    sandbox.clear_faults()
    sandbox.configure(limits={"brightpearl_per_minute": 1})
    client.get("/order-service/order-status")  # spends the window
    assert client.post("/contact-service/contact/", json={"firstName": "A"}).status_code == 503
    sandbox.set_faults("brightpearl", outage_seconds=30, outage_mode="reset")
    with pytest.raises(httpx.TransportError):
        client.post("/contact-service/contact/", json={"firstName": "A"})
    outcomes = [(w["status"], w["fault"]) for w in sandbox.writes()["items"]]
    assert outcomes == [(500, "error"), (503, "throttled"), ("dropped", "outage")]


def test_the_log_is_bounded_and_starts_empty_after_a_reset(sandbox):
    sandbox.configure(settings={"write_log_max": 3}, limits={"ometria_per_second": None})
    client = ometria(sandbox)
    for n in range(5):
        client.post("/v2/push", json=[{"@type": "contact", "id": f"c{n}"}])
    log = sandbox.writes()
    assert log["count"] == 3 and log["forgotten"] == 2
    assert [w["keys"] for w in log["items"]] == [["contact:c2"], ["contact:c3"], ["contact:c4"]]
    assert control(sandbox).post("/writes/reset").json()["count"] == 0
    client.post("/v2/push", json=[{"@type": "contact", "id": "again"}])
    assert sandbox.writes()["count"] == 1
    sandbox.reset()
    assert sandbox.writes() == {"collection": "writes", "count": 0, "forgotten": 0, "items": []}

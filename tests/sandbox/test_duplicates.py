"""Duplicates per natural key, per vendor: none after seeding but the seed's deliberate pair,
and every duplicate made on purpose is listed."""

from __future__ import annotations

import time

import httpx
import pytest

from connectors.mailchimp.fake import member_rec
from connectors.sandbox.core import iso_ms, utcnow
from tests.sandbox.conftest import bigcommerce, brightpearl, control, mailchimp, ometria, salesforce


def _sales_order(ref: str, external_ref: str) -> dict:
    return {
        "customer": {"id": 210},
        "ref": ref,
        "externalRef": external_ref,
        "rows": [{"sku": "TEE-BLA-1001", "name": "Tee", "quantity": 1, "net": 10, "tax": 2}],
    }


def test_after_seeding_only_the_seeds_deliberate_pair_is_listed(sandbox):
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    found = sandbox.duplicates()
    assert found["count"] == 1
    (group,) = found["groups"]
    assert group == {
        "vendor": "brightpearl",
        "account": "demo",
        "collection": "contacts",
        "key_name": "email",
        "key": facts["duplicate_email"],
        "ids": facts["duplicate_email_contact_ids"],
        "new_ids": [],
    }
    assert sandbox.duplicates(created_after_seed=True) == {"count": 0, "groups": []}
    api = control(sandbox)
    assert api.get("/duplicates").json() == found
    assert (
        api.get("/duplicates/brightpearl", params={"created_after_seed": "1"}).json()["count"] == 0
    )
    assert api.get("/duplicates/ometria").json() == {"count": 0, "groups": []}
    assert api.get("/duplicates/nope").status_code == 404


def test_brightpearl_orders_by_external_ref_and_reference_and_contacts_by_email(sandbox):
    client = brightpearl(sandbox)
    first = client.post("/order-service/sales-order", json=_sales_order("BC-9", "9")).json()
    second = client.post("/order-service/sales-order", json=_sales_order("BC-9", "9")).json()
    # A credit sharing a sales order's reference is another kind of record: no group.
    client.post("/order-service/order", json={"orderTypeCode": "SC", "reference": "BC-9",
                                              "parties": {"customer": {"contactId": 210}}})  # fmt: skip
    contact = client.post(
        "/contact-service/contact/",
        json={"firstName": "Alex", "lastName": "Again",
              "communication": {"emails": {"PRI": {"email": "Alex.Morgan@Example.com"}}}},
    ).json()["response"]  # fmt: skip
    found = sandbox.duplicates("brightpearl", created_after_seed=True)
    by_key = {(g["collection"], g["key_name"]): g for g in found["groups"]}
    assert set(by_key) == {
        ("orders", "externalRef"),
        ("orders", "reference"),
        ("contacts", "email"),
    }
    ids = [first["response"], second["response"]]
    assert by_key[("orders", "externalRef")]["ids"] == ids
    assert by_key[("orders", "externalRef")]["new_ids"] == ids
    assert by_key[("orders", "reference")]["key"] == "BC-9"
    assert by_key[("orders", "reference")]["order_type"] == "SO"
    emails = by_key[("contacts", "email")]
    assert emails["ids"] == [201, 202, contact] and emails["new_ids"] == [contact]


def test_bigcommerce_a_repeated_shipment_of_the_same_items_and_tracking_is_listed(sandbox):
    control(sandbox).post("/bigcommerce/orders", json={"email": "dup@example.com", "lines": [
        {"sku": "TEE-BLA-1001", "quantity": 3}, {"sku": "SHIR-BLA-1002", "quantity": 3}]})  # fmt: skip
    client = bigcommerce(sandbox)
    order_id = client.get("/v2/orders?sort=id:desc&limit=1").json()[0]["id"]
    tee, shirt = client.get(f"/v2/orders/{order_id}/products").json()
    body = {"order_address_id": tee["order_address_id"], "tracking_number": "TRK-9",
            "items": [{"order_product_id": tee["id"], "quantity": 1}]}  # fmt: skip
    ids = [
        client.post(f"/v2/orders/{order_id}/shipments", json=body).json()["id"] for _ in range(2)
    ]
    # The same order with other items, or another tracking number: not duplicates.
    other_items = {**body, "items": [{"order_product_id": shirt["id"], "quantity": 1}]}
    assert client.post(f"/v2/orders/{order_id}/shipments", json=other_items).status_code == 201
    other_tracking = {**body, "tracking_number": "TRK-10"}
    assert client.post(f"/v2/orders/{order_id}/shipments", json=other_tracking).status_code == 201
    (group,) = sandbox.duplicates("bigcommerce", created_after_seed=True)["groups"]
    assert group["collection"] == "shipments" and group["ids"] == ids == group["new_ids"]
    assert group["key_name"] == "order_id|tracking_number|items"
    assert group["key"] == f"{order_id}|TRK-9|{tee['id']}x1"


def test_mailchimp_members_by_subscriber_hash(sandbox):
    client, list_id = mailchimp(sandbox)
    for _ in range(2):
        client.put(f"/lists/{list_id}/members/twice@example.com",
                   json={"email_address": "twice@example.com", "status_if_new": "subscribed"})  # fmt: skip
    assert sandbox.duplicates("mailchimp")["count"] == 0  # the API cannot make one
    # A member stored under another id with the same email: what a broken fake would do.
    member = client.get(f"/lists/{list_id}/members/twice@example.com").json()
    with sandbox.app.store.transaction(write=True):
        sandbox.app.store.put(member_rec(list_id, {**member, "id": "0" * 32}))
    (group,) = sandbox.duplicates("mailchimp")["groups"]
    assert group["key"] == member["id"] and sorted(group["ids"]) == sorted([member["id"], "0" * 32])
    assert group["new_ids"] == [member["id"]]


def test_salesforce_records_sharing_an_external_id_value(sandbox):
    client = salesforce(sandbox)
    created = client.patch(
        "/sobjects/Account/BP_Id__c/201", json={"Name": "Alex", "Tier__c": "Gold"}
    )
    client.patch("/sobjects/Account/BP_Id__c/202", json={"Name": "Sam", "Tier__c": "Gold"})
    # Tier__c is shared but nobody upserts by it: not an external id, not a duplicate.
    assert sandbox.duplicates("salesforce")["count"] == 0
    raw = control(sandbox).post("/salesforce/records",
                                json={"type": "Account", "fields": {"Name": "Alex 2", "BP_Id__c": "201"}})  # fmt: skip
    (group,) = sandbox.duplicates("salesforce", created_after_seed=True)["groups"]
    assert group["collection"] == "Account" and group["key_name"] == "BP_Id__c"
    assert group["key"] == "201" and group["ids"] == sorted(
        [created.json()["id"], raw.json()["Id"]]
    )


def test_ometria_repeated_custom_events_and_merged_records(sandbox):
    client = ometria(sandbox)
    event = {"@type": "custom_event", "id": "gon-7", "event_type": "order_shipped",
             "timestamp": "2025-03-01T10:00:00+00:00", "identity_email": "a@example.com"}  # fmt: skip
    first = client.post("/v2/push", json=[event]).json()["request_id"]
    second = client.post("/v2/push", json=[event]).json()["request_id"]
    for _ in range(2):  # contacts merge by id: pushing one twice is no duplicate
        client.post("/v2/push", json=[{"@type": "contact", "id": "c1", "email": "c1@x.io"}])
    (group,) = sandbox.duplicates("ometria")["groups"]
    assert group == {
        "vendor": "ometria",
        "account": sandbox.state("ometria", "custom_events")["account"],
        "collection": "repeated_events",
        "key_name": "id",
        "key": "gon-7",
        "ids": [first, second],
        "new_ids": [first, second],
        "pushes": 2,
    }


def test_since_lists_only_groups_with_a_record_created_after_it(sandbox):
    client = brightpearl(sandbox)
    client.post("/order-service/sales-order", json=_sales_order("OLD", "old"))
    client.post("/order-service/sales-order", json=_sales_order("OLD", "old"))
    time.sleep(0.01)
    since = iso_ms(utcnow())
    time.sleep(0.01)
    client.post("/order-service/sales-order", json=_sales_order("NEW", "new"))
    client.post("/order-service/sales-order", json=_sales_order("NEW", "new"))
    assert {g["key"] for g in sandbox.duplicates("brightpearl", created_after_seed=True)["groups"]} == {
        "OLD", "old", "NEW", "new"}  # fmt: skip
    recent = sandbox.duplicates("brightpearl", since=since)["groups"]
    assert {g["key"] for g in recent} == {"NEW", "new"}
    over_http = control(sandbox).get("/duplicates/brightpearl", params={"since": since}).json()
    assert over_http["groups"] == recent
    # One more order on an old key lists the old group again, with only the new id as new.
    third = client.post("/order-service/sales-order", json=_sales_order("OLD-3", "old")).json()
    (old,) = [
        g for g in sandbox.duplicates("brightpearl", since=since)["groups"] if g["key"] == "old"
    ]
    assert len(old["ids"]) == 3 and old["new_ids"] == [third["response"]]


def test_the_account_filter_takes_a_brand_key_or_an_account_code(sandbox):
    second = brightpearl(sandbox, "second")
    for _ in range(2):
        order = _sales_order("S-1", "s1")
        order["customer"] = {"id": 301}
        order["rows"][0]["sku"] = "TEE-BLA-2001"  # the second brand's products are 2001…
        assert second.post("/order-service/sales-order", json=order).status_code == 200
    assert sandbox.duplicates(account="second")["count"] == 2
    assert {g["account"] for g in sandbox.duplicates(account="second")["groups"]} == {"second"}
    assert sandbox.duplicates(account="demo")["count"] == 1  # the seed's pair
    api = control(sandbox)
    assert (
        api.get("/duplicates", params={"account": "second", "created_after_seed": "1"}).json()[
            "count"
        ]
        == 2
    )


def test_a_retry_after_a_lost_write_duplicates_and_a_lookup_first_does_not(sandbox):
    """What the chaos test proves of the engine, played by hand: the same lost answer, then a
    blind retry (a duplicate, listed) or a look-up by the natural key (none)."""
    client = brightpearl(sandbox)

    def lost_create(ref: str) -> None:
        sandbox.set_faults("brightpearl", lost_write_rate=1.0)
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/order-service/sales-order", json=_sales_order(f"BC-{ref}", ref))
        sandbox.clear_faults()

    lost_create("501")
    client.post("/order-service/sales-order", json=_sales_order("BC-501", "501"))  # blind retry
    lost_create("502")
    found = client.get("/order-service/order-search?externalRef=502").json()["response"]
    assert found["metaData"]["resultsAvailable"] == 1  # found: no second create
    groups = sandbox.duplicates("brightpearl", created_after_seed=True)["groups"]
    assert {(g["key_name"], g["key"]) for g in groups} == {
        ("externalRef", "501"),
        ("reference", "BC-501"),
    }
    creates = sandbox.writes(path_prefix="/public-api/demo/order-service/sales-order")
    assert [w["keys"][1] for w in creates["items"]] == ["externalRef:501"] * 2 + ["externalRef:502"]


def test_a_sales_credit_keeps_its_ref_and_external_ref_so_a_repeat_is_listed(sandbox):
    client = brightpearl(sandbox)
    parent = sandbox.seed_facts()["demo"]["brightpearl"]["first_order_by_status"]["4"]
    body = {"parentId": parent, "ref": "RMA-1", "externalRef": "bc-refund-1"}
    ids = [
        client.post("/order-service/sales-credit", json=body).json()["response"] for _ in range(2)
    ]
    credit = client.get(f"/order-service/sales-credit/{ids[0]}").json()["response"][0]
    assert credit["ref"] == "RMA-1" and credit["externalRef"] == "bc-refund-1"
    found = client.get("/order-service/order-search?orderTypeId=3&externalRef=bc-refund-1").json()
    assert [row[0] for row in found["response"]["results"]] == ids
    groups = sandbox.duplicates("brightpearl", created_after_seed=True)["groups"]
    assert {(g["order_type"], g["key_name"], g["key"]) for g in groups} == {
        ("SC", "externalRef", "bc-refund-1"),
        ("SC", "reference", "RMA-1"),
    }
    assert sandbox.writes(key="externalRef:bc-refund-1")["count"] == 2

"""Changes made through the control API fire the webhooks clients registered, with real bodies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import parse_qsl

from tests.sandbox.conftest import (
    PAYLOADS,
    assert_shape,
    bigcommerce,
    brightpearl,
    control,
    mailchimp,
    payload,
)

BODY = payload("brightpearl_webhook_get_response.json")["response"][0]["bodyTemplate"]


def register_brightpearl(sandbox, receiver, subscribe_to: str, qos: int = 1) -> None:
    answer = brightpearl(sandbox).post("/integration-service/webhook", json={
        "subscribeTo": subscribe_to, "httpMethod": "POST",
        "uriTemplate": receiver.url + "/bp/secret123/${resource-type}/${resource-id}",
        "bodyTemplate": BODY + "", "contentType": "application/json",
        "idSetAccepted": False, "qualityOfService": qos,
    })  # fmt: skip
    assert answer.status_code == 200


def test_shipping_a_note_fires_brightpearl_webhooks_with_ids_only(sandbox, receiver):
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    register_brightpearl(sandbox, receiver, "goods-out-note")
    note_id = facts["unshipped_note_id"]
    shipped = control(sandbox).post(f"/brightpearl/goods-out-notes/{note_id}/ship", json={})
    assert shipped.status_code == 200 and shipped.json()["status"]["shipped"] is True
    [call] = receiver.wait_for(1)
    assert call["path"] == f"/bp/secret123/goods-out-note/{note_id}"
    assert call["headers"]["content-type"] == "application/json"
    assert json.loads(call["body"]) == {
        "accountCode": "demo",
        "resourceType": "goods-out-note",
        "id": str(note_id),
        "lifecycleEvent": "modified",
        "fullEvent": "goods-out-note.modified.shipped",
    }
    order = sandbox.state("brightpearl", "orders", id=shipped.json()["orderId"])["items"][0]
    assert order["shippingStatusCode"] in ("ASS", "SPS")


def test_deliveries_2_sends_the_same_event_twice(sandbox, receiver):
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    register_brightpearl(sandbox, receiver, "order.modified.order-status")
    order_id = facts["first_order_by_status"]["2"]
    answer = control(sandbox).post(f"/brightpearl/orders/{order_id}/status",
                                   json={"statusId": 24, "deliveries": 2})  # fmt: skip
    assert answer.json()["orderStatus"]["orderStatusId"] == 24
    calls = receiver.wait_for(2)
    assert len(calls) == 2 and calls[0]["body"] == calls[1]["body"]
    assert json.loads(calls[0]["body"])["fullEvent"] == "order.modified.order-status"
    assert sandbox.wait_for_deliveries()
    log = sandbox.deliveries(vendor="brightpearl")
    assert [d["status"] for d in log] == [200, 200]


def test_a_failed_delivery_is_retried_until_it_succeeds(sandbox, receiver):
    sandbox.configure(time_scale=200)  # retry delays shrink with the clock
    receiver.statuses = [500, 503]
    register_brightpearl(sandbox, receiver, "order.modified.order-status")
    order_id = sandbox.seed_facts()["demo"]["brightpearl"]["first_order_by_status"]["2"]
    answer = control(sandbox).post(f"/brightpearl/orders/{order_id}/status", json={"statusId": 24})
    assert answer.status_code == 200
    calls = receiver.wait_for(3)
    assert [c["status"] for c in calls] == [500, 503, 200]
    assert sandbox.wait_for_deliveries()
    attempts = sandbox.deliveries(vendor="brightpearl")
    assert [(d["attempt"], d["status"]) for d in attempts] == [(1, 500), (2, 503), (3, 200)]


def test_completing_a_credit_fires_the_order_event_only(sandbox, receiver):
    """A credit is an order: its status change is order.modified.order-status. Brightpearl's
    list ("Subscribable resource events") names no sales-credit event, so none fires."""
    credit_id = sandbox.seed_facts()["demo"]["brightpearl"]["open_credit_ids"][0]
    register_brightpearl(sandbox, receiver, "order")
    answer = control(sandbox).post(f"/brightpearl/orders/{credit_id}/status", json={"statusId": 11})
    assert answer.status_code == 200
    [call] = receiver.wait_for(1)
    assert json.loads(call["body"])["fullEvent"] == "order.modified.order-status"
    assert call["path"] == f"/bp/secret123/order/{credit_id}"


def test_events_brightpearl_does_not_list_never_fire(sandbox, receiver):
    """A new credit, a new low-level order and a contact change: the list names no event for
    them, so a hook on an unlisted name (stored like any other) is never called."""
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    for name in ("sales-credit", "order.created", "contact", "contact.modified"):
        register_brightpearl(sandbox, receiver, name)
    api = control(sandbox)
    assert api.post("/brightpearl/sales-credits", json={
        "orderId": facts["credited_order_ids"][0]}).status_code == 200  # fmt: skip
    contact_id = facts["contact_ids"][0]
    assert api.post(f"/brightpearl/contacts/{contact_id}", json={"touch": True}).status_code == 200
    contact = facts["contact_ids"][0]
    assert brightpearl(sandbox).post("/order-service/order", json={
        "orderTypeCode": "SO", "parties": {"customer": {"contactId": contact}}}).status_code == 200  # fmt: skip
    assert receiver.wait_for(1, timeout=0.5) == []
    assert sandbox.deliveries(vendor="brightpearl") == []
    listed = {h["subscribeTo"] for h in brightpearl(sandbox).get(
        "/integration-service/webhook").json()["response"]}  # fmt: skip
    assert {"sales-credit", "order.created", "contact", "contact.modified"} <= listed


def test_a_storefront_order_fires_store_order_created_with_the_registered_headers(
    sandbox, receiver
):
    client = bigcommerce(sandbox)
    client.post("/v3/hooks", json={"scope": "store/order/*", "destination": receiver.url + "/bc",
                                   "is_active": True, "headers": {"X-Console-Secret": "s3cret"}})  # fmt: skip
    sku = client.get("/v3/catalog/variants", params={"limit": 1}).json()["data"][0]["sku"]
    order = control(sandbox).post("/bigcommerce/orders", json={
        "lines": [{"sku": sku, "quantity": 2}], "email": "shopper@example.com",
        "payment_method": "PayPal", "deliveries": 2})  # fmt: skip
    assert order.status_code == 200
    calls = receiver.wait_for(2)
    body = json.loads(calls[0]["body"])
    assert_shape(body, payload("store_order_created.json"))
    assert body["scope"] == "store/order/created"
    assert body["data"] == {"type": "order", "id": order.json()["id"]}
    assert body["hash"] == json.loads(calls[1]["body"])["hash"]  # the same event, the same hash
    headers = calls[0]["headers"]
    assert headers["x-console-secret"] == "s3cret"
    secret = sandbox.discovery()["bigcommerce"]["client_secret"]
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + calls[0]["body"]
    expected = base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"


def test_a_status_change_fires_status_updated(sandbox, receiver):
    client = bigcommerce(sandbox)
    client.post("/v3/hooks", json={"scope": "store/order/statusUpdated",
                                   "destination": receiver.url, "is_active": True})  # fmt: skip
    order_id = sandbox.seed_facts()["demo"]["bigcommerce"]["unknown_sku_order_id"]
    control(sandbox).post(f"/bigcommerce/orders/{order_id}/status", json={"status_id": 5})
    [call] = receiver.wait_for(1)
    body = json.loads(call["body"])
    assert_shape(body, payload("store_order_statusUpdated.json"))
    assert body["data"]["status"] == {"previous_status_id": 11, "new_status_id": 5}


def test_an_unsubscribe_fires_mailchimps_form_encoded_callback(sandbox, receiver):
    client, list_id = mailchimp(sandbox)
    registered = client.post(f"/lists/{list_id}/webhooks", json={
        "url": receiver.url + "/mc/secret", "events": {"unsubscribe": True},
        "sources": {"user": True, "admin": True, "api": False}})  # fmt: skip
    assert registered.status_code == 200
    assert receiver.wait_for(1, method="GET")  # Mailchimp checks the URL with a GET first
    email = sandbox.discovery()["seed"]["demo"]["mailchimp"]["not_in_brightpearl_email"]
    member = control(sandbox).post(
        "/mailchimp/unsubscribe", json={"email": email, "reason": "manual"}
    )
    assert member.json()["status"] == "unsubscribed"
    [call] = receiver.wait_for(1, method="POST")
    assert call["headers"]["content-type"] == "application/x-www-form-urlencoded"
    form = dict(parse_qsl(call["body"].decode(), keep_blank_values=True))
    sample = (PAYLOADS / "mailchimp_webhook_unsubscribe_sample.txt").read_text()
    sample_keys = {line.split('"')[1] for line in sample.splitlines() if line.strip()}
    assert set(form) == sample_keys
    assert form["type"] == "unsubscribe" and form["data[email]"] == email
    assert form["data[list_id]"] == list_id
    changes = sandbox.state("mailchimp", "status_changes", id=email)["items"]
    assert [(c["to"], c["source"]) for c in changes] == [("unsubscribed", "user")]


def test_mailchimp_refuses_a_webhook_url_that_does_not_answer(sandbox, receiver):
    receiver.statuses = [404]
    client, list_id = mailchimp(sandbox)
    refused = client.post(f"/lists/{list_id}/webhooks", json={"url": receiver.url + "/nope"})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "url"

"""Ometria on the sandbox: push limits, merging, asynchronous validation, push history, 429s."""

from __future__ import annotations

import time

from tests.fixtures import loopback
from tests.sandbox.conftest import assert_shape, ometria, payload


def test_a_push_answers_like_ometria_and_stores_the_records(sandbox):
    client = ometria(sandbox)
    answer = client.post("/v2/push", json=payload("ometria_push_contact_request.json"))
    assert answer.status_code == 200
    assert_shape(answer.json(), payload("ometria_push_success_response.json"))
    assert answer.json()["accepted"] == 1 and answer.json()["rejected"] == 0
    stored = sandbox.state("ometria", "contacts", id="456")["items"]
    assert stored == [{"@type": "contact", "id": "456", "email": "example@example.com"}]


def test_an_existing_record_is_merged_with_the_fields_sent(sandbox):
    client = ometria(sandbox)
    order = {"@type": "order", "id": "123551", "timestamp": "2025-02-01T10:00:00+00:00",
             "grand_total": 59.9, "currency": "GBP", "status": "complete",
             "customer": {"id": "201"}, "lineitems": [{"sku": "A", "quantity": 1}]}  # fmt: skip
    client.post("/v2/push", json=[order])
    client.post("/v2/push", json=payload("ometria_push_order_cancel_request.json"))
    now = sandbox.state("ometria", "orders", id="123551")["items"][0]
    assert now["status"] == "cancelled" and now["is_valid"] is False
    assert now["grand_total"] == 59.9 and now["customer"] == {"id": "201"}
    history = sandbox.state("ometria", "push_log", type="order", id="123551")
    assert history["count"] == 2
    assert history["items"][1]["record"] == payload("ometria_push_order_cancel_request.json")[0]


def test_a_resent_record_keeps_its_customer_and_email_findable(sandbox):
    # A re-send that changes neither customer nor email takes a cheaper write than one that
    # does; the state filters read the same either way.
    client = ometria(sandbox)

    def order(customer: str, status: str) -> dict:
        return {"@type": "order", "id": "9001", "timestamp": "2025-02-01T10:00:00+00:00",
                "grand_total": 5, "currency": "GBP", "status": status,
                "customer": {"id": customer, "email": f"{customer}@example.com"}}  # fmt: skip

    def found(**filters: str) -> list[str]:
        return [o["status"] for o in sandbox.state("ometria", "orders", **filters)["items"]]

    client.post("/v2/push", json=[order("201", "complete")])
    client.post("/v2/push", json=[order("201", "cancelled")])
    assert found(owner="201") == ["cancelled"] == found(lookup="201@example.com")
    assert found(status="cancelled") == ["cancelled"] and found(status="complete") == []
    client.post("/v2/push", json=[order("202", "cancelled")])
    assert found(owner="201") == [] and found(lookup="201@example.com") == []
    assert found(owner="202") == ["cancelled"] == found(lookup="202@example.com")
    # The same id twice in one push: the last one wins.
    client.post("/v2/push", json=[order("203", "complete"), order("202", "refunded")])
    assert found(owner="202") == ["refunded"] and found(owner="203") == []


def test_validation_is_asynchronous_and_a_rejected_record_is_not_stored(sandbox):
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    client = ometria(sandbox)
    bad = {
        "@type": "contact",
        "id": str(facts["bad_email_contact_id"]),
        "email": facts["bad_email"],
    }
    good = {"@type": "contact", "id": "204", "email": "vip@example.com"}
    answer = client.post("/v2/push", json=[bad, good])
    assert answer.json()["status"] == "OK" and answer.json()["accepted"] == 2
    assert sandbox.state("ometria", "contacts", id=bad["id"])["count"] == 0
    assert sandbox.state("ometria", "contacts", id="204")["count"] == 1
    deadline = time.monotonic() + 5
    errors = []
    while not errors and time.monotonic() < deadline:
        errors = client.get("/v2/push/_errors").json()
        time.sleep(0.05)
    # Only the two documented fields (docs.ometria.com/docs/list-errors): nothing names the
    # record, its push or the time.
    assert_shape(errors, payload("ometria_push_errors_response.json"))
    assert errors == [{"error_message": "not a valid value", "error_path": "root > email"}]
    # The sandbox itself still knows which record it was, for tests.
    [logged] = sandbox.state("ometria", "push_errors")["items"]
    assert (logged["id"], logged["request_id"]) == (bad["id"], answer.json()["request_id"])


def test_order_and_custom_event_rules(sandbox):
    sandbox.configure(settings={"ometria_error_delay_ms": 0})  # errors visible at once
    client = ometria(sandbox)
    client.post("/v2/push", json=[
        {"@type": "order", "id": "o1", "status": "cancelled", "is_valid": False},  # unknown order
        {"@type": "order", "id": "o2", "timestamp": "2025-02-01T10:00:00Z", "grand_total": "x",
         "currency": "GBP", "customer": {"email": "a@b.co"}},
    ])  # fmt: skip
    events = [{"@type": "custom_event", "id": "gon-50004", "event_type": "order_shipped",
               "identity_account_id": "204", "timestamp": "2025-02-01T10:00:00Z",
               "properties": {"order_id": "10004"}}]  # fmt: skip
    client.post("/v2/push", json=events)
    client.post("/v2/push", json=events)
    listed = client.get("/v2/push/_errors").json()
    assert all(set(e) == {"error_message", "error_path"} for e in listed)
    paths = {(e["id"], e["error_path"]) for e in sandbox.state("ometria", "push_errors")["items"]}
    assert ("o1", "root > timestamp") in paths and ("o2", "root > grand_total") in paths
    assert sandbox.state("ometria", "orders")["count"] == 0
    assert sandbox.state("ometria", "push_log", type="custom_event", id="gon-50004")["count"] == 2
    assert sandbox.state("ometria", "custom_events", id="gon-50004")["count"] == 1


def test_batch_limits_and_mixed_types_are_refused(sandbox):
    client = ometria(sandbox)
    many = [{"@type": "contact", "id": str(n), "email": f"c{n}@example.com"} for n in range(101)]
    assert client.post("/v2/push", json=many).status_code == 400
    assert client.post("/v2/push", json=many[:100]).json()["accepted"] == 100
    mixed = [{"@type": "contact", "id": "1"}, {"@type": "order", "id": "2"}]
    assert client.post("/v2/push", json=mixed).status_code == 400
    huge = {"@type": "contact", "id": "big", "properties": {"blob": "x" * 70_000}}
    assert client.post("/v2/push", json=[huge]).json()["rejected"] == 1
    assert client.post("/v2/push", json=[{"@type": "contact"}]).json()["rejected"] == 1


def test_a_bad_key_is_refused(sandbox):
    url = sandbox.discovery()["ometria"]["base_url"] + "/v2/push"
    assert loopback.post(url, json=[], headers={"X-Ometria-Auth": "nope"}).status_code == 401
    assert loopback.post(url, json=[]).status_code == 401


def test_more_pushes_per_second_than_allowed_get_429(sandbox):
    sandbox.configure(limits={"ometria_per_second": 2})
    client = ometria(sandbox)
    statuses = [client.post("/v2/push", json=[]).status_code for _ in range(10)]
    assert 429 in statuses
    assert sandbox.stats()["ometria"]["throttled"] == statuses.count(429)


def test_the_same_record_twice_in_one_push_merges_in_order(sandbox):
    client = ometria(sandbox)
    client.post("/v2/push", json=[
        {"@type": "contact", "id": "twice", "email": "t@example.com", "firstname": "A"},
        {"@type": "contact", "id": "twice", "lastname": "B"},
    ])  # fmt: skip
    stored = sandbox.state("ometria", "contacts", id="twice")["items"][0]
    assert stored == {"@type": "contact", "id": "twice", "email": "t@example.com",
                      "firstname": "A", "lastname": "B"}  # fmt: skip


def test_a_push_past_the_queues_backlog_gets_429_with_the_documented_headers(sandbox):
    """docs.ometria.com/docs/ometria-data-api-introduction: past 50k records waiting, push
    answers 429; X-QueueSize-Limit and X-QueueSize-Remaining are on the answer."""
    client = ometria(sandbox)
    first = client.post("/v2/push", json=[{"@type": "contact", "id": "q1", "email": "q@x.io"}])
    assert first.headers["X-QueueSize-Limit"] == "50000"
    assert int(first.headers["X-QueueSize-Remaining"]) <= 49_999
    sandbox.configure(
        settings={"ometria_queue_backlog": 49_950, "ometria_queue_drain_per_second": 0}
    )
    many = [{"@type": "contact", "id": f"q{n}", "email": f"q{n}@x.io"} for n in range(100)]
    full = client.post("/v2/push", json=many)
    assert full.status_code == 429
    assert full.headers["X-QueueSize-Remaining"] == "49"
    assert sandbox.state("ometria", "contacts", id="q50")["count"] == 0, "nothing queued"
    fits = client.post("/v2/push", json=many[:49])
    assert fits.status_code == 200 and fits.headers["X-QueueSize-Remaining"] == "0"

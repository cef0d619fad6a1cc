"""The lost-write fault: every create path applies the write, then drops the answer, while
reads keep working, so a client can find the record by its natural key before creating again."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from connectors.sandbox import Sandbox
from connectors.sandbox.faults import Faults, parse_cli_fault
from tests.sandbox.conftest import bigcommerce, brightpearl, control, mailchimp, ometria, salesforce

# Each create path: (vendor, make the client, send the create, count the records by natural key).
Create = tuple[str, Callable[[Sandbox], Any], Callable[[Any, Sandbox], httpx.Response], Callable]


def _bp_order(client: httpx.Client, sandbox: Sandbox) -> httpx.Response:
    return client.post(
        "/order-service/order",
        json={"orderTypeCode": "SO", "reference": "LOST-1", "parties": {"customer": {"contactId": 201}}},
    )  # fmt: skip


def _bp_orders_by(field: str, value: str) -> Callable[[httpx.Client, Sandbox], int]:
    def count(client: httpx.Client, sandbox: Sandbox) -> int:
        found = client.get(f"/order-service/order-search?{field}={value}").json()
        return found["response"]["metaData"]["resultsAvailable"]

    return count


def _bp_sales_order(client: httpx.Client, sandbox: Sandbox) -> httpx.Response:
    return client.post(
        "/order-service/sales-order",
        json={"customer": {"id": 201}, "ref": "BC-LOST-2", "externalRef": "lost-2",
              "rows": [{"sku": "TEE-BLA-1001", "name": "Tee", "quantity": 1, "net": 10, "tax": 2}]},
    )  # fmt: skip


def _bp_contact(client: httpx.Client, sandbox: Sandbox) -> httpx.Response:
    return client.post(
        "/contact-service/contact/",
        json={"firstName": "Lost", "lastName": "Write",
              "communication": {"emails": {"PRI": {"email": "lost.write@example.com"}}}},
    )  # fmt: skip


def _bp_contacts(client: httpx.Client, sandbox: Sandbox) -> int:
    found = client.get("/contact-service/contact-search?primaryEmail=lost.write@example.com")
    return found.json()["response"]["metaData"]["resultsAvailable"]


def _invoiced_order(sandbox: Sandbox) -> int:
    return sandbox.seed_facts()["demo"]["brightpearl"]["first_order_by_status"]["4"]


def _bp_credit(client: httpx.Client, sandbox: Sandbox) -> httpx.Response:
    return client.post("/order-service/sales-credit", json={"parentId": _invoiced_order(sandbox)})


def _bp_credits(client: httpx.Client, sandbox: Sandbox) -> int:
    found = client.get(
        f"/order-service/order-search?orderTypeId=3&parentOrderId={_invoiced_order(sandbox)}"
    )
    return found.json()["response"]["metaData"]["resultsAvailable"]


def _bc_order(sandbox: Sandbox) -> int:
    return sandbox.seed_facts()["demo"]["bigcommerce"]["unknown_sku_order_id"]


def _bc_shipment(client: httpx.Client, sandbox: Sandbox) -> httpx.Response:
    order_id = _bc_order(sandbox)
    products = client.get(f"/v2/orders/{order_id}/products").json()
    return client.post(f"/v2/orders/{order_id}/shipments", json={
        "order_address_id": products[0]["order_address_id"], "tracking_number": "LOST-TRK",
        "items": [{"order_product_id": products[0]["id"], "quantity": 1}],
    })  # fmt: skip


def _bc_shipments(client: httpx.Client, sandbox: Sandbox) -> int:
    answer = client.get(f"/v2/orders/{_bc_order(sandbox)}/shipments")
    return 0 if answer.status_code == 204 else len(answer.json())


EMAIL = "lost.member@example.com"
HASH = hashlib.md5(EMAIL.encode()).hexdigest()


def _mc(sandbox: Sandbox) -> tuple[httpx.Client, str]:
    return mailchimp(sandbox)


def _mc_post(mc: tuple[httpx.Client, str], sandbox: Sandbox) -> httpx.Response:
    client, list_id = mc
    return client.post(
        f"/lists/{list_id}/members", json={"email_address": EMAIL, "status": "subscribed"}
    )


def _mc_put(mc: tuple[httpx.Client, str], sandbox: Sandbox) -> httpx.Response:
    client, list_id = mc
    return client.put(
        f"/lists/{list_id}/members/{HASH}",
        json={"email_address": EMAIL, "status_if_new": "subscribed"},
    )


def _mc_batch(mc: tuple[httpx.Client, str], sandbox: Sandbox) -> httpx.Response:
    client, list_id = mc
    return client.post(
        f"/lists/{list_id}", json={"members": [{"email_address": EMAIL, "status": "subscribed"}]}
    )


def _mc_members(mc: tuple[httpx.Client, str], sandbox: Sandbox) -> int:
    client, list_id = mc
    return int(client.get(f"/lists/{list_id}/members/{HASH}").status_code == 200)


def _sf_one(client: httpx.Client, sandbox: Sandbox) -> httpx.Response:
    return client.patch("/sobjects/Account/BP_Id__c/901", json={"Name": "Lost Write Ltd"})


def _sf_many(client: httpx.Client, sandbox: Sandbox) -> httpx.Response:
    records = [{"attributes": {"type": "Account"}, "BP_Id__c": "901", "Name": "Lost Write Ltd"}]
    return client.patch("/composite/sobjects/Account/BP_Id__c", json={"records": records})


def _sf_accounts(client: httpx.Client, sandbox: Sandbox) -> int:
    answer = client.get("/sobjects/Account/BP_Id__c/901")
    return {200: 1, 404: 0, 300: len(answer.json()) if answer.status_code == 300 else 0}[
        answer.status_code
    ]


def _om_push(client: httpx.Client, sandbox: Sandbox) -> httpx.Response:
    event = {"@type": "custom_event", "id": "gon-lost", "event_type": "order_shipped",
             "timestamp": "2025-03-01T10:00:00+00:00", "identity_email": "a@example.com"}  # fmt: skip
    return client.post("/v2/push", json=[event])


def _om_events(client: httpx.Client, sandbox: Sandbox) -> int:
    return sandbox.state("ometria", "custom_events", id="gon-lost")["count"]


CREATES: dict[str, Create] = {
    "brightpearl order": ("brightpearl", brightpearl, _bp_order, _bp_orders_by("customerRef", "LOST-1")),
    "brightpearl sales order": ("brightpearl", brightpearl, _bp_sales_order, _bp_orders_by("externalRef", "lost-2")),
    "brightpearl contact": ("brightpearl", brightpearl, _bp_contact, _bp_contacts),
    "brightpearl sales credit": ("brightpearl", brightpearl, _bp_credit, _bp_credits),
    "bigcommerce shipment": ("bigcommerce", bigcommerce, _bc_shipment, _bc_shipments),
    "mailchimp member post": ("mailchimp", _mc, _mc_post, _mc_members),
    "mailchimp member put": ("mailchimp", _mc, _mc_put, _mc_members),
    "mailchimp batch subscribe": ("mailchimp", _mc, _mc_batch, _mc_members),
    "salesforce upsert": ("salesforce", salesforce, _sf_one, _sf_accounts),
    "salesforce collection upsert": ("salesforce", salesforce, _sf_many, _sf_accounts),
    "ometria push": ("ometria", ometria, _om_push, _om_events),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CREATES))
def test_every_create_path_applies_the_write_then_drops_the_answer(sandbox, name):
    vendor, make_client, create, count = CREATES[name]
    client = make_client(sandbox)
    before = count(client, sandbox)
    sandbox.set_faults(vendor, lost_write_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        create(client, sandbox)
    # Reads still answer while the fault is on: the client can look the record up.
    assert count(client, sandbox) == before + 1
    assert sandbox.stats()[vendor]["faults"] == {"lost_write": 1}
    dropped = sandbox.writes(vendor=vendor, status="dropped")["items"]
    assert [w["fault"] for w in dropped] == ["lost_write"]


def test_a_mailchimp_batch_submission_is_a_lost_write_too(sandbox):
    client, _ = mailchimp(sandbox)
    sandbox.set_faults("mailchimp", lost_write_rate=1.0)
    operations = [{"method": "PUT", "path": f"/lists/x/members/{HASH}", "body": json.dumps({})}]
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/batches", json={"operations": operations})
    assert sandbox.state("mailchimp", "batches")["count"] == 1


def test_reads_and_refused_writes_are_answered(sandbox):
    sandbox.set_faults("brightpearl", lost_write_rate=1.0)
    client = brightpearl(sandbox)
    assert client.get("/order-service/order-status").status_code == 200
    assert client.request("OPTIONS", "/order-service/order/10001-10005").status_code == 200
    # A write the vendor refuses applied nothing: its answer is not lost.
    refused = client.post("/order-service/order", json={"reference": "#0001"})
    assert refused.status_code == 400
    token = salesforce(sandbox)  # the OAuth token POST writes nothing: never lost
    sandbox.set_faults("salesforce", lost_write_rate=1.0)
    assert token.get("/limits").status_code == 200
    assert salesforce(sandbox).get("/limits").status_code == 200
    assert sandbox.stats()["brightpearl"]["faults"] == {}


def test_the_same_plan_loses_the_same_writes(sandbox):
    client = ometria(sandbox)

    def run() -> list[str]:
        sandbox.reset()
        sandbox.configure(limits={"ometria_per_second": None})  # 32 calls, no 429s
        sandbox.set_faults("ometria", lost_write_rate=0.5, seed=11)
        outcomes = []
        for n in range(16):
            # Reads in between draw from the plan too: the sequence, not just the writes, counts.
            client.get("/v2/push/_errors")
            try:
                client.post(
                    "/v2/push", json=[{"@type": "contact", "id": f"c{n}", "email": f"c{n}@x.io"}]
                )
                outcomes.append("answered")
            except httpx.RemoteProtocolError:
                outcomes.append("lost")
        return outcomes

    first = run()
    assert set(first) == {"answered", "lost"}
    assert run() == first
    # Every write was applied, answered or not.
    assert sandbox.state("ometria", "contacts")["count"] == 16


def test_the_rate_is_set_through_the_control_api_and_the_command_line(sandbox):
    plan = control(sandbox).post("/faults", json={"vendor": "bigcommerce", "lost_write_rate": 0.25})
    assert plan.json()["bigcommerce"]["lost_write_rate"] == 0.25
    vendor, values = parse_cli_fault("brightpearl:lost_write_rate=0.3,seed=4")
    faults = Faults()
    faults.set(vendor, values)
    assert faults.snapshot()["brightpearl"]["lost_write_rate"] == 0.3

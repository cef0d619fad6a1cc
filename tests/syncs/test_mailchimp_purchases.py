"""Purchases → Mailchimp, on the sandbox's demo seed over real HTTP: each Brightpearl sales
order as an e-commerce order, its buyer's lifetime value from the orders, cancellations and
refunds, wholesale buyers kept out of the retail audience, consent never touched."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from connectors.models import Connection
from connectors.registry import connector_for
from exceptions.models import OPEN_STATUSES, Ticket
from syncs.flows.mailchimp.maps import BP_CUSTOMER_GROUP_TO_MC, DEFAULT_GROUPS
from syncs.models import RecordState, RecordStatus, StatusMapping, SyncRun, ValueMap
from syncs.services import flow_run_now
from tests.fixtures import loopback

pytestmark = pytest.mark.django_db(transaction=True)

FLOW = "mailchimp_purchases"


def groups_mapped(brand) -> None:
    for source, tag, audience in DEFAULT_GROUPS:
        ValueMap.objects.update_or_create(
            brand=brand,
            kind=BP_CUSTOMER_GROUP_TO_MC.code,
            source_value=source,
            defaults={"target_value": tag, "extra": {"audience": audience}},
        )


def items(sandbox, vendor: str, collection: str, **params) -> list[dict]:
    return sandbox.state(vendor, collection, limit=100_000, **params)["items"]


def mc_orders(sandbox) -> dict[str, dict]:
    return {o["id"]: o for o in items(sandbox, "mailchimp", "ecommerce_orders")}


def bp_order(sandbox, order_id) -> dict:
    return items(sandbox, "brightpearl", "orders", id=order_id)[0]


def contact_groups(sandbox) -> dict[str, str]:
    return {
        str(c["contactId"]): (c.get("customerGroup") or {}).get("name", "")
        for c in items(sandbox, "brightpearl", "contacts")
    }


def customer(brand, contact_id: str) -> dict:
    """The buyer as Mailchimp's e-commerce API answers (orders_count, total_spent)."""
    with connector_for(Connection.objects.get(brand=brand, system="mailchimp")) as mc:
        found = mc.customer_get(contact_id)
    assert found is not None
    return found


def retail_order(sandbox, brand, *, status_cancels: bool = False, credited: bool = False):
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    groups = contact_groups(sandbox)
    cancels = {m.bp_status_id for m in StatusMapping.objects.filter(brand=brand) if m.cancels}
    mapped = {m.bp_status_id for m in StatusMapping.objects.filter(brand=brand)}
    credited_ids = {str(i) for i in facts["credited_order_ids"]}
    for order in items(sandbox, "brightpearl", "orders", type=1):
        status = order["orderStatus"]["orderStatusId"]
        contact = str(order["parties"]["customer"]["contactId"])
        if groups.get(contact) != "Retail" or status not in mapped:
            continue
        if (status in cancels) != status_cancels or (str(order["id"]) in credited_ids) != credited:
            continue
        return order
    raise AssertionError("the seed has no such order")


def test_a_webhook_order_reaches_mailchimp_with_its_buyer_and_value(sandbox, live_brand):
    groups_mapped(live_brand)
    order = retail_order(sandbox, live_brand)
    run = flow_run_now(brand=live_brand, flow=FLOW, trigger="webhook", scope=[str(order["id"])])
    assert run.state == "succeeded", run.log
    assert run.written == 1
    sent = mc_orders(sandbox)[str(order["id"])]
    contact_id = str(order["parties"]["customer"]["contactId"])
    assert sent["customer"]["id"] == contact_id
    assert sent["order_total"] == float(order["totalValue"]["total"])
    assert sent["processed_at_foreign"] == order["placedOn"]
    assert not sent.get("cancelled_at_foreign")
    buyer = customer(live_brand, contact_id)
    assert buyer["orders_count"] >= 1
    assert buyer["total_spent"] >= float(order["totalValue"]["total"])
    assert buyer["opt_in_status"] is False
    # A scoped run is an event: it takes from the budget ahead of bulk work.
    assert SyncRun.objects.get(pk=run.pk).scope == [str(order["id"])]


def test_replaying_the_order_changes_nothing_and_a_lost_answer_makes_no_second(sandbox, live_brand):
    groups_mapped(live_brand)
    order = retail_order(sandbox, live_brand)
    scope = [str(order["id"])]
    sandbox.set_faults("mailchimp", lost_write_rate=1.0, seed=3)
    flow_run_now(brand=live_brand, flow=FLOW, trigger="webhook", scope=scope)
    sandbox.clear_faults()
    flow_run_now(brand=live_brand, flow=FLOW, trigger="webhook", scope=scope)
    again = flow_run_now(brand=live_brand, flow=FLOW, trigger="webhook", scope=scope)
    assert again.written == 0 and again.unchanged == 1, again.log
    orders = items(sandbox, "mailchimp", "ecommerce_orders")
    assert [o["id"] for o in orders] == scope


def test_a_cancelled_order_is_cancelled_and_leaves_the_lifetime_value(sandbox, live_brand):
    groups_mapped(live_brand)
    order = retail_order(sandbox, live_brand)
    order_id = str(order["id"])
    contact_id = str(order["parties"]["customer"]["contactId"])
    flow_run_now(brand=live_brand, flow=FLOW, trigger="webhook", scope=[order_id])
    before = customer(live_brand, contact_id)
    cancelled = next(m for m in StatusMapping.objects.filter(brand=live_brand) if m.cancels)
    loopback.post(
        f"{sandbox.url}/_sandbox/brightpearl/orders/{order_id}/status",
        json={"statusId": cancelled.bp_status_id},
    ).raise_for_status()
    run = flow_run_now(brand=live_brand, flow=FLOW, trigger="webhook", scope=[order_id])
    assert run.written == 1, run.log
    sent = mc_orders(sandbox)[order_id]
    assert sent["cancelled_at_foreign"] == bp_order(sandbox, order_id)["updatedOn"]
    after = customer(live_brand, contact_id)
    assert after["orders_count"] == before["orders_count"] - 1
    assert Decimal(str(after["total_spent"])) == Decimal(str(before["total_spent"])) - Decimal(
        str(order["totalValue"]["total"])
    )


def test_a_refund_lowers_the_order_and_the_lifetime_value(sandbox, live_brand):
    groups_mapped(live_brand)
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    completed = set(facts["completed_credit_ids"])
    credited = {
        str(o)
        for o, c in zip(facts["credited_order_ids"], facts["sales_credit_ids"], strict=True)
        if c in completed
    }
    groups = contact_groups(sandbox)
    order = next(
        o
        for o in items(sandbox, "brightpearl", "orders", type=1)
        if str(o["id"]) in credited
        and groups.get(str(o["parties"]["customer"]["contactId"])) == "Retail"
    )
    run = flow_run_now(brand=live_brand, flow=FLOW, trigger="webhook", scope=[str(order["id"])])
    assert run.written == 1, run.log
    sent = mc_orders(sandbox)[str(order["id"])]
    total = float(order["totalValue"]["total"])
    assert sent["order_total"] < total
    assert sent["financial_status"] in ("partially_refunded", "refunded")
    state = RecordState.objects.get(brand=live_brand, flow=FLOW, source_id=str(order["id"]))
    assert state.last_pushed["refunded"] == pytest.approx(total - sent["order_total"])


def test_a_wholesale_buyer_never_reaches_the_retail_audience(sandbox, live_brand):
    groups_mapped(live_brand)
    groups = contact_groups(sandbox)
    mapped = {m.bp_status_id for m in StatusMapping.objects.filter(brand=live_brand)}
    wholesale = [
        str(o["id"])
        for o in items(sandbox, "brightpearl", "orders", type=1)
        if groups.get(str(o["parties"]["customer"]["contactId"])) == "Wholesale"
        and o["orderStatus"]["orderStatusId"] in mapped
    ][:5]
    assert wholesale, "the seed has wholesale orders"
    members_before = len(items(sandbox, "mailchimp", "members"))
    run = flow_run_now(brand=live_brand, flow=FLOW, trigger="webhook", scope=wholesale)
    assert run.written == 0 and run.unchanged == len(wholesale), run.log
    assert not mc_orders(sandbox)
    assert len(items(sandbox, "mailchimp", "members")) == members_before


def test_an_unmapped_customer_group_waits_with_a_ticket_then_goes(sandbox, live_brand):
    # Only the retail group is mapped: a retail order goes; nothing is guessed for the rest.
    order = retail_order(sandbox, live_brand)
    scope = [str(order["id"])]
    run = flow_run_now(brand=live_brand, flow=FLOW, trigger="webhook", scope=scope)
    assert run.waiting == 1 and not mc_orders(sandbox)
    ticket = Ticket.objects.get(
        brand=live_brand, type__code="unmapped_value", status__in=OPEN_STATUSES
    )
    assert "Retail" in ticket.title
    groups_mapped(live_brand)
    run = flow_run_now(brand=live_brand, flow=FLOW, trigger="webhook", scope=scope)
    assert run.written == 1, run.log
    assert RecordState.objects.get(brand=live_brand, flow=FLOW).status == RecordStatus.SYNCED


def test_a_purchase_never_changes_a_members_consent(sandbox, live_brand):
    """An unsubscribed member who buys again stays unsubscribed (opt_in_status false)."""
    groups_mapped(live_brand)
    unsubscribed = {
        m["email_address"].lower()
        for m in items(sandbox, "mailchimp", "members")
        if m["status"] in ("unsubscribed", "cleaned")
    }
    groups = contact_groups(sandbox)
    orders = [
        str(o["id"])
        for o in items(sandbox, "brightpearl", "orders", type=1)
        if str(o["parties"]["customer"].get("email", "")).lower() in unsubscribed
        and groups.get(str(o["parties"]["customer"]["contactId"])) == "Retail"
    ][:20]
    assert orders, "the seed has orders by unsubscribed members"
    flow_run_now(brand=live_brand, flow=FLOW, trigger="webhook", scope=orders)
    assert mc_orders(sandbox)
    changes = items(sandbox, "mailchimp", "status_changes")
    assert not [c for c in changes if (c.get("data") or c).get("from") is not None]
    still = {
        m["email_address"].lower()
        for m in items(sandbox, "mailchimp", "members")
        if m["status"] in ("unsubscribed", "cleaned")
    }
    assert unsubscribed <= still


def test_a_brightpearl_order_webhook_runs_the_purchase_on_the_events_path(
    client, sandbox, live_brand
):
    """The webhook Brightpearl sends for a status change becomes a scoped run of this flow
    (as of the Ometria order flow), which goes on the events queue, not the bulk one."""
    from unittest import mock

    from django.urls import reverse

    from syncs.services import run_queue
    from syncs.webhooks import webhooks_drain

    groups_mapped(live_brand)
    order = retail_order(sandbox, live_brand)
    bp = Connection.objects.get(brand=live_brand, system="brightpearl")
    body = {
        "accountCode": bp.settings["account"],
        "resourceType": "order",
        "id": str(order["id"]),
        "lifecycleEvent": "modified",
        "fullEvent": "order.modified.order-status",
        "raisedOn": "2026-12-04T10:00:00.000Z",
    }
    with mock.patch("syncs.webhooks.async_task"):
        answer = client.post(
            reverse("webhook", args=["brightpearl", bp.webhook_secret]),
            data=body,
            content_type="application/json",
        )
    assert answer.status_code == 200, answer.content
    runs = webhooks_drain(connection_id=bp.pk)
    [run] = [r for r in runs if r.flow == FLOW]
    assert run.trigger == "webhook" and run.scope == [str(order["id"])]
    assert run_queue(run) is None  # the default queue: events, ahead of bulk
    assert run.written == 1, run.log
    assert str(order["id"]) in mc_orders(sandbox)


def test_a_backfill_goes_by_batch_operations_and_an_event_still_goes_alone(sandbox, live_brand):
    """A full run writes its orders by /batches (a few requests a batch of 200, never two an
    order); an order sent before is PATCHed, not made twice; an event writes directly."""
    groups_mapped(live_brand)
    event_order = retail_order(sandbox, live_brand)
    flow_run_now(brand=live_brand, flow=FLOW, trigger="webhook", scope=[str(event_order["id"])])
    sandbox.reset_writes()
    run = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert run.state in ("succeeded", "partial"), run.log
    assert run.written > 40
    writes = sandbox.writes(vendor="mailchimp", limit=100_000)["items"]
    one_by_one = [
        w for w in writes if w["method"] == "POST" and w["path"].rstrip("/").endswith("/orders")
    ]
    batches = [w for w in writes if w["path"].rstrip("/").endswith("/batches")]
    assert not one_by_one, one_by_one[:3]
    assert 0 < len(batches) <= 3 * -(-run.written // 200) + 2
    ids = [o["id"] for o in items(sandbox, "mailchimp", "ecommerce_orders")]
    # Every order is there once: the run's, and the event's (unchanged, so not sent again).
    assert len(ids) == len(set(ids)) == run.written + 1
    assert str(event_order["id"]) in ids and run.unchanged >= 1
    # Forget what was sent: every order goes again, is refused as existing, and is PATCHed.
    RecordState.objects.filter(brand=live_brand, flow=FLOW).delete()
    again = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert again.written == run.written + 1, again.log
    assert sorted(o["id"] for o in items(sandbox, "mailchimp", "ecommerce_orders")) == sorted(ids)
    assert sandbox.duplicates("mailchimp")["count"] == 0
    # Events still write directly, whatever bulk is doing.
    sandbox.reset_writes()
    other = retail_order(sandbox, live_brand)
    cancels = next(m for m in StatusMapping.objects.filter(brand=live_brand) if m.cancels)
    loopback.post(
        f"{sandbox.url}/_sandbox/brightpearl/orders/{other['id']}/status",
        json={"statusId": cancels.bp_status_id},
    ).raise_for_status()
    event = flow_run_now(brand=live_brand, flow=FLOW, trigger="webhook", scope=[str(other["id"])])
    assert event.written == 1, event.log
    writes = sandbox.writes(vendor="mailchimp", limit=100)["items"]
    assert writes and not [w for w in writes if w["path"].rstrip("/").endswith("/batches")]


@pytest.mark.slow
def test_a_backfill_reads_the_next_orders_while_mailchimp_runs_the_last_batch(
    sandbox, live_brand, monkeypatch
):
    """Overlapped batches: while Mailchimp runs one batch's operations (seconds of polling in
    production), the next orders are already read and transformed, and still every order
    lands once, in order of its batch's acknowledgement."""
    from syncs.flows.mailchimp.purchases import BATCHED_FROM, PurchasesFlow

    groups_mapped(live_brand)
    monkeypatch.setattr(PurchasesFlow, "batch_size", 3 * BATCHED_FROM)
    spans: list[tuple[float, float, set[str]]] = []
    transformed: dict[str, float] = {}
    write, transform = PurchasesFlow.write, PurchasesFlow.transform

    def timed_write(self, ctx, pushes):
        started = time.monotonic()
        try:
            return write(self, ctx, pushes)
        finally:
            spans.append((started, time.monotonic(), {p.source_id for p in pushes}))

    def timed_transform(self, ctx, order):
        transformed.setdefault(str(order["id"]), time.monotonic())
        return transform(self, ctx, order)

    monkeypatch.setattr(PurchasesFlow, "write", timed_write)
    monkeypatch.setattr(PurchasesFlow, "transform", timed_transform)
    sandbox.set_faults("mailchimp", latency_ms=40)  # a write takes a while, as it does live
    run = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    sandbox.clear_faults()
    assert run.state in ("succeeded", "partial"), run.log
    assert len(spans) >= 3, "the backfill should take several batches"
    # Some order of a later batch was transformed while an earlier batch was being written.
    overlapped = [
        (start, end)
        for start, end, sent in spans
        if any(start < at < end for oid, at in transformed.items() if oid not in sent)
    ]
    assert overlapped, "no batch was read while the one before it was written"
    ids = [o["id"] for o in items(sandbox, "mailchimp", "ecommerce_orders")]
    assert len(ids) == len(set(ids)) == run.written
    assert sandbox.duplicates("mailchimp")["count"] == 0

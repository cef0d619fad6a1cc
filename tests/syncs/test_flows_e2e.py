"""The Brightpearl → Ometria flows, end to end on the sandbox's demo seed, over real HTTP."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django_q.conf import Conf

from exceptions.models import Ticket
from syncs.models import RecordState, RecordStatus, StatusMapping, SyncRun
from syncs.services import flow_run_now
from syncs.webhooks import webhooks_register
from tests.fixtures import loopback
from tests.fixtures.flows import FLOWS, run_all

pytestmark = pytest.mark.django_db(transaction=True)


def all_items(sandbox, vendor: str, collection: str, **params) -> list[dict]:
    return sandbox.state(vendor, collection, limit=100_000, **params)["items"]


def ometria_orders(sandbox) -> dict[str, dict]:
    return {o["id"]: o for o in all_items(sandbox, "ometria", "orders")}


def pushes(sandbox) -> int:
    return sandbox.stats()["ometria"]["by_method"].get("POST", 0)


def test_first_full_run_sends_every_mapped_order_in_its_mapped_state(sandbox, synced_brand):
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    mappings = {m.bp_status_id: m for m in StatusMapping.objects.filter(brand=synced_brand)}
    sent = ometria_orders(sandbox)
    orders = all_items(sandbox, "brightpearl", "orders", type=1)
    assert len(orders) == 300
    unknown = facts["unknown_status_id"]
    for order in orders:
        status_id = order["orderStatus"]["orderStatusId"]
        pushed = sent.get(str(order["id"]))
        if status_id == unknown:
            assert pushed is None, f"order {order['id']} in an unmapped status was pushed"
            continue
        mapping = mappings[status_id]
        assert pushed is not None, f"order {order['id']} is missing from Ometria"
        if mapping.cancels:
            assert pushed["status"] == "cancelled" and pushed["is_valid"] is False
        else:
            assert pushed["status"] == mapping.ometria_status and pushed["is_valid"] is True
            assert pushed["properties"]["lifecycle_stage"] == mapping.lifecycle_stage
        assert pushed["grand_total"] == float(order["totalValue"]["total"])
        assert pushed["customer"]["id"] == str(order["parties"]["customer"]["contactId"])


def test_cancelled_and_fraud_orders_are_cancelled_and_not_valid(sandbox, synced_brand):
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    sent = ometria_orders(sandbox)
    for status_id in (facts["cancelled_status_id"], facts["fraud_status_id"]):
        ids = [o["id"] for o in all_items(sandbox, "brightpearl", "orders", status=status_id)]
        assert ids, f"the seed has orders in status {status_id}"
        for order_id in ids:
            assert sent[str(order_id)]["status"] == "cancelled"
            assert sent[str(order_id)]["is_valid"] is False


def test_the_unknown_status_waits_with_exactly_one_ticket(sandbox, synced_brand):
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    unknown = facts["unknown_status_id"]
    waiting = sorted(
        str(o["id"]) for o in all_items(sandbox, "brightpearl", "orders", status=unknown)
    )
    tickets = Ticket.objects.filter(brand=synced_brand, type__code="unmapped_status")
    assert tickets.count() == 1
    ticket = tickets.get()
    assert ticket.source_id == f"status:{unknown}"
    assert "Awaiting gift wrap" in ticket.title
    assert ticket.team == "marketing"
    assert sorted(ticket.snapshot["waiting_ids"]) == waiting
    assert ticket.snapshot["waiting_count"] == len(waiting)
    states = RecordState.objects.filter(
        brand=synced_brand, flow="order_lifecycle", status=RecordStatus.WAITING
    )
    assert sorted(states.values_list("source_id", flat=True)) == waiting


def held_since(brand) -> dict[str, object]:
    return dict(
        RecordState.objects.filter(brand=brand, flow="order_lifecycle")
        .exclude(held_since=None)
        .values_list("source_id", "held_since")
    )


def test_a_second_run_pushes_nothing(sandbox, synced_brand):
    before = pushes(sandbox)
    first_held = held_since(synced_brand)
    assert len(first_held) == 8
    runs = run_all(synced_brand, full=True)
    assert pushes(sandbox) == before
    assert all(run.written == 0 for run in runs.values()), {c: r.written for c, r in runs.items()}
    # The orders waiting on the unmapped status are still waiting; the ticket counts the runs.
    assert runs["order_lifecycle"].waiting == 8
    assert Ticket.objects.filter(type__code="unmapped_status").count() == 1
    # They have waited since the first run held them back, not since this one.
    assert held_since(synced_brand) == first_held


def test_adding_the_mapping_resolves_the_ticket_and_the_orders_sync_next_run(sandbox, synced_brand):
    unknown = sandbox.seed_facts()["demo"]["brightpearl"]["unknown_status_id"]
    StatusMapping.objects.create(
        brand=synced_brand,
        bp_status_id=unknown,
        bp_status_name="Awaiting gift wrap",
        ometria_status="pending",
        lifecycle_stage="processing",
    )
    # An incremental run: the waiting orders have not changed in Brightpearl, yet they go.
    run = flow_run_now(brand=synced_brand, flow="order_lifecycle")
    assert run.written == 8 and run.waiting == 0
    assert held_since(synced_brand) == {}
    sent = ometria_orders(sandbox)
    for order in all_items(sandbox, "brightpearl", "orders", status=unknown):
        assert sent[str(order["id"])]["properties"]["lifecycle_stage"] == "processing"
    ticket = Ticket.objects.get(type__code="unmapped_status")
    assert ticket.status == "resolved"
    assert ticket.events.filter(kind="auto_resolved").exists()


def test_customers_keyed_by_contact_id_with_mapped_attributes_only(sandbox, synced_brand):
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    contacts = {c["id"]: c for c in all_items(sandbox, "ometria", "contacts")}
    brightpearl = {str(c["contactId"]) for c in all_items(sandbox, "brightpearl", "contacts")}
    # Every contact but the one whose email Ometria refuses (after accepting the push).
    assert set(contacts) == brightpearl - {str(facts["bad_email_contact_id"])}
    vip = contacts[str(facts["vip_contact_id"])]
    assert vip["properties"]["vip"] == "true"
    wholesale = contacts[str(facts["wholesale_contact_id"])]
    assert wholesale["properties"]["customer_type"] == "wholesale"
    assert {"vip", "customer_type", "loyalty_tier"} >= set(vip["properties"])
    # The two contacts that share an email stay two profiles, and a ticket says so.
    a, b = facts["duplicate_email_contact_ids"]
    assert contacts[str(a)]["email"] == contacts[str(b)]["email"] == facts["duplicate_email"]
    ticket = Ticket.objects.get(type__code="duplicate_contact")
    assert ticket.source_id == facts["duplicate_email"]
    assert ticket.snapshot["contact_ids"] == [str(a), str(b)]


def test_a_mapped_custom_field_sends_each_contacts_own_value(sandbox, synced_brand):
    from syncs.models import AttributeMapping, AttributeSource

    AttributeMapping.objects.create(
        brand=synced_brand,
        source=AttributeSource.CUSTOM_FIELD,
        source_name="PCF_BIRTHMON",
        ometria_attribute="birthday_month",
    )
    run = flow_run_now(brand=synced_brand, flow="customers", full=True)
    assert run.written > 0
    sent = {c["id"]: c["properties"] for c in all_items(sandbox, "ometria", "contacts")}
    months = {
        contact_id: sandbox.state("brightpearl", "contact_custom_fields", id=contact_id)["items"][
            0
        ]["PCF_BIRTHMON"]
        for contact_id in list(sent)[:5]
    }
    # Read from Brightpearl with the contact, never cleared for want of asking for it.
    assert all(months.values())
    assert {cid: sent[cid]["birthday_month"] for cid in months} == months


def test_each_shipped_note_is_one_shipment_event(sandbox, synced_brand):
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    events = {e["id"]: e for e in all_items(sandbox, "ometria", "custom_events")}
    notes = all_items(sandbox, "brightpearl", "goods_out_notes")
    shipped = [n for n in notes if n["status"]["shipped"]]
    assert 0 < len(shipped) < len(notes)
    assert len(events) == len(shipped)
    assert all(e["event_type"] == "order_shipped" for e in events.values())
    partial = facts["partial_shipment"]
    for note_id in partial["shipped_note_ids"]:
        event = events[f"gon-{note_id}"]
        assert event["event_type"] == "order_shipped"
        assert event["properties"]["partial"] is True
    for note_id in partial["unshipped_note_ids"]:
        assert f"gon-{note_id}" not in events


def test_async_rejection_becomes_a_ticket_on_the_brightpearl_contact(sandbox, synced_brand):
    from syncs.flows.ometria.rejections import ometria_rejections_collect

    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    # Ometria validates a moment after answering "OK": poll its error list briefly.
    raised = 0
    for _ in range(50):
        raised += ometria_rejections_collect(brand=synced_brand)
        if raised:
            break
        time.sleep(0.1)
    ticket = Ticket.objects.get(type__code="async_rejection")
    assert ticket.source_id == str(facts["bad_email_contact_id"])
    assert ticket.flow == "customers"
    state = RecordState.objects.get(
        brand=synced_brand, flow="customers", source_id=ticket.source_id
    )
    assert state.status == RecordStatus.FAILED
    # Held back from the rejection on: the overview's lag counts it.
    assert state.held_since is not None
    # Reading the same errors again raises nothing new, and a run does not resend the bad record.
    assert ometria_rejections_collect(brand=synced_brand) == 0
    assert flow_run_now(brand=synced_brand, flow="customers", full=True).written == 0
    state.refresh_from_db()
    assert state.held_since is not None
    assert ticket.error_message == "email: not a valid value"


def wait_for_rejections(brand) -> int:
    from syncs.flows.ometria.rejections import ometria_rejections_collect

    # Ometria validates a moment after answering "OK": poll its error list briefly.
    for _ in range(50):
        if raised := ometria_rejections_collect(brand=brand):
            return raised
        time.sleep(0.1)
    return 0


def test_a_rejected_record_sent_again_stays_open_until_ometria_takes_it(
    sandbox, synced_brand, monkeypatch
):
    from syncs.flows.ometria import rejections
    from syncs.flows.ometria.rejections import ometria_rejections_collect

    contact_id = str(sandbox.seed_facts()["demo"]["brightpearl"]["bad_email_contact_id"])
    assert wait_for_rejections(synced_brand) == 1
    ticket = Ticket.objects.get(type__code="async_rejection", source_id=contact_id)
    # Sent again unchanged (a retry): Ometria answers OK, which proves nothing yet.
    flow_run_now(brand=synced_brand, flow="customers", trigger="retry", scope=[contact_id])
    ticket.refresh_from_db()
    assert ticket.status == "open"
    # ...and rejects it again: the same ticket counts it, still open.
    assert wait_for_rejections(synced_brand) == 1
    ticket.refresh_from_db()
    assert (ticket.status, ticket.occurrences) == ("open", 2)
    # The email is corrected in Brightpearl and the contact goes again; Ometria is quiet.
    loopback.post(
        f"{sandbox.url}/_sandbox/brightpearl/contacts/{contact_id}",
        json={"email": "fixed@example.com"},
    ).raise_for_status()
    assert flow_run_now(brand=synced_brand, flow="customers", scope=[contact_id]).written == 1
    assert wait_for_rejections(synced_brand) == 0
    ticket.refresh_from_db()
    assert ticket.status == "open"  # Ometria may still object, for a while
    monkeypatch.setattr(rejections, "OMETRIA_CHECK_GRACE", timedelta(0))  # ...which has passed
    ometria_rejections_collect(brand=synced_brand)
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    assert "Ometria has not rejected it since" in ticket.events.last().note


def test_registering_webhooks_removes_this_consoles_out_of_date_ones_only(
    sandbox, synced_brand, brand_b, settings
):
    from connectors.models import Connection
    from connectors.registry import connector_for
    from syncs.flows import REGISTRY
    from syncs.models import FlowConfig

    settings.CONSOLE_PUBLIC_URL = "https://console.example.com"
    connection = Connection.objects.get(brand=synced_brand, system="brightpearl")
    ours = f"https://console.example.com/hooks/brightpearl/{connection.webhook_secret}/"
    with connector_for(connection) as bp:
        # A console rebuilt with a new secret left these behind; another app has its own.
        bp.register_webhook("order", "https://console.example.com/hooks/brightpearl/old/", "{}")
        bp.register_webhook("order", "https://crm.example.com/brightpearl", "{}")
        # Another brand of this console on the same Brightpearl account keeps its own.
        theirs = Connection.objects.create(
            brand=brand_b, system="brightpearl", base_url=connection.base_url
        )
        their_url = f"https://console.example.com/hooks/brightpearl/{theirs.webhook_secret}/"
        bp.register_webhook("order", their_url, "{}")
        # The contact flow is switched off: its event is no longer wanted here.
        bp.register_webhook("contact", ours, "{}")
    FlowConfig.objects.filter(brand=synced_brand, flow="customers").update(enabled=False)
    # Mailchimp checks an address with a GET before it takes a hook, and console.example.com
    # cannot answer it: the Mailchimp consent flow's hook is tested in its own module.
    FlowConfig.objects.filter(brand=synced_brand, flow="mailchimp_consent").update(enabled=False)

    events = webhooks_register(brand=synced_brand)
    webhooks_register(brand=synced_brand)  # twice: nothing doubles

    with connector_for(connection) as bp:
        hooks = sorted((h["uriTemplate"], h["subscribeTo"]) for h in bp.webhooks())
    assert "contact" not in events
    brightpearl_events = {
        e
        for code, cls in REGISTRY.items()
        if cls.source == "brightpearl" and code != "customers"
        for e in cls.webhook_events
    }
    assert brightpearl_events <= set(events)
    assert hooks == sorted(
        [("https://crm.example.com/brightpearl", "order"), (their_url, "order")]
        + [(ours, e) for e in sorted(brightpearl_events)]
    )


@pytest.fixture
def webhooks_live(live_server, settings, synced_brand, monkeypatch):
    """Webhooks registered at the sandbox, pointing at this test's live console; tasks run inline."""
    settings.CONSOLE_PUBLIC_URL = live_server.url
    monkeypatch.setattr(Conf, "SYNC", True)
    webhooks_register(brand=synced_brand)
    return synced_brand


def test_a_status_change_reaches_ometria_through_the_webhook(sandbox, webhooks_live):
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    order_id = facts["first_order_by_status"]["2"]  # a new web order
    loopback.post(
        f"{sandbox.url}/_sandbox/brightpearl/orders/{order_id}/status",
        json={"statusId": facts["cancelled_status_id"]},
    ).raise_for_status()
    assert sandbox.wait_for_deliveries(10)
    pushed = ometria_orders(sandbox)[str(order_id)]
    assert pushed["status"] == "cancelled" and pushed["is_valid"] is False
    run = SyncRun.objects.filter(trigger="webhook", flow="order_lifecycle").get()
    assert run.scope == [str(order_id)] and run.written == 1


def test_a_note_delivered_twice_makes_one_shipment_event(sandbox, webhooks_live):
    note_id = sandbox.seed_facts()["demo"]["brightpearl"]["unshipped_note_id"]
    loopback.post(
        f"{sandbox.url}/_sandbox/brightpearl/goods-out-notes/{note_id}/ship", json={"deliveries": 2}
    ).raise_for_status()
    assert sandbox.wait_for_deliveries(10)
    deliveries = [d for d in sandbox.deliveries() if str(note_id) in str(d)]
    assert len(deliveries) >= 2, "the sandbox delivered the event twice"
    log = all_items(sandbox, "ometria", "push_log", type="custom_event", id=f"gon-{note_id}")
    assert len(log) == 1
    assert SyncRun.objects.filter(trigger="webhook", flow="shipments").count() == 1
    assert f"gon-{note_id}" in {e["id"] for e in all_items(sandbox, "ometria", "custom_events")}


def test_no_shipment_event_for_an_order_cancelled_or_held_for_fraud(sandbox, synced_brand):
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    note_id = facts["unshipped_note_id"]
    order_id = sandbox.state("brightpearl", "goods_out_notes", id=note_id)["items"][0]["orderId"]
    for status in (facts["cancelled_status_id"], facts["fraud_status_id"]):
        loopback.post(
            f"{sandbox.url}/_sandbox/brightpearl/orders/{order_id}/status",
            json={"statusId": status},
        ).raise_for_status()
        if status == facts["cancelled_status_id"]:
            loopback.post(
                f"{sandbox.url}/_sandbox/brightpearl/goods-out-notes/{note_id}/ship", json={}
            ).raise_for_status()
        # The note is read before the order flow has heard of the change: still nothing.
        run = flow_run_now(brand=synced_brand, flow="shipments", scope=[str(note_id)])
        assert run.written == 0
        events = {e["id"] for e in all_items(sandbox, "ometria", "custom_events")}
        assert f"gon-{note_id}" not in events


def test_a_credit_once_held_back_as_an_order_stops_waiting(sandbox, synced_brand):
    credit_id = str(sandbox.seed_facts()["demo"]["brightpearl"]["open_credit_ids"][0])
    # What an earlier version left: the credit waiting as an order in an unmapped status.
    RecordState.objects.create(
        brand=synced_brand, flow="order_lifecycle", source_id=credit_id, status="waiting"
    )
    flow_run_now(brand=synced_brand, flow="order_lifecycle", scope=[credit_id])
    assert not RecordState.objects.filter(flow="order_lifecycle", source_id=credit_id).exists()


def test_a_run_that_reached_its_systems_marks_their_connections_working(synced_brand):
    from connectors.models import Connection

    health = dict(
        Connection.objects.filter(
            brand=synced_brand, system__in=["brightpearl", "ometria"]
        ).values_list("system", "status")
    )
    assert health == {"brightpearl": "ok", "ometria": "ok"}


def test_flows_cover_every_brightpearl_to_ometria_flow():
    from syncs.flows import ometria

    assert set(FLOWS) == {flow.code for flow in ometria.FLOWS}


def refunded_orders(sandbox) -> dict[str, float]:
    return {
        order_id: round(sum(line.get("refunded", 0) for line in order["lineitems"]), 2)
        for order_id, order in ometria_orders(sandbox).items()
        if any("refunded" in line for line in order["lineitems"])
    }


def test_completed_credits_refund_their_order_lines_and_open_ones_do_not(sandbox, synced_brand):
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    credits = {c["id"]: c for c in all_items(sandbox, "brightpearl", "sales_credits")}
    expected: dict[str, float] = {}
    for credit_id in facts["completed_credit_ids"]:
        credit = credits[credit_id]
        parent = str(credit["parentId"])
        expected[parent] = round(expected.get(parent, 0) + float(credit["total"]["total"]), 2)
    assert refunded_orders(sandbox) == expected
    # The customer's lifetime value in Ometria (valid totals less refunds) drops to match.
    sent = ometria_orders(sandbox)
    credit = credits[facts["completed_credit_ids"][0]]
    order = sent[str(credit["parentId"])]
    lines = {line["product_id"]: line for line in order["lineitems"]}
    for row in credit["rows"]:
        assert lines[str(row["productId"])]["quantity_refunded"] >= int(float(row["quantity"]))
    # An open credit refunds nothing: its order shows no refund unless a completed one has.
    completed_parents = {credits[c]["parentId"] for c in facts["completed_credit_ids"]}
    open_only = [
        str(credits[c]["parentId"])
        for c in facts["open_credit_ids"]
        if credits[c]["parentId"] not in completed_parents
    ]
    assert open_only, "the seed has orders with only open credits"
    for parent in open_only:
        assert parent not in expected


def test_a_completed_credit_reaches_ometria_on_the_refunds_schedule(sandbox, webhooks_live):
    """Brightpearl lists no sales-credit event to subscribe to ("Subscribable resource
    events"): the order status webhook names the credit (a credit is an order), the order flow
    leaves it, and the refunds flow's next scheduled run sends it."""
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    credit_id = facts["open_credit_ids"][0]
    credit = sandbox.state("brightpearl", "sales_credits", id=credit_id)["items"][0]
    parent = str(credit["parentId"])
    before = refunded_orders(sandbox).get(parent, 0)
    loopback.post(
        f"{sandbox.url}/_sandbox/brightpearl/orders/{credit_id}/status",
        json={"statusId": facts["credit_complete_status_id"]},
    ).raise_for_status()
    assert sandbox.wait_for_deliveries(10)
    assert not SyncRun.objects.filter(trigger="webhook", flow="refunds").exists()
    time.sleep(1.1)  # the search window ends at a whole second: past the change
    run = flow_run_now(brand=webhooks_live, flow="refunds")
    assert run.written == 1, run.log
    after = refunded_orders(sandbox)[parent]
    assert after == round(before + float(credit["total"]["total"]), 2)
    # The order flow hears of it too (Brightpearl names a credit as an order) and leaves it:
    # no waiting "order", no ticket for a "Credit complete" order status.
    assert not RecordState.objects.filter(flow="order_lifecycle", source_id=str(credit_id)).exists()
    assert not Ticket.objects.filter(
        type__code="unmapped_status", source_id=f"status:{facts['credit_complete_status_id']}"
    ).exists()


def test_a_shipment_whose_order_status_has_no_mapping_waits_then_goes(sandbox, synced_brand):
    """Nobody can say yet whether an order in an unmapped status stands: its shipped note
    waits, read again every run, and the event goes once marketing maps the status."""
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    note_id = facts["unshipped_note_id"]
    order_id = sandbox.state("brightpearl", "goods_out_notes", id=note_id)["items"][0]["orderId"]
    loopback.post(
        f"{sandbox.url}/_sandbox/brightpearl/orders/{order_id}/status",
        json={"statusId": facts["unknown_status_id"]},
    ).raise_for_status()
    loopback.post(
        f"{sandbox.url}/_sandbox/brightpearl/goods-out-notes/{note_id}/ship", json={}
    ).raise_for_status()
    run = flow_run_now(brand=synced_brand, flow="shipments", scope=[str(note_id)])
    assert run.written == 0 and run.waiting == 1
    state = RecordState.objects.get(flow="shipments", source_id=str(note_id))
    assert state.status == RecordStatus.WAITING and "has no mapping" in state.detail
    assert f"gon-{note_id}" not in {e["id"] for e in all_items(sandbox, "ometria", "custom_events")}

    StatusMapping.objects.create(
        brand=synced_brand,
        bp_status_id=facts["unknown_status_id"],
        bp_status_name="Awaiting gift wrap",
        ometria_status="pending",
        lifecycle_stage="processing",
    )
    run = flow_run_now(brand=synced_brand, flow="shipments")  # a scheduled run reads it again
    assert run.written >= 1  # with any other note that waited on the same status
    assert f"gon-{note_id}" in {e["id"] for e in all_items(sandbox, "ometria", "custom_events")}

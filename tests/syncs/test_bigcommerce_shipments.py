"""Shipments → BigCommerce: each shipped goods-out note of a storefront order becomes one
BigCommerce shipment (items, tracking number, carrier by value map), exactly once, and the
storefront order moves to Shipped or Partially Shipped."""

from __future__ import annotations

from collections import Counter

import pytest

from connectors.models import Connection
from connectors.registry import connector_for
from exceptions.models import OPEN_STATUSES, Ticket
from syncs.flows.bigcommerce.shipments_out import FLOW, note_mark
from syncs.models import RecordState, RecordStatus
from syncs.services import flow_run_now
from tests.contract.scenarios import BC_TO_BP, items, value_maps

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_cache")]


def storefront_linked(brand, sandbox) -> dict[str, int]:
    """Post the storefront's orders (the seed's first ones Brightpearl holds already, and
    links): {BigCommerce order id: Brightpearl order id}."""
    value_maps(brand, "bc_order_status", BC_TO_BP)
    flow_run_now(brand=brand, flow="storefront_orders", full=True)
    return sandbox.seed_facts()["demo"]["bigcommerce"]["linked_orders"]


def notes_of(brand, bp_orders) -> dict[int, dict]:
    """The orders' goods-out notes, as Brightpearl's API answers them."""
    connection = Connection.objects.get(brand=brand, system="brightpearl")
    return dict(connector_for(connection).goods_out_notes(order_ids=list(bp_orders)))


def shipped_notes(brand, bp_orders) -> dict[int, dict]:
    return {k: n for k, n in notes_of(brand, bp_orders).items() if n["status"]["shipped"]}


def shipments(sandbox) -> list[dict]:
    return items(sandbox, "bigcommerce", "shipments")


def test_each_shipped_note_becomes_one_shipment_with_its_carrier(sandbox, live_brand):
    linked = storefront_linked(live_brand, sandbox)
    value_maps(live_brand, "bp_shipping_method", {"1": "royalmail"})
    notes = shipped_notes(live_brand, linked.values())
    assert notes, "the seed's storefront orders have shipped notes"

    run = flow_run_now(brand=live_brand, flow=FLOW, full=True)

    made = shipments(sandbox)
    assert run.created == len(notes) == len(made)
    by_mark = {s["comments"]: s for s in made}
    order_of = {str(bp): int(bc) for bc, bp in linked.items()}
    for note_id, note in notes.items():
        shipment = by_mark[note_mark(note_id)]
        assert shipment["order_id"] == order_of[str(note["orderId"])]
        assert shipment["tracking_number"] == note["shipping"]["reference"]
        assert shipment["shipping_provider"] == "royalmail"
        shipped = sum(line["quantity"] for lines in note["orderRows"].values() for line in lines)
        assert sum(i["quantity"] for i in shipment["items"]) == shipped
    # BigCommerce moved each order on: all its notes shipped → Shipped, some → Partially.
    orders = {o["id"]: o for o in items(sandbox, "bigcommerce", "orders")}
    for bc_id in {s["order_id"] for s in made}:
        order = orders[bc_id]
        assert order["status_id"] == (2 if order["items_shipped"] >= order["items_total"] else 3)

    # Run again: nothing new is sent.
    again = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert again.created == 0 and again.written == 0
    assert len(shipments(sandbox)) == len(made)


def test_a_lost_answer_never_doubles_a_shipment(sandbox, live_brand):
    linked = storefront_linked(live_brand, sandbox)
    value_maps(live_brand, "bp_shipping_method", {"1": "royalmail"})
    notes = shipped_notes(live_brand, linked.values())
    sandbox.set_faults("bigcommerce", lost_write_rate=0.5, seed=11)
    flow_run_now(brand=live_brand, flow=FLOW, full=True)
    lost = sandbox.stats()["bigcommerce"]["faults"].get("lost_write", 0)
    sandbox.clear_faults()
    for _ in range(3):
        flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert lost > 0
    marks = Counter(s["comments"] for s in shipments(sandbox))
    assert marks == Counter(note_mark(n) for n in notes)
    assert RecordState.objects.filter(
        brand=live_brand, flow=FLOW, status=RecordStatus.SYNCED
    ).count() == len(notes)


def test_an_unmapped_shipping_method_waits_for_operations_then_goes(sandbox, live_brand):
    linked = storefront_linked(live_brand, sandbox)
    notes = shipped_notes(live_brand, linked.values())

    flow_run_now(brand=live_brand, flow=FLOW, full=True)

    assert shipments(sandbox) == []
    ticket = Ticket.objects.get(
        brand=live_brand, type__code="unmapped_value", status__in=OPEN_STATUSES
    )
    assert ticket.team == "operations" and ticket.snapshot["kind"] == "bp_shipping_method"
    value_maps(live_brand, "bp_shipping_method", {"1": "royalmail"})
    flow_run_now(brand=live_brand, flow=FLOW)
    assert len(shipments(sandbox)) == len(notes)


def test_a_shipped_notes_webhook_sends_that_note_alone(sandbox, live_brand):
    linked = storefront_linked(live_brand, sandbox)
    value_maps(live_brand, "bp_shipping_method", {"1": "royalmail"})
    note_id = min(shipped_notes(live_brand, linked.values()))

    run = flow_run_now(brand=live_brand, flow=FLOW, scope=[str(note_id)], trigger="webhook")

    assert run.created == 1
    assert [s["comments"] for s in shipments(sandbox)] == [note_mark(note_id)]
    # The same webhook delivered again sends nothing.
    again = flow_run_now(brand=live_brand, flow=FLOW, scope=[str(note_id)], trigger="webhook")
    assert again.created == 0 and len(shipments(sandbox)) == 1


def test_the_daily_check_tickets_notes_without_a_shipment_then_resolves_them(sandbox, live_brand):
    from syncs.flows.bigcommerce.shipment_check import shipments_check

    linked = storefront_linked(live_brand, sandbox)
    notes = shipped_notes(live_brand, linked.values())
    # The seed's notes shipped long ago: look back far enough to see them.
    report = shipments_check(brand_id=live_brand.pk, days=3650)

    assert report["checked"] == len(notes)
    assert {m["note"] for m in report["missing"]} == {str(n) for n in notes}
    open_tickets = Ticket.objects.filter(
        brand=live_brand, type__code="shipment_not_notified", status__in=OPEN_STATUSES
    )
    assert open_tickets.count() == len(notes)
    assert {t.team for t in open_tickets} == {"operations"}

    # Mapped, the flow sends them: its sync resolves each note's ticket, and the check agrees.
    value_maps(live_brand, "bp_shipping_method", {"1": "royalmail"})
    flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert not open_tickets.all().exists()  # .all(): a fresh query, not the cached rows
    again = shipments_check(brand_id=live_brand.pk, days=3650)
    assert again["missing"] == [] and again["checked"] == len(notes)


def test_the_report_command_prints_the_check_as_one_json_line(sandbox, live_brand):
    import json
    from io import StringIO

    from django.core.management import call_command

    linked = storefront_linked(live_brand, sandbox)
    out = StringIO()
    call_command("shipments_report", live_brand.slug, "--days", "3650", stdout=out)
    report = json.loads(out.getvalue())
    assert report["checked"] == len(shipped_notes(live_brand, linked.values()))
    assert len(report["missing"]) == report["checked"]


def test_the_check_and_the_flow_raise_one_type():
    from syncs.flows.bigcommerce import shipment_check, shipments_out

    assert shipment_check.TICKET_TYPE == shipments_out.TICKET_TYPE


def test_bigcommerce_moving_the_order_on_after_a_shipment_is_no_conflict(sandbox, live_brand):
    """The status flow set the storefront order's status; the shipment made BigCommerce move
    it to Shipped. Met again by the storefront flow, that is not a person's change."""
    from brands.models import AuditEvent
    from tests.contract.scenarios import BP_TO_BC

    linked = storefront_linked(live_brand, sandbox)
    value_maps(live_brand, "bp_order_status_to_bc", BP_TO_BC)
    value_maps(live_brand, "bp_shipping_method", {"1": "royalmail"})
    bp_ids = [str(i) for i in linked.values()]
    flow_run_now(brand=live_brand, flow="bigcommerce_order_status", scope=bp_ids)
    flow_run_now(brand=live_brand, flow=FLOW, full=True)
    moved = [s["order_id"] for s in shipments(sandbox)]
    assert moved

    flow_run_now(
        brand=live_brand,
        flow="storefront_orders",
        scope=[str(o) for o in moved],
        trigger="webhook",
    )
    assert not AuditEvent.objects.filter(action="conflict.owner_wins").exists()

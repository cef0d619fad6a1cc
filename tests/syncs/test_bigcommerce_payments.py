"""Storefront payments → Brightpearl: each paid storefront order's payment is recorded once
as a customer payment, its method and nominal code from the value map; an unmapped method
holds the payment (with one finance ticket), never the order."""

from __future__ import annotations

import pytest

from exceptions.models import OPEN_STATUSES, Ticket
from syncs.flows.bigcommerce.payments_in import FLOW, transaction_ref
from syncs.models import RecordLink, RecordState, RecordStatus
from syncs.services import flow_run_now
from tests.contract.scenarios import BC_TO_BP, items, value_maps

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_cache")]

METHODS = {"Stripe": "STRIPE", "PayPal": "PAYPAL"}


def map_methods(brand, methods=METHODS) -> None:
    from syncs.models import ValueMap

    for source, target in methods.items():
        ValueMap.objects.update_or_create(
            brand=brand,
            kind="bc_payment_method",
            source_value=source,
            defaults={"target_value": target, "extra": {"nominal_code": "1220"}},
        )


def payments(sandbox) -> list[dict]:
    return items(sandbox, "brightpearl", "customer_payments")


def posted(brand) -> dict[str, str]:
    """{storefront order id: Brightpearl order id} for the orders in Brightpearl."""
    bc = dict(
        RecordLink.objects.filter(brand=brand, kind="order", system="bigcommerce").values_list(
            "entity", "external_id"
        )
    )
    bp = RecordLink.objects.filter(brand=brand, kind="order", system="brightpearl")
    return {bc[link.entity]: link.external_id for link in bp if link.entity in bc}


def test_each_paid_order_is_paid_once_and_an_unmapped_method_holds_only_the_payment(
    sandbox, live_brand
):
    facts = sandbox.seed_facts()["demo"]["bigcommerce"]
    value_maps(live_brand, "bc_order_status", BC_TO_BP)
    map_methods(live_brand)
    flow_run_now(brand=live_brand, flow="storefront_orders", full=True)
    orders = posted(live_brand)
    klarna = str(facts["unmapped_payment_order_id"])
    assert klarna in orders, "the order posts though its payment method has no mapping"

    run = flow_run_now(brand=live_brand, flow=FLOW, full=True)

    made = {p["transactionRef"]: p for p in payments(sandbox)}
    assert set(made) == {transaction_ref(o) for o in orders if o != klarna}
    assert run.created == len(made)
    storefront = {str(o["id"]): o for o in items(sandbox, "bigcommerce", "orders")}
    for order_id in orders:
        if order_id == klarna:
            continue
        payment = made[transaction_ref(order_id)]
        order = storefront[order_id]
        assert payment["orderId"] == int(orders[order_id])
        assert payment["paymentMethodCode"] == METHODS[order["payment_method"]]
        assert payment["paymentType"] == "RECEIPT"
        # The gateway's reference, from the order's transactions, for finance to match.
        assert payment["transactionCode"] == f"txn_{order_id}"
        assert payment["amountPaid"] == f"{float(order['total_inc_tax']):.2f}"
    ticket = Ticket.objects.get(
        brand=live_brand, type__code="unmapped_value", status__in=OPEN_STATUSES
    )
    assert ticket.team == "finance" and ticket.snapshot["value"] == "Klarna"
    state = RecordState.objects.get(brand=live_brand, flow=FLOW, source_id=klarna)
    assert state.status == RecordStatus.WAITING

    # Mapped: the held payment goes on the next run, and nothing else is sent again.
    map_methods(live_brand, {"Klarna": "KLARNA"})
    again = flow_run_now(brand=live_brand, flow=FLOW)
    assert again.created == 1
    assert transaction_ref(klarna) in {p["transactionRef"] for p in payments(sandbox)}
    assert not Ticket.objects.filter(
        brand=live_brand, type__code="unmapped_value", status__in=OPEN_STATUSES
    ).exists()
    assert flow_run_now(brand=live_brand, flow=FLOW, full=True).created == 0


def test_a_lost_answer_never_pays_an_order_twice(sandbox, live_brand):
    value_maps(live_brand, "bc_order_status", BC_TO_BP)
    map_methods(live_brand, {**METHODS, "Klarna": "KLARNA"})
    flow_run_now(brand=live_brand, flow="storefront_orders", full=True)
    sandbox.set_faults("brightpearl", lost_write_rate=0.5, seed=9)
    flow_run_now(brand=live_brand, flow=FLOW, full=True)
    lost = sandbox.stats()["brightpearl"]["faults"].get("lost_write", 0)
    sandbox.clear_faults()
    for _ in range(3):
        flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert lost > 0
    refs = [p["transactionRef"] for p in payments(sandbox)]
    assert len(refs) == len(set(refs)) == len(posted(live_brand))
    assert sandbox.duplicates("brightpearl", created_after_seed=True)["count"] == 0


def test_the_payments_of_orders_just_posted_follow_at_once(sandbox, live_brand):
    from syncs.models import RunState, SyncRun
    from syncs.services import flow_run

    value_maps(live_brand, "bc_order_status", BC_TO_BP)
    map_methods(live_brand, {**METHODS, "Klarna": "KLARNA"})
    run = flow_run_now(brand=live_brand, flow="storefront_orders", full=True)
    [queued] = SyncRun.objects.filter(brand=live_brand, flow=FLOW, state=RunState.QUEUED)
    created = {
        link.external_id
        for link in RecordLink.objects.filter(brand=live_brand, kind="order", system="bigcommerce")
        if link.external_id in set(queued.scope)
    }
    assert len(queued.scope) == run.created == len(created)
    done = flow_run(run_id=queued.pk)
    assert done.created == run.created
    assert {p["transactionRef"] for p in payments(sandbox)} == {
        transaction_ref(o) for o in queued.scope
    }


def test_a_payment_recorded_already_is_found_not_doubled(sandbox, live_brand):
    """Its link lost (a database restored from before the create): Brightpearl refuses the
    repeat, and the console finds the payment rather than reporting a refusal."""
    value_maps(live_brand, "bc_order_status", BC_TO_BP)
    map_methods(live_brand, {**METHODS, "Klarna": "KLARNA"})
    flow_run_now(brand=live_brand, flow="storefront_orders", full=True)
    first = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    RecordLink.objects.filter(brand=live_brand, kind="payment").delete()
    RecordState.objects.filter(brand=live_brand, flow=FLOW).delete()

    again = flow_run_now(brand=live_brand, flow=FLOW, full=True)

    assert again.failed == 0 and again.created == first.created
    refs = [p["transactionRef"] for p in payments(sandbox)]
    assert len(refs) == len(set(refs)) == first.created


def test_an_order_brightpearl_holds_paid_already_is_not_paid_again(sandbox, live_brand):
    """Posted and paid by another channel app before the console took over: Brightpearl's
    payment stands, and the console records none."""
    from connectors.models import Connection
    from connectors.registry import connector_for

    value_maps(live_brand, "bc_order_status", BC_TO_BP)
    map_methods(live_brand, {**METHODS, "Klarna": "KLARNA"})
    flow_run_now(brand=live_brand, flow="storefront_orders", full=True)
    linked = sandbox.seed_facts()["demo"]["bigcommerce"]["linked_orders"]
    bc_id, bp_id = next(iter(linked.items()))
    bp = connector_for(Connection.objects.get(brand=live_brand, system="brightpearl"))
    bp.create_customer_payment(
        {
            "transactionRef": "old-app-77",
            "paymentMethodCode": "STRIPE",
            "paymentType": "RECEIPT",
            "orderId": int(bp_id),
            "currencyIsoCode": "GBP",
            "amountPaid": "10.00",
            "paymentDate": "2025-01-02T10:00:00+00:00",
        }
    )

    flow_run_now(brand=live_brand, flow=FLOW, full=True)

    on_order = [p for p in payments(sandbox) if p["orderId"] == int(bp_id)]
    assert [p["transactionRef"] for p in on_order] == ["old-app-77"]
    assert transaction_ref(bc_id) not in {p["transactionRef"] for p in payments(sandbox)}
    assert len(payments(sandbox)) == len(posted(live_brand))

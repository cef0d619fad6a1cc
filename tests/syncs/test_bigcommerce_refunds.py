"""Storefront refunds → Brightpearl: a BigCommerce refund becomes one sales credit with the
refunded lines on its parent order, exactly once; on an order not invoiced it waits with one
finance ticket, which resolves itself when the credit is posted after invoicing."""

from __future__ import annotations

import pytest

from exceptions.models import OPEN_STATUSES, Ticket
from syncs.flows.bigcommerce.refunds_in import FLOW, external_ref, record_id
from syncs.models import RecordLink, RecordState, RecordStatus
from syncs.services import flow_run_now
from tests.contract.scenarios import BC_TO_BP, items, value_maps
from tests.fixtures import loopback

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_cache")]


def post_storefront(brand) -> None:
    value_maps(brand, "bc_order_status", BC_TO_BP)
    flow_run_now(brand=brand, flow="storefront_orders", full=True)


def refund(sandbox, order_id, **body) -> dict:
    answer = loopback.post(
        f"{sandbox.url}/_sandbox/bigcommerce/orders/{order_id}/refund", json=body
    )
    answer.raise_for_status()
    return answer.json()


def credits(sandbox) -> list[dict]:
    return [c for c in items(sandbox, "brightpearl", "sales_credits") if c.get("externalRef")]


def test_a_refund_on_an_invoiced_order_is_one_credit_with_its_lines(sandbox, live_brand):
    post_storefront(live_brand)
    facts = sandbox.seed_facts()["demo"]["bigcommerce"]
    order_id, bp_order = next(iter(facts["linked_orders"].items()))
    products = items(sandbox, "bigcommerce", "order_products", id=order_id)[0]
    sku = products[0]["sku"]
    made = refund(sandbox, order_id, items=[{"sku": sku, "quantity": 1}])

    # The refund's webhook names the order.
    run = flow_run_now(brand=live_brand, flow=FLOW, scope=[order_id], trigger="webhook")

    assert run.created == 1
    [credit] = credits(sandbox)
    assert credit["externalRef"] == external_ref(made["id"])
    assert int(credit["parentId"]) == int(bp_order)
    rows = list(credit["rows"].values()) if isinstance(credit["rows"], dict) else credit["rows"]
    assert [(r.get("sku") or r.get("productSku"), float(r["quantity"])) for r in rows] == [
        (sku, 1.0)
    ]
    # Delivered again, and swept: nothing more.
    flow_run_now(brand=live_brand, flow=FLOW, scope=[order_id], trigger="webhook")
    again = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert again.created == 0 and len(credits(sandbox)) == 1


def test_a_lost_answer_never_credits_twice(sandbox, live_brand):
    post_storefront(live_brand)
    linked = sandbox.seed_facts()["demo"]["bigcommerce"]["linked_orders"]
    for order_id in list(linked)[:6]:
        refund(sandbox, order_id)
    sandbox.set_faults("brightpearl", lost_write_rate=0.5, seed=5)
    flow_run_now(brand=live_brand, flow=FLOW, full=True)
    lost = sandbox.stats()["brightpearl"]["faults"].get("lost_write", 0)
    sandbox.clear_faults()
    for _ in range(3):
        flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert lost > 0
    refs = [c["externalRef"] for c in credits(sandbox)]
    assert len(refs) == len(set(refs)) == 6
    assert sandbox.duplicates("brightpearl", created_after_seed=True)["count"] == 0


def test_a_refund_on_an_order_not_invoiced_waits_for_finance_then_goes(sandbox, live_brand):
    post_storefront(live_brand)
    # An order the console posted itself: new in Brightpearl, so not invoiced.
    link = (
        RecordLink.objects.filter(
            brand=live_brand, kind="order", system="brightpearl", written_by="storefront_orders"
        )
        .order_by("pk")
        .first()
    )
    bc_link = RecordLink.objects.get(
        brand=live_brand, kind="order", system="bigcommerce", entity=link.entity
    )
    made = refund(sandbox, bc_link.external_id)
    source_id = record_id(bc_link.external_id, made["id"])

    flow_run_now(brand=live_brand, flow=FLOW, scope=[bc_link.external_id], trigger="webhook")

    assert credits(sandbox) == []
    ticket = Ticket.objects.get(brand=live_brand, type__code="refund_blocked")
    assert ticket.team == "finance" and ticket.source_id == source_id
    assert ticket.title.startswith("Refund blocked: order not invoiced")
    state = RecordState.objects.get(brand=live_brand, flow=FLOW, source_id=source_id)
    assert state.status == RecordStatus.WAITING

    # Still not invoiced: the next sweep tries again and counts no new ticket.
    flow_run_now(brand=live_brand, flow=FLOW)
    assert (
        credits(sandbox) == [] and Ticket.objects.filter(type__code="refund_blocked").count() == 1
    )

    loopback.post(
        f"{sandbox.url}/_sandbox/brightpearl/orders/{link.external_id}/invoice"
    ).raise_for_status()
    flow_run_now(brand=live_brand, flow=FLOW)

    [credit] = credits(sandbox)
    assert int(credit["parentId"]) == int(link.external_id)
    ticket.refresh_from_db()
    assert ticket.status not in OPEN_STATUSES


def test_a_refund_of_shipping_alone_is_a_free_text_row_and_a_line_not_on_the_order_none():
    from syncs.flows.bigcommerce.refunds_in import credit_rows

    products = [
        {
            "id": 501,
            "sku": "TEE-1",
            "name": "Tee",
            "price_inc_tax": "12.0000",
            "price_tax": "2.0000",
        }
    ]
    bp_order = {"orderRows": {"7": {"productId": 1001, "productSku": "TEE-1", "productName": "T"}}}
    shipping = {
        "id": 3,
        "total_amount": 4.95,
        "items": [{"item_type": "SHIPPING", "item_id": 1, "requested_amount": "4.95"}],
    }
    assert credit_rows(shipping, products, bp_order) == (
        [
            {
                "name": "Shipping refunded (BigCommerce refund 3)",
                "quantity": 1,
                "net": "4.95",
                "tax": "0.00",
            }
        ],
        "",
    )
    other = {"items": [{"item_type": "PRODUCT", "item_id": 999, "quantity": 1}]}
    assert credit_rows(other, products, bp_order)[1] == (
        "Refunded line 999 is not on the storefront order."
    )
    assert credit_rows({"items": []}, products, bp_order) == (
        [],
        "The refund lists nothing refunded.",
    )


def test_the_unmatched_refund_ticket_tells_finance_only_what_still_waits():
    """A shipping-only refund is credited now: the ticket type no longer says it waits."""
    from exceptions.models import ExceptionType

    kind = ExceptionType.objects.get(code="refund_unmatched")
    assert "shipping or a fee alone" not in kind.what_happened
    assert "goods only" in kind.what_happened
    assert "for a shipping refund" not in kind.how_to_fix


# BigCommerce's documented refund (orders.v3.yml, `GET /v3/orders/{order_id}/payment_actions/
# refunds`, RefundID_Get and RefundItem; the items as its "Multiple Items" example: one product
# by quantity, shipping by amount). Product lines carry no requested_amount (null), amounts do.
DOCUMENTED_MIXED_REFUND = {
    "id": 12,
    "order_id": 180,
    "user_id": 0,
    "created": "2022-06-16T16:44:15+00:00",
    "reason": "Customer requires a refund.",
    "total_amount": 46,
    "total_tax": 6,
    "uses_merchant_override_values": False,
    "payments": [
        {
            "id": 13,
            "provider_id": "storecredit",
            "amount": 46,
            "offline": True,
            "is_declined": False,
            "declined_message": "",
        }
    ],
    "items": [
        {"item_type": "PRODUCT", "item_id": 75, "quantity": 1, "requested_amount": None},
        {"item_type": "SHIPPING", "item_id": 79, "quantity": None, "requested_amount": "10.00"},
    ],
}


def test_a_documented_mixed_refund_is_one_set_of_rows_whose_total_is_the_refund():
    from decimal import Decimal

    from syncs.flows.bigcommerce.refunds_in import credit_rows

    products = [
        {"id": 75, "sku": "TEE-1", "name": "Tee", "price_inc_tax": "36.0000", "price_tax": "6.0000"}
    ]
    bp_order = {"orderRows": {"7": {"productId": 1001, "productSku": "TEE-1", "productName": "T"}}}
    rows, problem = credit_rows(DOCUMENTED_MIXED_REFUND, products, bp_order)
    assert problem == ""
    assert rows == [
        {"productId": 1001, "name": "T", "quantity": 1, "net": "30.00", "tax": "6.00"},
        {
            "name": "Shipping refunded (BigCommerce refund 12)",
            "quantity": 1,
            "net": "10.00",
            "tax": "0.00",
        },
    ]
    total = sum(Decimal(r["net"]) + Decimal(r["tax"]) for r in rows)
    assert total == Decimal(DOCUMENTED_MIXED_REFUND["total_amount"])
    # A merchant's override of the total: one adjustment row keeps the credit equal to it.
    override = {
        **DOCUMENTED_MIXED_REFUND,
        "total_amount": 45,
        "uses_merchant_override_values": True,
    }
    rows, _ = credit_rows(override, products, bp_order)
    assert rows[-1]["net"] == "-1.00" and "adjustment" in rows[-1]["name"]
    assert sum(Decimal(r["net"]) + Decimal(r["tax"]) for r in rows) == Decimal(45)


def test_a_mixed_refund_in_the_sandbox_is_one_credit_whose_total_is_the_refund(sandbox, live_brand):
    from decimal import Decimal

    post_storefront(live_brand)
    facts = sandbox.seed_facts()["demo"]["bigcommerce"]
    order_id, bp_order = next(iter(facts["linked_orders"].items()))
    sku = items(sandbox, "bigcommerce", "order_products", id=order_id)[0][0]["sku"]
    made = refund(
        sandbox,
        order_id,
        items=[
            {"sku": sku, "quantity": 1},
            {"item_type": "SHIPPING", "amount": 4.95},
            {"item_type": "ORDER", "amount": 2.5, "reason": "Goodwill"},
        ],
    )
    assert {i["item_type"] for i in made["items"]} == {"PRODUCT", "SHIPPING", "ORDER"}

    run = flow_run_now(brand=live_brand, flow=FLOW, scope=[order_id], trigger="webhook")

    assert run.created == 1
    [credit] = credits(sandbox)
    assert int(credit["parentId"]) == int(bp_order)
    rows = list(credit["rows"].values()) if isinstance(credit["rows"], dict) else credit["rows"]
    assert len(rows) == 3 and sum(1 for r in rows if r.get("productId")) == 1
    assert Decimal(credit["total"]["total"]) == Decimal(str(made["total_amount"])).quantize(
        Decimal("0.01")
    )

"""Customer group → price list: a storefront order from a customer whose group has no
mapping waits with one ecommerce ticket instead of posting at the wrong prices; mapped, it
posts with the mapped price list. Guests (group 0) post with Brightpearl's own price list."""

from __future__ import annotations

import pytest

from exceptions.models import OPEN_STATUSES, Ticket
from syncs.models import RecordState, RecordStatus
from syncs.services import flow_run_now
from tests.contract.scenarios import BC_TO_BP, items, value_maps
from tests.fixtures import loopback

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_cache")]


def wholesale_order(sandbox) -> str:
    customer = loopback.post(
        f"{sandbox.url}/_sandbox/bigcommerce/customers",
        json={"email": "buyer@trade.example.com", "customer_group_id": 2},
    ).json()
    sku = items(sandbox, "bigcommerce", "variants")[0]["sku"]
    order = loopback.post(
        f"{sandbox.url}/_sandbox/bigcommerce/orders",
        json={
            "customer_id": customer["id"],
            "email": customer["email"],
            "lines": [{"sku": sku, "quantity": 2}],
        },
    ).json()
    return str(order["id"])


def bp_order(sandbox, external_ref: str) -> dict | None:
    found = [
        o for o in items(sandbox, "brightpearl", "orders") if o.get("externalRef") == external_ref
    ]
    return found[0] if found else None


def test_an_unmapped_group_holds_the_order_until_ecommerce_maps_it(sandbox, live_brand):
    value_maps(live_brand, "bc_order_status", BC_TO_BP)
    order_id = wholesale_order(sandbox)

    flow_run_now(brand=live_brand, flow="storefront_orders", scope=[order_id], trigger="webhook")

    assert bp_order(sandbox, order_id) is None
    state = RecordState.objects.get(brand=live_brand, flow="storefront_orders", source_id=order_id)
    assert state.status == RecordStatus.WAITING
    ticket = Ticket.objects.get(
        brand=live_brand, type__code="unmapped_value", status__in=OPEN_STATUSES
    )
    assert ticket.team == "ecommerce"
    assert (ticket.snapshot["kind"], ticket.snapshot["value"]) == ("bc_customer_group", "2")

    value_maps(live_brand, "bc_customer_group", {"2": "3"})
    flow_run_now(brand=live_brand, flow="storefront_orders")  # the hourly sweep

    posted = bp_order(sandbox, order_id)
    assert posted is not None and int(posted["priceListId"]) == 3
    ticket.refresh_from_db()
    assert ticket.status not in OPEN_STATUSES


def test_guests_post_with_brightpearls_own_price_list(sandbox, live_brand):
    value_maps(live_brand, "bc_order_status", BC_TO_BP)
    run = flow_run_now(brand=live_brand, flow="storefront_orders", full=True)
    assert run.created > 0
    assert not Ticket.objects.filter(
        brand=live_brand, type__code="unmapped_value", snapshot__kind="bc_customer_group"
    ).exists()

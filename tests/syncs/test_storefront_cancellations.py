"""Cancellations → Brightpearl: a storefront order cancelled in BigCommerce moves its
Brightpearl order to the mapped status; unmapped, it waits with one ecommerce ticket. The
cancellation stands in BigCommerce (Brightpearl's status does not overwrite it), and the
console's own write coming back is not sent back."""

from __future__ import annotations

import pytest

from exceptions.models import OPEN_STATUSES, Ticket
from syncs.flows.bigcommerce.cancellations_in import FLOW
from syncs.models import RecordLink
from syncs.services import flow_run_now
from tests.contract.scenarios import BC_TO_BP, BP_TO_BC, items, value_maps
from tests.fixtures import loopback

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_cache")]


def posted_pair(brand) -> tuple[str, str]:
    """A storefront order the console posted: (BigCommerce id, Brightpearl id)."""
    link = (
        RecordLink.objects.filter(
            brand=brand, kind="order", system="brightpearl", written_by="storefront_orders"
        )
        .order_by("pk")
        .first()
    )
    bc = RecordLink.objects.get(brand=brand, kind="order", system="bigcommerce", entity=link.entity)
    return bc.external_id, link.external_id


def bp_status(sandbox, order_id: str) -> int:
    order = items(sandbox, "brightpearl", "orders", id=order_id)[0]
    return int(order["orderStatus"]["orderStatusId"])


def test_a_storefront_cancellation_cancels_the_brightpearl_order(sandbox, live_brand):
    value_maps(live_brand, "bc_order_status", BC_TO_BP)
    value_maps(live_brand, "bp_order_status_to_bc", BP_TO_BC)
    flow_run_now(brand=live_brand, flow="storefront_orders", full=True)
    bc_id, bp_id = posted_pair(live_brand)
    loopback.post(
        f"{sandbox.url}/_sandbox/bigcommerce/orders/{bc_id}/status", json={"status_id": 5}
    ).raise_for_status()

    flow_run_now(brand=live_brand, flow=FLOW, scope=[bc_id], trigger="webhook")

    assert bp_status(sandbox, bp_id) != 5
    ticket = Ticket.objects.get(
        brand=live_brand, type__code="unmapped_value", status__in=OPEN_STATUSES
    )
    assert ticket.team == "ecommerce" and ticket.snapshot["kind"] == "bc_cancellation"

    value_maps(live_brand, "bc_cancellation", {"5": "5"})
    run = flow_run_now(brand=live_brand, flow=FLOW)
    assert run.written == 1 and bp_status(sandbox, bp_id) == 5

    # The storefront flow meets the cancelled order again: it does not set it back.
    flow_run_now(brand=live_brand, flow="storefront_orders", scope=[bc_id], trigger="webhook")
    order = items(sandbox, "bigcommerce", "orders", id=bc_id)[0]
    assert order["status_id"] == 5
    # Brightpearl's change, the console's own, is not sent back to BigCommerce as new.
    back = flow_run_now(
        brand=live_brand, flow="bigcommerce_order_status", scope=[bp_id], trigger="webhook"
    )
    assert back.echoes == 1 and back.written == 0

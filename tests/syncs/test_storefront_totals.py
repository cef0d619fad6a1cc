"""The storefront flow's totals check: an order Brightpearl already held is linked, not posted,
and when its goods differ from what the shopper paid, finance gets a ticket with both sides."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exceptions.models import OPEN_STATUSES, Ticket
from syncs.flows.bigcommerce.totals import amount_words, brightpearl_goods
from syncs.models import RecordLink
from syncs.services import flow_run_now
from tests.contract.scenarios import BC_TO_BP, value_maps

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_cache")]


def mismatches(brand):
    return Ticket.objects.filter(
        brand=brand, type__code="order_total_mismatch", status__in=OPEN_STATUSES
    )


def test_a_linked_order_whose_goods_differ_is_a_finance_ticket(sandbox, live_brand):
    facts = sandbox.seed_facts()["demo"]["bigcommerce"]
    value_maps(live_brand, "bc_order_status", BC_TO_BP)

    flow_run_now(brand=live_brand, flow="storefront_orders", full=True)

    [ticket] = mismatches(live_brand)
    order_id = str(facts["total_mismatch_order_id"])
    twin = str(facts["total_mismatch_brightpearl_order_id"])
    assert ticket.team == "finance" and ticket.source_id == order_id
    assert ticket.snapshot["brightpearl_order"] == twin
    bc, bp = ticket.snapshot["bigcommerce"], ticket.snapshot["brightpearl"]
    # The storefront charged £1 more a unit on one line.
    assert Decimal(bc["net"]) - Decimal(bp["net"]) == Decimal(ticket.snapshot["difference_net"])
    assert Decimal(ticket.snapshot["difference_net"]) % 1 == 0
    assert f"Storefront order {order_id} goods (ex tax): BigCommerce £" in ticket.title
    # Linked to the order Brightpearl held, not posted a second time.
    link = RecordLink.objects.get(
        brand=live_brand, kind="order", system="brightpearl", external_id=twin
    )
    assert link.external_id == twin
    assert sandbox.duplicates("brightpearl", created_after_seed=True)["count"] == 0
    # The other orders Brightpearl held match: no ticket for them.
    assert len(facts["linked_orders"]) > 1

    # Read again, the order is posted already: the ticket is not counted twice.
    flow_run_now(brand=live_brand, flow="storefront_orders", full=True)
    assert mismatches(live_brand).get().occurrences == 1


def test_the_consoles_own_order_found_after_a_lost_answer_is_not_a_mismatch(sandbox, live_brand):
    """After a lost create answer the look-up finds the console's own order, made from the
    storefront's lines: its goods match, whatever its shipping."""
    value_maps(live_brand, "bc_order_status", BC_TO_BP)
    sandbox.set_faults("brightpearl", lost_write_rate=0.5, seed=3)
    flow_run_now(brand=live_brand, flow="storefront_orders", full=True)
    dropped = sandbox.writes(vendor="brightpearl", status="dropped")["items"]
    sandbox.clear_faults()
    flow_run_now(brand=live_brand, flow="storefront_orders", full=True)
    # Some sales orders were made with their answer lost, and found by the next run.
    assert any(w["path"].endswith("/sales-order") for w in dropped)
    facts = sandbox.seed_facts()["demo"]["bigcommerce"]
    assert [t.source_id for t in mismatches(live_brand)] == [str(facts["total_mismatch_order_id"])]


def test_only_product_rows_count_and_amounts_read_plainly():
    order = {
        "orderRows": {
            "1": {
                "productId": 1001,
                "rowValue": {"rowNet": {"value": "10.00"}, "rowTax": {"value": "2.00"}},
            },
            "2": {
                "productId": 0,
                "rowValue": {"rowNet": {"value": "4.95"}, "rowTax": {"value": "0.99"}},
            },
        }
    }
    assert brightpearl_goods(order) == (Decimal("10.00"), Decimal("2.00"))
    assert amount_words(Decimal("1234.5"), "GBP") == "£1,234.50"
    assert amount_words(Decimal("3"), "SEK") == "3.00 SEK"

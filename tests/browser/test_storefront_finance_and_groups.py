"""The storefront orders' people at work, in a real browser against the live server and the
sandbox: finance resolves a total mismatch and sees a blocked refund go once the order is
invoiced; ecommerce maps a missing customer group and watches the held order post."""

from __future__ import annotations

import re

import pytest
from django_q.conf import Conf
from playwright.sync_api import expect

from brands.models import Team
from exceptions.models import Ticket
from syncs.models import RecordLink, RunState, SyncRun
from syncs.services import flow_run, flow_run_now
from tests.conftest import make_user
from tests.contract.scenarios import BC_TO_BP, items, value_maps
from tests.fixtures import loopback

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_cache"),
]


def test_finance_resolves_a_total_mismatch_and_a_blocked_refund_goes_once_invoiced(
    page, sign_in, sandbox, live_brand, finance_user, monkeypatch
):
    # The cluster's work happens here, at once: a retry's run executes when it is queued.
    monkeypatch.setattr(Conf, "SYNC", True)
    value_maps(live_brand, "bc_order_status", BC_TO_BP)
    flow_run_now(brand=live_brand, flow="storefront_orders", full=True)
    mismatch = Ticket.objects.get(type__code="order_total_mismatch")
    # A refund on an order the console posted itself (not invoiced in Brightpearl yet).
    bp = (
        RecordLink.objects.filter(
            brand=live_brand, kind="order", system="brightpearl", written_by="storefront_orders"
        )
        .order_by("pk")
        .first()
    )
    bc = RecordLink.objects.get(
        brand=live_brand, kind="order", system="bigcommerce", entity=bp.entity
    )
    loopback.post(
        f"{sandbox.url}/_sandbox/bigcommerce/orders/{bc.external_id}/refund"
    ).raise_for_status()
    flow_run_now(
        brand=live_brand, flow="bigcommerce_refunds", scope=[bc.external_id], trigger="webhook"
    )
    blocked = Ticket.objects.get(type__code="refund_blocked")
    assert {mismatch.team, blocked.team} == {Team.FINANCE}

    sign_in(finance_user.username)
    page.goto(f"/exceptions/{mismatch.pk}/")
    expect(page.get_by_text(re.compile(r"goods \(ex tax\): BigCommerce £")).first).to_be_visible()
    expect(page.get_by_role("table").filter(has_text="Brightpearl").first).to_be_visible()
    page.get_by_label("How it was fixed (required)").fill(
        "Brightpearl's copy was keyed by phone at the old price; credited the difference."
    )
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator(".history")).to_contain_text("credited the difference")
    mismatch.refresh_from_db()
    assert mismatch.status == "resolved"

    page.goto(f"/exceptions/{blocked.pk}/")
    expect(
        page.get_by_text(re.compile("waits: Brightpearl has not invoiced")).first
    ).to_be_visible()
    # Finance invoices the order in Brightpearl, then retries rather than wait for the sweep.
    loopback.post(
        f"{sandbox.url}/_sandbox/brightpearl/orders/{bp.external_id}/invoice"
    ).raise_for_status()
    page.get_by_role("button", name="Retry now").click()
    expect(page.get_by_text(re.compile(r"Resolved", re.I)).first).to_be_visible()
    blocked.refresh_from_db()
    assert blocked.status == "resolved"
    credits = [
        c
        for c in items(sandbox, "brightpearl", "sales_credits")
        if str(c.get("externalRef") or "").startswith("bc-refund-")
    ]
    assert [int(c["parentId"]) for c in credits] == [int(bp.external_id)]


def test_ecommerce_maps_a_customer_group_and_the_held_order_posts(
    page, sign_in, sandbox, live_brand
):
    ecommerce = make_user("erin_ecommerce", live_brand, Team.ECOMMERCE)
    value_maps(live_brand, "bc_order_status", BC_TO_BP)
    customer = loopback.post(
        f"{sandbox.url}/_sandbox/bigcommerce/customers",
        json={"email": "buyer@trade.example.com", "customer_group_id": 2},
    ).json()
    sku = items(sandbox, "bigcommerce", "variants")[0]["sku"]
    order = loopback.post(
        f"{sandbox.url}/_sandbox/bigcommerce/orders",
        json={"customer_id": customer["id"], "email": customer["email"], "lines": [{"sku": sku}]},
    ).json()
    flow_run_now(
        brand=live_brand, flow="storefront_orders", scope=[str(order["id"])], trigger="webhook"
    )
    ticket = Ticket.objects.get(type__code="unmapped_value")
    assert ticket.team == Team.ECOMMERCE

    sign_in(ecommerce.username)
    page.get_by_role("link", name="Mappings").click()
    page.get_by_role("link", name="Customer groups → price lists").click()
    unmapped = page.locator(
        "section", has=page.get_by_role("heading", name=re.compile("need a mapping"))
    )
    row = unmapped.get_by_role("row", name=re.compile(r"\b2\b"))
    expect(row).to_contain_text("1 waiting")
    expect(row.get_by_role("link", name=f"Ticket #{ticket.pk}")).to_be_visible()
    # The one group waiting (the row names it as the ticket does).
    row.get_by_label(re.compile("^Brightpearl price list for")).fill("3")
    page.get_by_role("button", name="Preview the changes").click()
    expect(page.get_by_text(f"Resolves ticket #{ticket.pk}")).to_be_visible()
    page.get_by_role("button", name="Save this change").click()
    expect(page.get_by_role("status")).to_contain_text(f"Ticket #{ticket.pk} resolved.")

    # The save queued the held order: the workers' run posts it, at the mapped price list.
    for run in SyncRun.objects.filter(brand=live_brand, state=RunState.QUEUED).order_by("pk"):
        flow_run(run_id=run.pk)
    posted = [
        o
        for o in items(sandbox, "brightpearl", "orders")
        if o.get("externalRef") == str(order["id"])
    ]
    assert len(posted) == 1 and int(posted[0]["priceListId"]) == 3
    page.goto(f"/records/?q={order['id']}")
    expect(page.get_by_role("link", name=re.compile(str(order["id"]))).first).to_be_visible()

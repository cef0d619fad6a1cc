"""Ops find an order and a contact after a real sync against the sandbox, see each in every
system with what was last sent, and press Sync now. Real browser, live server, sandbox."""

from __future__ import annotations

import re

import pytest
from django_q.conf import Conf
from playwright.sync_api import expect

from syncs.flows import REGISTRY
from syncs.models import RecordState, RunState, SyncRun

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_cache"),
]


def find(page, query: str) -> None:
    page.get_by_role("link", name="Find a record").click()
    page.get_by_label("Id, e-mail address or order reference").fill(query)
    page.get_by_role("button", name="Find").click()


def sync_now(page, flow: str, source_id: str) -> SyncRun:
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_role("status")).to_contain_text(f"Sync queued: {flow}, run")
    codes = [code for code, cls in REGISTRY.items() if cls.label == flow]
    run = SyncRun.objects.get(trigger="manual", scope=[source_id], flow__in=codes)
    expect(page.get_by_role("status")).to_contain_text(f"{flow}, run {run.pk}")
    return run


def test_ops_find_an_order_and_a_contact_and_sync_them_now(
    page, sign_in, sandbox, synced_brand, ops_user, monkeypatch
):
    # The cluster's work happens here, at once: Sync now's run executes when it is queued.
    monkeypatch.setattr(Conf, "SYNC", True)
    order = RecordState.objects.filter(flow="order_lifecycle", status="synced").earliest("pk")
    vip = str(sandbox.seed_facts()["demo"]["brightpearl"]["vip_contact_id"])
    contact = RecordState.objects.get(flow="customers", source_id=vip)
    sign_in(ops_user.username)

    # An order, by its Brightpearl id.
    find(page, order.source_id)
    result = page.get_by_role("listitem").filter(has_text=f"Order {order.source_id}")
    expect(result).to_contain_text(f"Brightpearl {order.source_id} · Ometria {order.target_id}")
    result.get_by_role("link", name=f"Order {order.source_id}").click()
    expect(page.get_by_role("heading", name=f"Order {order.source_id}", level=1)).to_be_visible()
    systems = page.locator("ul.systems")
    expect(
        systems.get_by_role("heading", name=f"Brightpearl order {order.source_id}")
    ).to_be_visible()
    expect(systems.get_by_role("heading", name=f"Ometria order {order.target_id}")).to_be_visible()
    # The order flow wrote it, or the refunds flow if a refund of it went after.
    expect(systems).to_contain_text(re.compile(r"Last written there by (Order lifecycle|Refunds)"))
    flow = page.locator(".flow-state").filter(has_text="Order lifecycle → Ometria")
    expect(flow.get_by_role("heading", name="What Ometria was last sent")).to_be_visible()
    expect(flow).to_contain_text(order.last_pushed["email"])
    expect(flow.get_by_role("table")).to_contain_text("Manual, reading everything")
    run = sync_now(page, "Order lifecycle → Ometria", order.source_id)
    run.refresh_from_db()
    # Read again from Brightpearl; unchanged since it was sent, so nothing new went out.
    assert (run.state, run.read, run.unchanged, run.written) == (RunState.SUCCEEDED, 1, 1, 0)
    expect(flow.get_by_role("table")).to_contain_text("Manual, for this record")

    # A contact, by its e-mail address, typed as a person might.
    find(page, contact.match_key.upper())
    page.get_by_role("link", name=f"Contact {vip}").click()
    expect(page.get_by_role("heading", name=f"Contact {vip}", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name=f"Ometria contact {vip}")).to_be_visible()
    flow = page.locator(".flow-state").filter(has_text="Customers → Ometria")
    expect(flow.get_by_role("heading", name="What Ometria was last sent")).to_be_visible()
    expect(flow).to_contain_text(contact.match_key)
    expect(page.get_by_role("heading", name="Goes with")).to_be_visible()
    run = sync_now(page, "Customers → Ometria", vip)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED and run.read == 1

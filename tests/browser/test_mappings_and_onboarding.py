"""Mappings and onboarding in a real browser (Debian's Chromium), against the live server.

After a save or going live, the runs the console queued are done here, in-process (what the
task cluster would do), and the sandbox's Ometria state is read to see the orders arrive.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from brands.models import Brand, Membership, Team
from exceptions.models import Ticket
from syncs.models import RunState, StatusMapping, SyncRun
from syncs.services import flow_run

# transaction=True: the live server (another thread) reads what the test writes.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_cache"),
]


def run_queued(brand) -> list[SyncRun]:
    runs = SyncRun.objects.filter(brand=brand, state=RunState.QUEUED).order_by("pk")
    return [flow_run(run_id=run.pk) for run in runs]


def test_marketing_maps_the_unknown_status_previews_saves_and_the_orders_reach_ometria(
    page, sign_in, sandbox, synced_brand, marketing_user
):
    unknown = sandbox.seed_facts()["demo"]["brightpearl"]["unknown_status_id"]
    waiting = {
        str(o["id"])
        for o in sandbox.state("brightpearl", "orders", status=unknown, limit=100)["items"]
    }
    assert not waiting & set(
        o["id"] for o in sandbox.state("ometria", "orders", limit=1000)["items"]
    )
    ticket = Ticket.objects.get(type__code="unmapped_status")

    sign_in(marketing_user.username)
    page.get_by_role("link", name="Mappings").click()
    expect(page.get_by_role("heading", name="Mappings of Acme Apparel")).to_be_visible()
    unmapped = page.locator(
        "section", has=page.get_by_role("heading", name=re.compile("need a mapping"))
    )
    row = unmapped.get_by_role("row", name=re.compile("Awaiting gift wrap"))
    expect(row).to_contain_text(f"{len(waiting)} waiting")
    expect(row.get_by_role("link", name=f"Ticket #{ticket.pk}")).to_be_visible()

    page.get_by_label("Ometria order status for Awaiting gift wrap").select_option("pending")
    page.get_by_label("Lifecycle stage for Awaiting gift wrap").select_option("processing")
    expect(row).to_have_class(re.compile("row-changed"))
    page.get_by_role("button", name="Preview the changes").click()

    expect(page.get_by_role("heading", name="Preview: what saving would do")).to_be_visible()
    impact = page.locator(
        "section", has=page.get_by_role("heading", name="What would change in Ometria")
    )
    expect(impact).to_contain_text(f"{len(waiting)} waiting orders sent for the first time")
    expect(impact).to_contain_text("Not in Ometria yet")
    expect(impact).to_contain_text("Pending · Processing")
    expect(page.get_by_text(f"Saving resolves ticket #{ticket.pk}")).to_be_visible()
    assert not StatusMapping.objects.filter(bp_status_id=unknown).exists()

    page.get_by_role("button", name="Save this change").click()
    expect(page.get_by_role("status")).to_contain_text("1 mapping saved.")
    expect(page.get_by_role("status")).to_contain_text(f"Ticket #{ticket.pk} resolved.")
    expect(page.locator(".history")).to_contain_text(
        "Awaiting gift wrap: not mapped → Pending · Processing"
    )
    expect(
        page.locator("section", has=page.get_by_role("heading", name=re.compile("need a mapping")))
    ).to_contain_text("Every status is mapped.")

    assert all(run.state == RunState.SUCCEEDED for run in run_queued(synced_brand))
    sent = {o["id"]: o for o in sandbox.state("ometria", "orders", limit=1000)["items"]}
    assert waiting <= set(sent)
    for order_id in waiting:
        assert sent[order_id]["properties"]["lifecycle_stage"] == "processing"
        assert sent[order_id]["status"] == "pending" and sent[order_id]["is_valid"] is True
    ticket.refresh_from_db()
    assert ticket.status == "resolved"


def test_an_admin_onboards_a_second_brand_and_its_first_sync_runs(
    page, sign_in, sandbox, admin_user, live_server, settings
):
    settings.CONSOLE_PUBLIC_URL = live_server.url
    second = sandbox.discovery()["accounts"]["second"]
    bp, om = second["brightpearl"], second["ometria"]

    sign_in(admin_user.username)
    page.get_by_role("link", name="Onboarding").click()
    page.get_by_role("link", name="Onboard a new brand").click()
    page.get_by_label("Brand name").fill("Second Style")
    page.get_by_label("Short name").fill("second-style")
    page.get_by_label("Time zone").fill("Europe/London")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="2. Each system's credentials")).to_be_visible()
    brightpearl = page.locator("#system-brightpearl")
    brightpearl.get_by_label("Base URL").fill(bp["base_url"])
    brightpearl.get_by_label("Account code").fill(bp["account"])
    brightpearl.get_by_label("App reference").fill(bp["headers"]["brightpearl-app-ref"])
    # A private app made today gives a staff token: the kind the page starts on.
    expect(brightpearl.get_by_label("Staff token: a private app made")).to_be_checked()
    brightpearl.get_by_label("Staff token", exact=True).fill(bp["staff"]["brightpearl-staff-token"])
    ometria = page.locator("#system-ometria")
    ometria.get_by_label("Base URL").fill(om["base_url"])
    ometria.get_by_label("API key").fill(om["headers"]["X-Ometria-Auth"])
    for label in ("Mailchimp", "BigCommerce", "Salesforce"):
        page.get_by_label(f"Second Style does not use {label}").check()
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="3. Test each connection")).to_be_visible()
    page.get_by_role("button", name="Test the connections").click()
    results = page.get_by_role("list", name="Results")
    expect(results).to_contain_text("Signed in to Brightpearl account second")
    page.get_by_role("link", name="Continue to the statuses").click()

    page.get_by_role("button", name="Fetch the statuses and seed the mapping").click()
    expect(page.get_by_text("Every status is mapped.")).to_be_visible()
    page.get_by_role("link", name="Continue to the flows").click()

    expect(page.get_by_label("Switch on Order lifecycle → Ometria")).to_be_checked()
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("heading", name="6. Review")).to_be_visible()
    page.get_by_role("button", name="Go live").click()
    expect(page.get_by_role("heading", name="Second Style is live")).to_be_visible()

    brand = Brand.objects.get(slug="second-style")
    assert brand.active
    assert Membership.objects.filter(user=admin_user, brand=brand, team=Team.ADMIN).exists()
    runs = run_queued(brand)
    assert {r.flow for r in runs} == {"order_lifecycle", "refunds", "customers", "shipments"}
    assert all(r.state == RunState.SUCCEEDED for r in runs), [(r.flow, r.error) for r in runs]
    orders = sandbox.state("ometria", "orders", account="second", limit=100)["items"]
    assert len(orders) == 20
    assert len(sandbox.state("ometria", "contacts", account="second", limit=100)["items"]) == 10

    # The brand is on the overview now, with its runs.
    page.get_by_role("link", name="Overview", exact=True).click()
    expect(page.get_by_role("heading", name="Second Style")).to_be_visible()


def test_marketing_maps_a_payment_method_previews_saves_and_sees_the_history(
    page, sign_in, sandbox, live_brand, payments_flow, marketing_user
):
    """A kind of value map, edited like the statuses: the waiting order is sent after."""
    from syncs.mappings import ValueChange, value_map_save
    from syncs.models import ValueMap
    from syncs.services import flow_run_now

    value_map_save(
        brand=live_brand,
        changes=[
            ValueChange(
                "bc_payment_method", m, target_value=m.upper(), extra={"nominal_code": "1220"}
            )
            for m in ("Stripe", "PayPal")
        ],
    )
    flow_run_now(brand=live_brand, flow=payments_flow.code, full=True)
    facts = sandbox.seed_facts()["demo"]["bigcommerce"]
    order_id = str(facts["unmapped_payment_order_id"])
    ticket = Ticket.objects.get(type__code="unmapped_value")

    sign_in(marketing_user.username)
    page.get_by_role("link", name="Mappings").click()
    page.get_by_role("link", name="Payment methods").click()
    expect(page.get_by_role("heading", name="Mappings of Acme Apparel")).to_be_visible()
    unmapped = page.locator(
        "section", has=page.get_by_role("heading", name=re.compile("need a mapping"))
    )
    row = unmapped.get_by_role("row", name=re.compile("Klarna"))
    expect(row).to_contain_text("1 waiting")
    expect(row.get_by_role("link", name=f"Ticket #{ticket.pk}")).to_be_visible()

    page.get_by_label("Brightpearl payment method for Klarna").fill("KLARNA")
    page.get_by_label("Nominal code for Klarna").fill("1230")
    page.get_by_label("Note for Klarna").fill("Pay later, agreed with finance")
    expect(row).to_have_class(re.compile("row-changed"))
    expect(page.get_by_text("1 value changed, not saved yet.")).to_be_visible()
    page.get_by_role("button", name="Preview the changes").click()

    expect(page.get_by_role("heading", name="Preview: what saving would do")).to_be_visible()
    impact = page.locator("section", has=page.get_by_role("heading", name="What saving would do"))
    expect(impact).to_contain_text("1 waiting record sent for the first time")
    expect(impact).to_contain_text(f"Resolves ticket #{ticket.pk}")
    expect(page.get_by_text("KLARNA · nominal code 1230")).to_be_visible()
    assert not ValueMap.objects.filter(source_value="Klarna").exists()

    page.get_by_role("button", name="Save this change").click()
    expect(page.get_by_role("status")).to_contain_text("1 mapping saved.")
    expect(page.get_by_role("status")).to_contain_text(f"Ticket #{ticket.pk} resolved.")
    expect(page.locator(".history")).to_contain_text(
        "Klarna: not mapped → KLARNA · nominal code 1230"
    )
    expect(page.locator(".history")).to_contain_text("mark_marketing")
    expect(page.get_by_role("link", name=re.compile("Revert change"))).to_have_count(3)

    assert all(run.state == RunState.SUCCEEDED for run in run_queued(live_brand))
    assert {"id": order_id, "payment_method": "KLARNA", "nominal_code": "1230"} in (
        payments_flow.sent
    )
    ticket.refresh_from_db()
    assert ticket.status == "resolved"

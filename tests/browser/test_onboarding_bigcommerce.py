"""Acceptance (issue 17, "Onboarding that fits the brand"): an agency admin onboards a brand
with only BigCommerce and Brightpearl, in a real browser against the sandbox, and is never
asked about Ometria, Mailchimp or Salesforce; the first sync of its storefront runs."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from brands.models import Brand, Membership, Team
from connectors.models import Connection
from exceptions.models import Ticket
from syncs.flows import bigcommerce as bigcommerce_pair
from syncs.models import FlowConfig, RunState
from tests.browser.test_mappings_and_onboarding import run_queued

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_cache"),
]


def test_an_admin_onboards_a_bigcommerce_and_brightpearl_brand_end_to_end(
    page, sign_in, sandbox, admin_user, live_server, settings
):
    settings.CONSOLE_PUBLIC_URL = live_server.url
    second = sandbox.discovery()["accounts"]["second"]
    bp, bc = second["brightpearl"], second["bigcommerce"]

    sign_in(admin_user.username)
    page.get_by_role("link", name="Onboarding").click()
    page.get_by_role("link", name="Onboard a new brand").click()
    page.get_by_label("Brand name").fill("Shop Only")
    page.get_by_label("Short name").fill("shop-only")
    page.get_by_label("Time zone").fill("Europe/London")
    # Nothing chosen yet: the refusal says what to do, and the keyboard is on it.
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_text("Tick at least one system besides Brightpearl")).to_be_visible()
    expect(page.get_by_role("checkbox", name=re.compile(r"^Ometria \("))).to_be_focused()
    page.get_by_role("checkbox", name=re.compile(r"^BigCommerce \(")).check()
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="2. Each system's credentials")).to_be_visible()
    expect(page.locator("fieldset.system-form")).to_have_count(2)
    for other in ("Ometria", "Mailchimp", "Salesforce"):
        expect(page.locator("main form")).not_to_contain_text(other)
    brightpearl = page.locator("#system-brightpearl")
    brightpearl.get_by_label("Base URL").fill(bp["base_url"])
    brightpearl.get_by_label("Account code").fill(bp["account"])
    brightpearl.get_by_label("App reference").fill(bp["staff"]["brightpearl-app-ref"])
    brightpearl.get_by_label("Staff token", exact=True).fill(bp["staff"]["brightpearl-staff-token"])
    bigcommerce = page.locator("#system-bigcommerce")
    bigcommerce.get_by_label("Base URL").fill(bc["base_url"])
    bigcommerce.get_by_label("Access token").fill(bc["headers"]["X-Auth-Token"])
    # The store hash forgotten: the first error gets the focus, and names the fix.
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_text("Enter the BigCommerce store hash.")).to_be_visible()
    store_hash = page.locator("#system-bigcommerce").get_by_label("Store hash")
    expect(store_hash).to_be_focused()
    expect(store_hash).to_have_attribute("aria-invalid", "true")
    # Brightpearl was complete, so it is saved: its secret shows as saved, not as empty.
    expect(
        page.locator("#system-brightpearl").get_by_label("Staff token", exact=True)
    ).to_have_attribute("placeholder", "saved — leave empty to keep")
    store_hash.fill(bc["store_hash"])
    page.locator("#system-bigcommerce").get_by_label("Access token").fill(
        bc["headers"]["X-Auth-Token"]
    )
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="3. Test each connection")).to_be_visible()
    page.get_by_role("button", name="Test the connections").click()
    results = page.get_by_role("list", name="Results")
    expect(results).to_contain_text("Signed in to Brightpearl account second")
    expect(results.locator("li")).to_have_count(2)
    expect(results).to_contain_text("Nothing to fix here.")
    page.get_by_role("link", name="Continue to the statuses").click()

    expect(page.get_by_text("does not use Ometria")).to_be_visible()
    page.get_by_role("button", name="Continue to the flows").click()

    expect(page.get_by_role("heading", name="5. Flows and their schedules")).to_be_visible()
    # Every flow of the pair is offered; this brand starts with its orders only.
    expect(page.locator("tbody tr")).to_have_count(len(bigcommerce_pair.FLOWS))
    expect(page.get_by_label("Switch on Storefront orders → Brightpearl")).to_be_checked()
    for other in bigcommerce_pair.FLOWS:
        if other.code != "storefront_orders":
            page.get_by_label(f"Switch on {other.label}").uncheck()
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="6. Review")).to_be_visible()
    expect(page.locator(".error-box")).to_have_count(0)
    page.get_by_role("button", name="Go live").click()
    expect(page.get_by_role("heading", name="Shop Only is live")).to_be_visible()

    brand = Brand.objects.get(slug="shop-only")
    assert brand.active
    assert set(Connection.objects.filter(brand=brand).values_list("system", flat=True)) == {
        "brightpearl",
        "bigcommerce",
    }
    assert Membership.objects.filter(user=admin_user, brand=brand, team=Team.ADMIN).exists()
    configs = {c.flow: c.enabled for c in FlowConfig.objects.filter(brand=brand)}
    assert configs == {cls.code: cls.code == "storefront_orders" for cls in bigcommerce_pair.FLOWS}
    runs = run_queued(brand)
    assert [r.flow for r in runs] == ["storefront_orders"]
    # The first sync reached both systems and accounted for every storefront order: the
    # second store's orders need mappings and a SKU nobody has made yet, so each waits with
    # a ticket (never guessed), and none is lost.
    run = runs[0]
    assert run.state == RunState.PARTIAL, (run.state, run.error)
    assert (run.written, run.waiting) == (0, 3)
    assert Ticket.objects.filter(brand=brand, status="open").count() == 3

    # Afterwards it has a settings page of its own, and step 1 is no longer a form.
    page.get_by_role("link", name="Shop Only's settings").click()
    expect(page.get_by_role("heading", name="Shop Only's settings")).to_be_visible()
    expect(page.get_by_text("Shop Only uses Brightpearl, BigCommerce.")).to_be_visible()
    page.goto(f"/onboarding/{brand.onboarding.pk}/brand/")
    expect(page.get_by_label("Brand name")).to_have_count(0)
    expect(page.get_by_text("this step is no longer a form")).to_be_visible()

"""The overview's verdict changes live, without a reload, when the sandbox breaks a connection
(the vendor refuses the saved key) and when it heals; the "updated … ago" line counts."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from console import views
from syncs.services import flow_run_now
from tests.browser.test_csp import watch
from tests.fixtures import loopback

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def change_status(sandbox, status_id: int) -> None:
    """An order awaiting payment (20) moves on in Brightpearl's back office."""
    order_id = sandbox.state("brightpearl", "orders", status=20, limit=1)["items"][0]["id"]
    answer = loopback.post(
        f"{sandbox.url}/_sandbox/brightpearl/orders/{order_id}/status",
        json={"statusId": status_id},
    )
    answer.raise_for_status()
    # A run reads changes up to the second it starts (Brightpearl's searches take whole
    # seconds): the change must be a second old to be in it, not in the next run's.
    time.sleep(1.1)


def test_the_verdict_goes_down_and_back_to_healthy_without_a_reload(
    page, sign_in, sandbox, synced_brand, ops_user, monkeypatch
):
    monkeypatch.setattr(views, "POLL_SECONDS", 1)
    problems = watch(page)  # the refreshes run under the strict CSP: nothing refused
    sign_in(ops_user.username)
    page.goto("/")
    brand = page.locator(f"[data-brand='{synced_brand.slug}']")
    verdict = brand.locator("[data-verdict]")
    expect(verdict).to_have_text("Healthy")
    # The page knows which copy it shows: no full reload happens in this test.
    page.evaluate("window.__sameDocument = true")

    # Ometria's admin rotates the API key; an order moves on in Brightpearl, so the next
    # run has something to send, and is refused.
    assert sandbox.revoke("ometria")
    change_status(sandbox, 21)
    flow_run_now(brand=synced_brand, flow="order_lifecycle")
    expect(verdict).to_have_text("Down")
    expect(brand.locator("[data-reason]")).to_contain_text(
        re.compile(r"Ometria refused the connection at today \d\d:\d\d")
    )
    expect(brand).to_have_class(re.compile(r"verdict-down"))

    # The key works again (restored in Ometria): the next run reaches it, and the verdict
    # follows by itself.
    assert sandbox.restore("ometria")
    change_status(sandbox, 23)
    flow_run_now(brand=synced_brand, flow="order_lifecycle")
    expect(verdict).to_have_text("Healthy")
    assert page.evaluate("window.__sameDocument") is True
    expect(page.locator("[data-updated-words]")).to_have_text(re.compile(r"^Updated "))
    # What a person unfolds stays unfolded across the refreshes.
    # (With three brands or fewer they start unfolded; this person folds theirs.)
    details = brand.locator("details")
    assert details.evaluate("d => d.open") is True
    details.locator("summary").click()
    assert details.evaluate("d => d.open") is False
    page.wait_for_timeout(2500)  # two refreshes
    assert brand.locator("details").evaluate("d => d.open") is False
    brand.locator("details summary").click()
    page.wait_for_timeout(1500)
    assert brand.locator("details").evaluate("d => d.open") is True
    assert problems == [], problems

"""The exceptions pages in a real browser (Debian's Chromium), against the live server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from brands.models import Team
from exceptions.models import ExceptionType, TeamOverride, TicketStatus
from exceptions.services import ticket_raise

# transaction=True: the live server (another thread) reads what the test writes. The
# seeded exception types come back after each flush (tests/conftest.py, _migrated_rows).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def unmapped_status(brand, status_id: int = 33, name: str = "Gift wrap"):
    return ticket_raise(
        brand=brand,
        type_code="unmapped_status",
        title=f"Order status “{name}” has no mapping: 2 orders waiting",
        flow="order_lifecycle",
        source_system="brightpearl",
        source_id=f"status:{status_id}",
        snapshot={"status_id": status_id, "status_name": name, "waiting_ids": ["1001", "1002"]},
        error_message=f"Brightpearl status “{name}” (id {status_id}) is not mapped.",
    )


def test_ops_signs_in_opens_an_unmapped_status_and_gives_it_to_marketing(
    page, sign_in, brand_a, ops_user, marketing_user
):
    # At this brand, operations triage unmapped statuses first.
    TeamOverride.objects.create(
        brand=brand_a,
        exception_type=ExceptionType.objects.get(code="unmapped_status"),
        team=Team.OPERATIONS,
    )
    ticket = unmapped_status(brand_a)

    sign_in(ops_user.username)
    expect(page).to_have_url(re.compile(r"/exceptions/$"))
    expect(page.get_by_role("heading", name="Exceptions", exact=True)).to_be_visible()
    expect(page.get_by_text("owned by your teams (Operations at Acme Apparel)")).to_be_visible()

    page.get_by_role("link", name=re.compile("Order status “Gift wrap” has no mapping")).click()
    expect(page.get_by_role("heading", name=re.compile("Gift wrap"))).to_be_visible()
    expect(page.get_by_role("heading", name="How to fix it")).to_be_visible()
    expect(page.get_by_text("Open Mappings, find the status")).to_be_visible()

    page.get_by_label("Team", exact=True).select_option(label="Marketing")
    page.get_by_role("button", name="Reassign").click()

    expect(page.get_by_role("status").first).to_contain_text(
        f"Ticket #{ticket.pk} reassigned to the Marketing team."
    )
    expect(page.locator(".history")).to_contain_text("Reassigned to the Marketing team.")
    expect(page.locator(".history")).to_contain_text("by olivia_ops")
    ticket.refresh_from_db()
    assert ticket.team == Team.MARKETING
    assert ticket.status == TicketStatus.OPEN

    # Back in the inbox, it has left ops' list.
    page.get_by_role("link", name="‹ Back to the tickets").click()
    expect(page.get_by_text("No ticket matches these filters.")).to_be_visible()


def test_finance_cannot_see_another_brands_ticket(
    page, sign_in, brand_a, brand_b, finance_user, bravo_user
):
    ours = ticket_raise(
        brand=brand_a,
        type_code="order_total_mismatch",
        title="Order 1001 totals differ by £4.00",
        flow="refunds",
        source_system="bigcommerce",
        source_id="1001",
    )
    theirs = ticket_raise(
        brand=brand_b,
        type_code="order_total_mismatch",
        title="Bravo order 2002 totals differ by £9.99",
        flow="refunds",
        source_system="bigcommerce",
        source_id="2002",
    )

    sign_in(finance_user.username)
    expect(page).to_have_url(re.compile(r"/exceptions/$"))
    expect(page.get_by_role("link", name="Order 1001 totals differ by £4.00")).to_be_visible()
    expect(page.get_by_text("Bravo order 2002")).to_have_count(0)

    # Not among every team's tickets of every status either.
    page.goto("/exceptions/?team=&status=")
    expect(page.get_by_role("link", name="Order 1001 totals differ by £4.00")).to_be_visible()
    expect(page.get_by_text("Bravo order 2002")).to_have_count(0)

    # Its address answers "not found", and shows nothing of it.
    response = page.goto(f"/exceptions/{theirs.pk}/")
    assert response is not None and response.status == 404
    expect(page.get_by_text("Bravo order 2002")).to_have_count(0)
    assert ours.pk != theirs.pk

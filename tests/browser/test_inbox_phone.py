"""The inbox and a ticket's page on a phone (390 px wide): every ticket is a card whose key
facts (the ticket, its type, brand and age) are in view without scrolling sideways, and a
ticket's data reads as words, its raw form behind "Details" for admins."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from brands.models import Team
from tests.conftest import make_user
from tests.exceptions.conftest import raise_ticket
from tests.exceptions.snapshot_samples import SAMPLES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
# A folder to keep screenshots in, for a person to look at (unset: none are taken).
SHOTS = os.environ.get("SCREENSHOTS_DIR", "")
KEY_CELLS = ("Ticket", "Type", "Brand", "Age")


def in_view(page, locator) -> bool:
    """Shown, and wholly inside the window's width (no sideways scroll needed to read it)."""
    box = locator.bounding_box()
    width = page.evaluate("window.innerWidth")
    return bool(box) and box["width"] > 0 and box["x"] >= 0 and box["x"] + box["width"] <= width


def no_sideways_scroll(page) -> None:
    wide = page.evaluate(
        """() => [document.documentElement.scrollWidth, window.innerWidth,
                  Math.max(...Array.from(document.querySelectorAll('.table-scroll'))
                    .map((b) => b.scrollWidth - b.clientWidth), 0)]"""
    )
    assert wide[0] <= wide[1], f"the page is {wide[0]} px wide in a {wide[1]} px window"
    assert wide[2] <= 1, f"a table scrolls sideways by {wide[2]} px"


@pytest.fixture
def tickets(brand_a, brand_b):
    drift = next(s for s in SAMPLES if s.type_code == "drift_found")
    made = [
        raise_ticket(
            brand_a,
            "drift_found",
            flow=drift.flow,
            source_system=drift.source_system,
            source_id=drift.source_id,
            snapshot=drift.snapshot,
            title="3 orders in Ometria differed from Brightpearl and were corrected by the "
            "daily check",
        ),
        raise_ticket(
            brand_a,
            title="Order 10001 refused: alexandra.montgomery-fitzwilliam.wholesale-orders"
            "@example-outfitters.co.uk is not a valid e-mail address",
        ),
        raise_ticket(brand_b, "unmapped_sku", title="Storefront order 120 has an unknown SKU"),
    ]
    return made


def test_the_inbox_at_390_px_shows_each_tickets_key_facts(page, sign_in, tickets, admin_user):
    admin_user.memberships.create(brand=tickets[2].brand, team=Team.ADMIN)
    page.set_viewport_size(PHONE)
    sign_in(admin_user.username)
    page.goto("/exceptions/?team=")
    rows = page.locator("table.tickets tbody tr")
    expect(rows).to_have_count(3)
    no_sideways_scroll(page)
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/inbox-390.png", full_page=True)
    for n in range(3):
        row = rows.nth(n)
        row.scroll_into_view_if_needed()
        for label in KEY_CELLS:
            cell = row.locator(f'td[data-label="{label}"]')
            expect(cell).to_be_visible()
            assert in_view(page, cell), f"ticket {n}: {label} is not in view"
        # Each cell says what it is: a card has no column headers to read it by.
        label = row.locator('td[data-label="Brand"]').evaluate(
            "(td) => getComputedStyle(td, '::before').content"
        )
        assert label == '"Brand: "'
    first = rows.filter(has_text="differed from Brightpearl")
    expect(first.locator('td[data-label="Type"]')).to_contain_text(
        "The daily check corrected records"
    )
    expect(first.locator('td[data-label="Brand"]')).to_contain_text("Acme Apparel")
    expect(first.locator('td[data-label="Age"]')).to_contain_text("just now")
    expect(first.locator('td[data-label="Age"]')).to_contain_text("last seen today")
    expect(page.locator("table.tickets")).not_to_contain_text(" a.m.")
    expect(page.locator("main")).not_to_contain_text("{#")  # no template comment leaks
    # The select-all box is there, with words, and still ticks every card.
    select_all = page.get_by_label("Select every ticket on this page")
    expect(page.get_by_text("Select all on this page")).to_be_visible()
    select_all.check()
    for box in page.locator('input[name="ticket"]').all():
        expect(box).to_be_checked()


def test_the_inbox_at_1280_px_is_still_a_table(page, sign_in, tickets, admin_user):
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(admin_user.username)
    page.goto("/exceptions/?team=")
    for name in ("Ticket", "Type", "Brand", "Age", "Status"):
        expect(page.get_by_role("columnheader", name=name, exact=True)).to_be_visible()
    expect(page.get_by_text("Select all on this page")).to_be_hidden()


def test_a_ticket_at_390_px_reads_as_words_and_the_raw_data_is_a_toggle_for_admins(
    page, sign_in, tickets, brand_a, admin_user
):
    ticket = tickets[0]
    page.set_viewport_size(PHONE)
    sign_in(admin_user.username)
    page.goto(f"/exceptions/{ticket.pk}/")
    no_sideways_scroll(page)
    sentence = page.locator(".snapshot-sentence")
    expect(sentence).to_contain_text("The daily check (run 812) compared 1,200 records")
    assert in_view(page, sentence)
    facts = page.locator(".snapshot-facts")
    expect(facts).to_contain_text("1001, 1002 and 1003")
    raw = page.locator("details.raw-data pre")
    expect(raw).to_be_hidden()
    page.get_by_text("Details", exact=True).click()
    expect(raw).to_be_visible()
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/ticket-390.png", full_page=True)
    expect(raw).to_contain_text('"mapping_changes": 2')
    no_sideways_scroll(page)

    # Someone of the brand's ops team reads the same words, with no toggle.
    ops = make_user("olga_ops", brand_a, Team.OPERATIONS)
    page.context.clear_cookies()
    sign_in(ops.username)
    page.goto(f"/exceptions/{ticket.pk}/")
    expect(page.locator(".snapshot-sentence")).to_be_visible()
    expect(page.locator("details.raw-data")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("mapping_changes")

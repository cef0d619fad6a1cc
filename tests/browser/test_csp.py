"""Under the strict Content-Security-Policy, Chromium blocks nothing on the console's pages
and their scripts still work (the inbox's select-all, the mappings editor, the admin's)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from connectors.models import Connection
from syncs.models import StatusMapping
from tests.exceptions.conftest import raise_ticket

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_cache"),
]


def watch(page) -> list[str]:
    """Everything the browser refused or failed to run: CSP reports land in the console."""
    problems: list[str] = []
    page.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" or "Content Security Policy" in msg.text
            else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    return problems


def test_the_console_pages_break_no_rule_and_their_scripts_work(page, sign_in, brand_a, admin_user):
    for n in range(3):
        raise_ticket(brand_a, title=f"Order {n} refused by Ometria")
    StatusMapping.objects.create(
        brand=brand_a,
        bp_status_id=4,
        bp_status_name="Awaiting payment",
        ometria_status="pending",
        lifecycle_stage="awaiting_payment",
    )
    problems = watch(page)
    sign_in(admin_user.username)
    response = page.goto("/exceptions/?team=")
    assert "script-src 'self'" in response.headers["content-security-policy"]

    # The inbox's "select all" (static/console/inbox.js, inline before) shows and works.
    select_all = page.get_by_label("Select every ticket on this page")
    expect(select_all).to_be_visible()
    select_all.check()
    boxes = page.locator('#bulk-form input[name="ticket"]')
    assert boxes.count() == 3
    for i in range(3):
        expect(boxes.nth(i)).to_be_checked()

    for url in ("/", "/records/", "/mappings/", f"/mappings/{brand_a.slug}/", "/onboarding/"):
        page.goto(url)
        page.wait_for_load_state("load")
    assert problems == [], problems


def test_the_admin_pages_break_no_rule(page, sign_in, brand_a, admin_user):
    connection = Connection.objects.create(
        brand=brand_a,
        system="ometria",
        base_url="https://api.ometria.com",
        credentials={"api_key": "k"},
    )
    problems = watch(page)
    sign_in(admin_user.username)
    page.goto(f"/admin/connectors/connection/{connection.pk}/change/")
    # The "Test connection" button keeps its look without its inline style.
    button = page.get_by_role("button", name="Test connection")
    assert button.evaluate("b => getComputedStyle(b).cursor") == "pointer"
    for url in (
        "/admin/",
        "/admin/syncs/statusmapping/",
        "/admin/syncs/statusmapping/import/",
        "/admin/brands/auditevent/",
        "/admin/axes/accessattempt/",
    ):
        page.goto(url)
        page.wait_for_load_state("load")
    assert problems == [], problems


def test_the_mapping_exports_select_all_works_without_its_inline_handler(
    page, sign_in, brand_a, admin_user
):
    """django-import-export's export page wires "Select all" with an inline onchange, which
    the policy blocks (reported, as expected); static/console/admin_export.js wires it."""
    sign_in(admin_user.username)
    page.goto("/admin/syncs/statusmapping/export/")
    toggle = page.locator("input.select-toggle")
    fields = page.locator('.selectable-field-export-row input[type="checkbox"]')
    assert fields.count() > 1
    toggle.uncheck()
    for i in range(fields.count()):
        expect(fields.nth(i)).not_to_be_checked()
    toggle.check()
    for i in range(fields.count()):
        expect(fields.nth(i)).to_be_checked()

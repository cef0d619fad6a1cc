"""The Mailchimp pair in a real browser (Debian's Chromium), against the live server:
marketing maps the customer group the contacts wait on, sees the preview and saves, and the
contacts reach Mailchimp; ops resolves a "duplicate contact" ticket with a note."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from exceptions.models import Ticket
from syncs.flows.mailchimp.maps import BP_CONTACT_ATTRIBUTE, DEFAULT_FIELDS, DEFAULT_GROUPS
from syncs.models import RunState, SyncRun, ValueMap
from syncs.services import flow_run, flow_run_now

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_cache"),
]

FLOW = "mailchimp_contacts"


def fields_and_wholesale(brand) -> None:
    """The fields to send, and wholesale out of the audience; Retail left unmapped."""
    for source, target, kind in DEFAULT_FIELDS:
        ValueMap.objects.create(
            brand=brand,
            kind=BP_CONTACT_ATTRIBUTE.code,
            source_value=source,
            target_value=target,
            extra={"as": kind},
        )
    for group, tag, audience in DEFAULT_GROUPS:
        if group != "Retail":
            ValueMap.objects.create(
                brand=brand,
                kind="bp_customer_group_to_mailchimp",
                source_value=group,
                target_value=tag,
                extra={"audience": audience},
            )


def test_marketing_maps_the_retail_group_previews_saves_and_the_contacts_go(
    page, sign_in, sandbox, live_brand, marketing_user
):
    fields_and_wholesale(live_brand)
    run = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert run.waiting > 0 and run.written == 0, run.log
    ticket = Ticket.objects.get(type__code="unmapped_value", flow=FLOW)
    members_before = len(sandbox.state("mailchimp", "members", limit=100_000)["items"])

    sign_in(marketing_user.username)
    page.get_by_role("link", name="Mappings").click()
    page.get_by_role("link", name="Customer groups → Mailchimp audience").click()
    unmapped = page.locator(
        "section", has=page.get_by_role("heading", name=re.compile("need a mapping"))
    )
    row = unmapped.get_by_role("row", name=re.compile("Retail"))
    expect(row).to_contain_text(f"{run.waiting} waiting")
    page.get_by_label("Mailchimp tag for Retail").fill("Retail")
    page.get_by_label("In this audience? for Retail").select_option(label="yes, with this tag")
    page.get_by_role("button", name="Preview the changes").click()

    impact = page.locator("section", has=page.get_by_role("heading", name="What saving would do"))
    expect(impact).to_contain_text(f"{run.waiting} waiting records sent for the first time")
    expect(impact).to_contain_text(f"Resolves ticket #{ticket.pk}")
    page.get_by_role("button", name="Save this change").click()
    expect(page.get_by_role("status")).to_contain_text("1 mapping saved.")

    queued = SyncRun.objects.filter(brand=live_brand, state=RunState.QUEUED).order_by("pk")
    runs = [flow_run(run_id=r.pk) for r in queued]
    sent = [r for r in runs if r.flow == FLOW]
    assert sent and sent[0].written > 0, [r.log for r in runs]
    members_after = len(sandbox.state("mailchimp", "members", limit=100_000)["items"])
    assert members_after > members_before


def test_ops_resolves_a_duplicate_contact_ticket(page, sign_in, sandbox, live_brand, ops_user):
    fields_and_wholesale(live_brand)
    ValueMap.objects.create(
        brand=live_brand,
        kind="bp_customer_group_to_mailchimp",
        source_value="Retail",
        target_value="Retail",
        extra={"audience": "this_audience"},
    )
    flow_run_now(brand=live_brand, flow=FLOW, full=True)
    ticket = Ticket.objects.filter(type__code="duplicate_contact", flow=FLOW).first()
    assert ticket is not None
    ids = ticket.snapshot["contact_ids"]

    sign_in(ops_user.username)
    page.goto(page.url.split("/exceptions")[0].rstrip("/") + f"/exceptions/{ticket.pk}/")
    expect(
        page.get_by_role("heading", name=re.compile(re.escape(ticket.source_id)))
    ).to_be_visible()
    for contact_id in ids:
        expect(page.get_by_text(contact_id, exact=False).first).to_be_visible()
    page.get_by_label("How it was fixed (required)").fill(
        f"Merged contacts {' and '.join(ids)} in Brightpearl."
    )
    page.get_by_role("button", name="Resolve", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text(f"Ticket #{ticket.pk} resolved")
    ticket.refresh_from_db()
    assert ticket.status == "resolved"


def test_marketing_picks_a_tag_to_send_previews_saves_and_members_get_it(
    page, sign_in, sandbox, live_brand, marketing_user
):
    fields_and_wholesale(live_brand)
    ValueMap.objects.create(
        brand=live_brand,
        kind="bp_customer_group_to_mailchimp",
        source_value="Retail",
        target_value="Retail",
        extra={"audience": "this_audience"},
    )
    flow_run_now(brand=live_brand, flow=FLOW, full=True)

    sign_in(marketing_user.username)
    page.get_by_role("link", name="Mappings").click()
    page.get_by_role("link", name="Tags and fields → Mailchimp").click()
    add = page.locator("section", has=page.get_by_role("heading", name="Map another value"))
    add.get_by_label("Brightpearl tag or field").fill("VIP")
    add.get_by_label("Mailchimp tag or merge field").fill("VIP customers")
    add.get_by_label("Mailchimp field type").select_option(label="a Mailchimp tag")
    page.get_by_role("button", name="Preview the changes").click()
    expect(page.get_by_role("heading", name="Preview: what saving would do")).to_be_visible()
    expect(page.get_by_text(re.compile("VIP customers"))).to_be_visible()
    assert not ValueMap.objects.filter(brand=live_brand, source_value="VIP").exists()
    page.get_by_role("button", name="Save this change").click()
    expect(page.get_by_role("status")).to_contain_text("1 mapping saved.")

    run = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert run.written > 0, run.log
    members = sandbox.state("mailchimp", "members", limit=100_000)["items"]
    assert any("VIP customers" in {t["name"] for t in m.get("tags") or []} for m in members)

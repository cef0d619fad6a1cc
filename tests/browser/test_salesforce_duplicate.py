"""Ops settle a “several Salesforce records carry one Brightpearl id” ticket by choosing the
right Account (issue 15's acceptance): the other Account loses the Brightpearl id, the customer
syncs to the one kept, and the ticket resolves itself. Real browser, live server, sandbox."""

from __future__ import annotations

import pytest
from django_q.conf import Conf
from playwright.sync_api import expect

from exceptions.models import Ticket, TicketStatus
from syncs.services import flow_run_now
from tests.contract.scenarios import SF_FIELD, SF_GROUPS, items, value_maps
from tests.fixtures import loopback

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ops_choose_the_right_account_and_the_ticket_resolves(
    page, sign_in, sandbox, live_brand, ops_user, monkeypatch
):
    # The cluster's work happens here, at once: a retry's run executes when it is queued.
    monkeypatch.setattr(Conf, "SYNC", True)
    value_maps(live_brand, "bp_customer_group", SF_GROUPS)
    customer = str(items(sandbox, "brightpearl", "contacts")[0]["contactId"])
    made = [
        loopback.post(
            f"{sandbox.url}/_sandbox/salesforce/records",
            json={"type": "Account", "fields": {SF_FIELD: customer, "Name": name}},
        ).json()
        for name in ("The real one", "An import's copy")
    ]
    keep, drop = made[0]["Id"], made[1]["Id"]
    flow_run_now(brand=live_brand, flow="salesforce_accounts", full=True)
    ticket = Ticket.objects.get(type__code="salesforce_multiple_matches", source_id=customer)
    assert ticket.team == "operations"

    sign_in(ops_user.username)
    page.goto(f"/exceptions/{ticket.pk}/")
    expect(page.get_by_text("2 Salesforce Accounts hold")).to_be_visible()
    form = page.locator("#salesforce-keep")
    form.get_by_label(keep).check()
    form.get_by_role("button", name="Keep this one").click()
    expect(page.get_by_text(f"kept {keep}")).to_be_visible()

    accounts = {a["Id"]: a for a in items(sandbox, "salesforce", "Account")}
    assert accounts[keep][SF_FIELD] == customer and accounts[keep]["Name"] != "The real one"
    assert (
        accounts[drop].get(SF_FIELD) in (None, "") and accounts[drop]["Name"] == "An import's copy"
    )
    contact = next(c for c in items(sandbox, "salesforce", "Contact") if c[SF_FIELD] == customer)
    assert contact["AccountId"] == keep
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED

"""A marketing user retries an unmapped-status ticket, adds the mapping, and the ticket resolves
itself; the waiting orders reach Ometria. Real browser, live server, sandbox."""

from __future__ import annotations

import re

import pytest
from django_q.conf import Conf
from playwright.sync_api import expect

from exceptions.models import Ticket
from syncs.models import RunState, SyncRun
from syncs.services import flow_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_marketing_retries_then_maps_and_the_ticket_resolves_itself(
    page, sign_in, sandbox, synced_brand, marketing_user, monkeypatch
):
    # The cluster's work happens here, at once: a retry's run executes when it is queued.
    monkeypatch.setattr(Conf, "SYNC", True)
    unknown = sandbox.seed_facts()["demo"]["brightpearl"]["unknown_status_id"]
    waiting = {
        str(o["id"])
        for o in sandbox.state("brightpearl", "orders", status=unknown, limit=100)["items"]
    }
    ticket = Ticket.objects.get(type__code="unmapped_status")
    assert ticket.team == "marketing"

    sign_in(marketing_user.username)
    page.goto(f"/exceptions/{ticket.pk}/")
    expect(page.get_by_role("heading", name="How to fix it")).to_be_visible()

    # A retry before the status is mapped cannot pass: the history says so, the ticket stays open.
    page.get_by_role("button", name="Retry now").click()
    expect(page.locator(".history")).to_contain_text("Retry failed")
    retry = SyncRun.objects.get(trigger="retry")
    assert retry.state == RunState.PARTIAL and retry.waiting == len(waiting)
    ticket.refresh_from_db()
    assert ticket.status == "open"

    # Marketing adds the missing mapping where the ticket says to.
    page.get_by_role("link", name="Mappings").click()
    page.get_by_label("Ometria order status for Awaiting gift wrap").select_option("pending")
    page.get_by_label("Lifecycle stage for Awaiting gift wrap").select_option("processing")
    page.get_by_role("button", name="Preview the changes").click()
    page.get_by_role("button", name="Save this change").click()
    expect(page.get_by_role("status")).to_contain_text(f"Ticket #{ticket.pk} resolved.")

    # The waiting orders were queued by the save: they reach Ometria, and the ticket is closed.
    for run in SyncRun.objects.filter(state=RunState.QUEUED):
        flow_run(run_id=run.pk)
    sent = {o["id"]: o for o in sandbox.state("ometria", "orders", limit=1000)["items"]}
    assert waiting <= set(sent)
    page.goto(f"/exceptions/{ticket.pk}/")
    expect(page.get_by_text(re.compile(r"Resolved", re.I)).first).to_be_visible()
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    kinds = list(ticket.events.values_list("kind", flat=True))
    assert kinds.index("retried") < kinds.index("retry_failed")

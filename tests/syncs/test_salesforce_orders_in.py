"""Salesforce orders → Brightpearl (issue 15): orders sales make in Salesforce are posted to
Brightpearl once, by polling on SystemModstamp; their lines by Product Code = SKU; an unknown
SKU or an account Brightpearl does not know holds the order with a ticket until it is fixed;
a draft waits; an order the console made itself is never posted back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from console.demo_salesforce_in import (
    CUSTOMERS,
    EXTERNAL_ID_FIELD,
    NEW_ACCOUNT,
    salesforce_scenes_stage,
)
from exceptions.models import OPEN_STATUSES, Ticket
from exceptions.services import ticket_retry
from syncs.flows.reading import when
from syncs.flows.salesforce.orders_in import FLOW
from syncs.flows.salesforce.polling import window
from syncs.models import RecordLink, RecordState, RecordStatus, RunState
from syncs.services import flow_run, flow_run_now
from syncs.watermarks import PollWatermark
from tests.contract.scenarios import items
from tests.fixtures import loopback

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_cache")]


def posted(sandbox) -> dict[str, dict]:
    """Brightpearl orders by external ref (a Salesforce Order Id)."""
    sf_ids = {o["Id"] for o in items(sandbox, "salesforce", "Order")}
    return {
        o["externalRef"]: o
        for o in items(sandbox, "brightpearl", "orders", type=1)
        if o.get("externalRef") in sf_ids
    }


def sf_orders(sandbox) -> dict[str, dict]:
    return {o["Id"]: o for o in items(sandbox, "salesforce", "Order")}


def open_tickets(brand, code: str) -> list[Ticket]:
    return list(
        Ticket.objects.filter(brand=brand, type__code=code, status__in=OPEN_STATUSES, flow=FLOW)
    )


def test_sales_orders_post_once_and_the_others_wait_with_tickets(sandbox, live_brand, ops_user):
    salesforce_scenes_stage(sandbox.discovery()["sandbox"]["control"])
    orders = sf_orders(sandbox)
    accounts = {a["Id"]: a for a in items(sandbox, "salesforce", "Account")}
    run = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert run.state == RunState.PARTIAL, run.error or run.log
    made = posted(sandbox)
    # The activated orders of known customers, each once, to the right customer.
    assert len(made) == run.created == CUSTOMERS, run.log
    for order_id, bp_order in made.items():
        account = accounts[orders[order_id]["AccountId"]]
        assert str(bp_order["parties"]["customer"]["contactId"]) == account[EXTERNAL_ID_FIELD]
        assert len(bp_order["orderRows"]) == 2
        assert bp_order["reference"] == f"SF{orders[order_id]['OrderNumber']}"
    # The draft is not an order yet; the unknown product and the new account wait.
    states = {s.source_id: s for s in RecordState.objects.filter(brand=live_brand, flow=FLOW)}
    waiting = {i for i, s in states.items() if s.status == RecordStatus.WAITING}
    assert len(waiting) == run.waiting == 2
    [sku] = open_tickets(live_brand, "unmapped_sku")
    assert "SF-ONLY-001" in sku.error_message and sku.source_system == "salesforce"
    [unlinked] = open_tickets(live_brand, "salesforce_account_unlinked")
    new_order = unlinked.source_id
    assert accounts[orders[new_order]["AccountId"]]["Name"] == NEW_ACCOUNT
    # Again: nothing posted twice, nothing written.
    before = sandbox.stats()["brightpearl"]["by_method"].get("POST", 0)
    again = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert again.created == 0 and again.written == 0, again.log
    assert sandbox.stats()["brightpearl"]["by_method"].get("POST", 0) == before
    assert sandbox.duplicates("brightpearl", created_after_seed=True)["count"] == 0

    # Ops make the new account a Brightpearl customer (its Brightpearl id on the Account):
    # the held order posts on the next run and its ticket resolves itself.
    customer = items(sandbox, "brightpearl", "contacts")[-1]["contactId"]
    sf = _salesforce(live_brand)
    sf._data(
        "PATCH",
        f"/sobjects/Account/{orders[new_order]['AccountId']}",
        json_body={EXTERNAL_ID_FIELD: str(customer)},
    )
    # Ops press Retry on the ticket: that order alone goes, and posts once.
    retry = ticket_retry(ticket=unlinked, actor=ops_user)
    later = flow_run(run_id=retry.pk)
    assert later.created == 1 and later.read == 1, later.log
    assert str(posted(sandbox)[new_order]["parties"]["customer"]["contactId"]) == str(customer)
    assert not open_tickets(live_brand, "salesforce_account_unlinked")
    # Each Brightpearl order's link marks it as Salesforce's own (its external ref), so a
    # flow sending Brightpearl orders to Salesforce knows it for an echo.
    links = RecordLink.objects.filter(
        brand=live_brand, kind="order", system="brightpearl", written_by=FLOW
    )
    assert sorted(link.written["externalRef"] for link in links) == sorted(posted(sandbox))


def test_orders_the_console_made_in_salesforce_are_not_posted_back(sandbox, live_brand):
    """An Order whose CreatedById is the integration user came from Brightpearl."""
    salesforce_scenes_stage(sandbox.discovery()["sandbox"]["control"])
    sf = _salesforce(live_brand)
    sf.check()  # signs in: the identity URL names the integration user
    user = sf.oauth.user_id
    assert user.startswith("005")
    ours = next(o for o in sf_orders(sandbox).values() if o["Status"] == "Activated")
    loopback.post(
        f"{sandbox.url}/_sandbox/salesforce/records",
        json={
            "account": "demo",
            "type": "Order",
            "fields": {
                **{k: ours[k] for k in ("AccountId", "Status", "EffectiveDate")},
                "OrderNumber": "000900",
                "CreatedById": user,
            },
        },
    ).raise_for_status()
    run = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert run.created == CUSTOMERS, run.log
    mine = next(o for o in sf_orders(sandbox).values() if o["OrderNumber"] == "000900")
    assert mine["Id"] not in posted(sandbox)


def _order(sandbox, number: str, line: dict) -> dict:
    """Sales make an order for a known customer, with one line."""
    known = next(o for o in sf_orders(sandbox).values() if o["Status"] == "Activated")
    fields = {k: known[k] for k in ("AccountId", "Status", "EffectiveDate")}
    loopback.post(
        f"{sandbox.url}/_sandbox/salesforce/records",
        json={"account": "demo", "type": "Order", "fields": {**fields, "OrderNumber": number}},
    ).raise_for_status()
    new = next(o for o in sf_orders(sandbox).values() if o["OrderNumber"] == number)
    item = {"OrderId": new["Id"], "Product2Id": line["Product2Id"], "Quantity": 1}
    loopback.post(
        f"{sandbox.url}/_sandbox/salesforce/records",
        json={
            "account": "demo",
            "type": "OrderItem",
            "fields": {**item, "UnitPrice": 5.0, "TotalPrice": 5.0},
        },
    ).raise_for_status()
    return new


def test_polling_reads_from_each_objects_watermark_less_the_look_back(sandbox, live_brand):
    salesforce_scenes_stage(sandbox.discovery()["sandbox"]["control"])
    first = flow_run_now(brand=live_brand, flow=FLOW)  # no watermark yet: everything
    assert first.created == CUSTOMERS, first.log
    # The watermark: the newest SystemModstamp Salesforce reported among the Orders read.
    newest = max(when(o["SystemModstamp"]) for o in sf_orders(sandbox).values())
    mark = PollWatermark.objects.get(brand=live_brand, flow=FLOW, sobject="Order")
    assert mark.modstamp == newest
    # Past every change, less its look-back: the poll finds nothing; only the two orders
    # that wait are read again, as waiting records are on every run.
    PollWatermark.objects.filter(pk=mark.pk).update(modstamp=newest + timedelta(days=1))
    quiet = flow_run_now(brand=live_brand, flow=FLOW)
    assert quiet.read == 2 and quiet.created == 0, quiet.log
    # A watermark never goes back: the quiet run's own watermark stands.
    assert PollWatermark.objects.get(pk=mark.pk).modstamp == newest + timedelta(days=1)
    # Back to the newest change: an order made since is read and posted once; those the
    # look-back reads again are posted already and not sent.
    PollWatermark.objects.filter(pk=mark.pk).update(modstamp=newest)
    new = _order(sandbox, "000777", items(sandbox, "salesforce", "OrderItem")[0])
    later = flow_run_now(brand=live_brand, flow=FLOW)
    assert later.created == 1 and later.written == 1, later.log
    assert new["Id"] in posted(sandbox)
    assert sandbox.duplicates("brightpearl", created_after_seed=True)["count"] == 0


def test_a_run_that_fails_leaves_the_watermark(sandbox, live_brand):
    salesforce_scenes_stage(sandbox.discovery()["sandbox"]["control"])
    sandbox.set_faults("brightpearl", outage_seconds=30)
    failed = flow_run_now(brand=live_brand, flow=FLOW)
    sandbox.clear_faults()
    # Brightpearl was down: the run waits to try again, and read nothing for good.
    assert failed.state in (RunState.QUEUED, RunState.FAILED), failed.log
    assert not PollWatermark.objects.filter(brand=live_brand, flow=FLOW).exists()
    again = flow_run(run_id=failed.pk)
    assert again.created == CUSTOMERS, again.log
    assert PollWatermark.objects.filter(brand=live_brand, flow=FLOW, sobject="Order").exists()


def test_the_window_in_soql(live_brand):
    class Ctx:  # the engine's FlowContext, as far as the window needs it
        full = False
        brand_id = live_brand.pk
        flow = type("F", (), {"code": FLOW})
        config = type("C", (), {"lookback_minutes": 15})

    assert window(Ctx(), "Order") == ""  # never read: everything
    PollWatermark.objects.create(
        brand=live_brand,
        flow=FLOW,
        sobject="Order",
        modstamp=timezone.now().replace(2026, 1, 31, 9, 30, 0, 0),
    )
    assert window(Ctx(), "Order") == "SystemModstamp >= 2026-01-31T09:15:00Z"
    assert window(Ctx(), "OrderItem") == ""  # each object its own
    Ctx.full = True
    assert window(Ctx(), "Order") == ""


def _salesforce(brand):
    from connectors.models import Connection
    from connectors.registry import connector_for

    return connector_for(Connection.objects.get(brand=brand, system="salesforce"))


def test_the_daily_allowance_says_what_the_consoles_polling_cost(sandbox, live_brand):
    """Against Sforce-Limit-Info's count (every app's calls), the console's own share."""
    from connectors.usage import daily_allowances

    salesforce_scenes_stage(sandbox.discovery()["sandbox"]["control"])
    run = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    allowance = daily_allowances(brand_id=live_brand.pk)["salesforce"]
    sf_calls = sandbox.stats()["salesforce"]["by_method"].get("GET", 0)
    # The org counted the scene's inserts too (made through the control API, not calls);
    # the console's share is its own queries.
    assert allowance.ours == sf_calls > 0, run.log
    assert allowance.used >= allowance.ours
    assert f"{allowance.ours:,} of them by this console" in allowance.words

"""Orders → Salesforce (issue 15): each Brightpearl sales order an Order with its OrderItems,
upserted by the Brightpearl ids, Draft first then its mapped Status; the AccountId from the
accounts flow's link; tracking from shipped goods-out notes; a missing product or price holds
the order with a ticket and it goes once fixed."""

from __future__ import annotations

import pytest

from exceptions.models import OPEN_STATUSES, Ticket
from syncs import links
from syncs.flows.salesforce.orders_out import FLOW
from syncs.models import RecordLink, RecordState, RecordStatus, RunState
from syncs.services import flow_run_now
from tests.contract import scenarios  # noqa: F401  (first: it registers the Salesforce ones)
from tests.contract.salesforce_scenarios import (
    ORDER_FIELD,
    ROW_FIELD,
    SF_STATUSES,
    TRACKING,
    sf_accounts,
    sf_catalog,
    sf_insert,
)
from tests.contract.scenarios import items, value_maps

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_cache")]


def sales_orders(sandbox) -> list[dict]:
    return [o for o in items(sandbox, "brightpearl", "orders") if o["orderTypeCode"] == "SO"]


def by_key(sandbox, sobject: str, field: str) -> dict[str, dict]:
    return {r[field]: r for r in items(sandbox, "salesforce", sobject) if r.get(field)}


def test_each_order_is_an_order_with_its_products_exactly_once(sandbox, live_brand):
    sf_accounts(live_brand)
    book = sf_catalog(sandbox, live_brand)
    value_maps(live_brand, "bp_order_status_to_sf", SF_STATUSES)
    patches = sandbox.stats()["salesforce"]["by_method"].get("PATCH", 0)
    run = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert run.state == RunState.SUCCEEDED, run.error or run.log
    source = sales_orders(sandbox)
    orders = by_key(sandbox, "Order", ORDER_FIELD)
    assert len(orders) == len(source) == run.created
    accounts = {a["Id"]: a for a in items(sandbox, "salesforce", "Account")}
    lines = by_key(sandbox, "OrderItem", ROW_FIELD)
    for one in source:
        order = orders[str(one["id"])]
        status = str(one["orderStatus"]["orderStatusId"])
        assert order["Status"] == SF_STATUSES[status]
        assert order["Pricebook2Id"] == book and order["CurrencyIsoCode"] == "GBP"
        contact = str(one["parties"]["customer"]["contactId"])
        assert accounts[order["AccountId"]]["Brightpearl_Contact_Id__c"] == contact
        for row_id, row in one["orderRows"].items():
            line = lines[f"{one['id']}-{row_id}"]
            assert line["OrderId"] == order["Id"]
            assert line["Quantity"] == float(row["quantity"]["magnitude"])
            net = float(row["rowValue"]["rowNet"]["value"])
            assert line["UnitPrice"] == round(net / line["Quantity"], 2)
    # Tracking references from the shipped goods-out notes.
    notes = items(sandbox, "brightpearl", "goods_out_notes")
    shipped = [n for n in notes if n["status"]["shipped"] and n["shipping"]["reference"]]
    assert shipped
    for note in shipped:
        assert note["shipping"]["reference"] in orders[str(note["orderId"])][TRACKING]
    # The record links: the Salesforce Order id of every order, written by this flow.
    linked = set(
        RecordLink.objects.filter(brand=live_brand, kind="order", system="salesforce")
        .exclude(external_id="")
        .values_list("external_id", flat=True)
    )
    assert {o["Id"] for o in orders.values()} <= linked
    # Calls: 200 orders a call, three upserts per batch (Orders, items, status) at most.
    batches = -(-len(source) // 200)
    item_calls = -(-len(lines) // 200)
    used = sandbox.stats()["salesforce"]["by_method"].get("PATCH", 0) - patches
    assert used <= 2 * batches + item_calls

    again = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert again.written == 0 and again.created == 0
    assert sandbox.stats()["salesforce"]["by_method"].get("PATCH", 0) - patches == used
    assert sandbox.duplicates("salesforce")["count"] == 0


def test_a_missing_product_holds_the_order_with_a_ticket_until_it_is_added(sandbox, live_brand):
    sf_accounts(live_brand)
    source = sales_orders(sandbox)
    sku = next(iter(source[0]["orderRows"].values()))["productSku"]
    sf_catalog(sandbox, live_brand, without=(sku,))
    value_maps(live_brand, "bp_order_status_to_sf", SF_STATUSES)
    flow_run_now(brand=live_brand, flow=FLOW, full=True)
    held = {
        str(o["id"]) for o in source if any(r["productSku"] == sku for r in o["orderRows"].values())
    }
    waiting = set(
        RecordState.objects.filter(
            brand=live_brand, flow=FLOW, status=RecordStatus.WAITING
        ).values_list("source_id", flat=True)
    )
    assert waiting == held
    assert not held & set(by_key(sandbox, "Order", ORDER_FIELD))
    tickets = Ticket.objects.filter(
        brand=live_brand, type__code="salesforce_product_missing", status__in=OPEN_STATUSES
    )
    assert set(tickets.values_list("source_id", flat=True)) == held
    assert sku in tickets.first().title

    sf_catalog(sandbox, live_brand)  # ops add the product and its price
    run = flow_run_now(brand=live_brand, flow=FLOW)
    assert run.created == len(held), run.log
    assert held <= set(by_key(sandbox, "Order", ORDER_FIELD))
    assert not tickets.exists()


def test_an_order_waits_for_its_customers_account(sandbox, live_brand):
    sf_catalog(sandbox, live_brand)
    value_maps(live_brand, "bp_order_status_to_sf", SF_STATUSES)
    run = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert run.created == 0 and run.waiting == len(sales_orders(sandbox))
    assert Ticket.objects.filter(
        brand=live_brand, type__code="salesforce_parent_missing", status__in=OPEN_STATUSES
    ).count() == len(sales_orders(sandbox))
    sf_accounts(live_brand)
    run = flow_run_now(brand=live_brand, flow=FLOW)
    assert run.created == len(sales_orders(sandbox)), run.log
    assert not Ticket.objects.filter(
        brand=live_brand, type__code="salesforce_parent_missing", status__in=OPEN_STATUSES
    ).exists()


def test_a_product_code_on_two_products_takes_the_one_in_the_price_book(sandbox, live_brand):
    """Product Code is not unique in Salesforce: a second product with the code but not in the
    brand's price book changes nothing; priced in it too, the order waits, never a guess."""
    sf_accounts(live_brand)
    book = sf_catalog(sandbox, live_brand)
    value_maps(live_brand, "bp_order_status_to_sf", SF_STATUSES)
    order = sales_orders(sandbox)[0]
    sku = next(iter(order["orderRows"].values()))["productSku"]
    twin = sf_insert(sandbox, "Product2", {"Name": sku, "ProductCode": sku, "IsActive": True})
    run = flow_run_now(brand=live_brand, flow=FLOW, scope=[str(order["id"])])
    assert run.created == 1, run.log

    other = sales_orders(sandbox)[1]
    other_sku = next(iter(other["orderRows"].values()))["productSku"]
    twin = sf_insert(
        sandbox, "Product2", {"Name": other_sku, "ProductCode": other_sku, "IsActive": True}
    )
    sf_insert(
        sandbox,
        "PricebookEntry",
        {
            "Pricebook2Id": book,
            "Product2Id": twin["Id"],
            "CurrencyIsoCode": "GBP",
            "UnitPrice": 10.0,
            "IsActive": True,
        },
    )
    run = flow_run_now(brand=live_brand, flow=FLOW, scope=[str(other["id"])])
    assert run.waiting == 1 and run.created == 0, run.log
    state = RecordState.objects.get(brand=live_brand, flow=FLOW, source_id=str(other["id"]))
    assert "2 products with this Product Code are in the price book" in state.detail


def test_a_create_whose_answer_was_lost_is_found_by_one_query_not_made_again(sandbox, live_brand):
    """A worker stopped after Salesforce made the Order (its link still pending): the next run
    finds it by the Brightpearl order id, one SOQL query for the batch, and links it."""
    sf_accounts(live_brand)
    sf_catalog(sandbox, live_brand)
    value_maps(live_brand, "bp_order_status_to_sf", SF_STATUSES)
    order = sales_orders(sandbox)[0]
    order_id = str(order["id"])
    made = sf_insert(
        sandbox,
        "Order",
        {ORDER_FIELD: order_id, "AccountId": "001", "Status": "Draft"},
    )
    source = links.links_resolve(
        brand_id=live_brand.pk, kind="order", system="brightpearl", ids=[order_id]
    )[order_id]
    links.create_begin(
        brand_id=live_brand.pk,
        kind="order",
        system="salesforce",
        entity=source.entity,
        create_key=f"{FLOW}:{order_id}",
        natural_key=order_id,
    )
    gets = sandbox.stats()["salesforce"]["by_method"].get("GET", 0)
    run = flow_run_now(brand=live_brand, flow=FLOW, scope=[order_id])
    assert run.created == 0 and run.written == 1, run.log
    assert "found already in Salesforce" in run.log
    orders = [o for o in items(sandbox, "salesforce", "Order") if o.get(ORDER_FIELD) == order_id]
    assert [o["Id"] for o in orders] == [made["Id"]]
    link = RecordLink.objects.get(brand=live_brand, kind="order", system="salesforce")
    assert link.external_id == made["Id"]
    # The look-up and the catalogue: three queries, not a GET per order.
    assert sandbox.stats()["salesforce"]["by_method"].get("GET", 0) - gets <= 3

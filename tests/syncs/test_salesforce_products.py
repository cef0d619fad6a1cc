"""Products and stock → Salesforce (issue 15): each Brightpearl product a Product2 upserted by
its SKU 200 a call (the SKU in a custom External ID field, as Salesforce cannot upsert by
ProductCode); a record Salesforce refuses is a ticket and the rest of the call is written;
only changed products are read; the stock available in the chosen warehouses goes to a
Product2 field, only where it differs."""

from __future__ import annotations

import pytest

from connectors.models import Connection
from exceptions.models import OPEN_STATUSES, Ticket
from syncs.flows.salesforce.products import FLOW as PRODUCTS
from syncs.flows.salesforce.stock import FLOW as STOCK
from syncs.models import RecordLink, RecordState, RecordStatus, RunState
from syncs.services import flow_run_now
from tests.contract.scenarios import items
from tests.fixtures import loopback
from tests.syncs.stock_helpers import brightpearl_on_hand, set_stock

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_cache")]
SKU = "Brightpearl_SKU__c"


def product2(sandbox) -> dict[str, dict]:
    return {r[SKU]: r for r in items(sandbox, "salesforce", "Product2")}


def patches(sandbox) -> int:
    return sandbox.stats()["salesforce"]["by_method"].get("PATCH", 0)


def sf_settings(brand, **settings) -> None:
    conn = Connection.objects.get(brand=brand, system="salesforce")
    conn.settings = {**conn.settings, **settings}
    conn.save()


def test_each_product_is_a_product2_upserted_by_sku_200_a_call(sandbox, live_brand):
    run = flow_run_now(brand=live_brand, flow=PRODUCTS, full=True)
    assert run.state == RunState.SUCCEEDED, run.error or run.log
    source = items(sandbox, "brightpearl", "products")
    made = product2(sandbox)
    assert len(made) == len(source) == run.created > 0
    one = source[0]
    record = made[one["identity"]["sku"]]
    assert record["ProductCode"] == one["identity"]["sku"]
    assert record["Name"] == one["salesChannels"][0]["productName"]
    assert record["IsActive"] is True
    assert RecordLink.objects.filter(
        brand=live_brand, kind="product", system="salesforce", external_id=record["Id"]
    ).exists()
    assert patches(sandbox) == -(-len(source) // 200)
    again = flow_run_now(brand=live_brand, flow=PRODUCTS, full=True)
    assert again.written == 0 and again.created == 0
    assert patches(sandbox) == -(-len(source) // 200)


def test_only_products_changed_since_the_last_run_are_read(sandbox, live_brand):
    flow_run_now(brand=live_brand, flow=PRODUCTS, full=True)
    one = items(sandbox, "brightpearl", "products")[3]
    loopback.post(
        f"{sandbox.url}/_sandbox/brightpearl/products/{one['id']}", json={"name": "Renamed"}
    ).raise_for_status()
    run = flow_run_now(brand=live_brand, flow=PRODUCTS)
    assert run.state == RunState.SUCCEEDED, run.error or run.log
    assert run.read == 1 and run.written == 1 and run.created == 0
    assert product2(sandbox)[one["identity"]["sku"]]["Name"] == "Renamed"


def test_a_sku_on_two_product2_records_is_a_ticket_and_the_rest_are_written(sandbox, live_brand):
    source = items(sandbox, "brightpearl", "products")
    doubled = source[5]["identity"]["sku"]
    for name in ("Imported once", "Imported twice"):
        loopback.post(
            f"{sandbox.url}/_sandbox/salesforce/records",
            json={"type": "Product2", "fields": {SKU: doubled, "Name": name}},
        ).raise_for_status()
    run = flow_run_now(brand=live_brand, flow=PRODUCTS, full=True)
    assert run.state == RunState.PARTIAL, run.error or run.log
    assert run.failed == 1 and run.created == len(source) - 1
    state = RecordState.objects.get(brand=live_brand, flow=PRODUCTS, source_id=str(source[5]["id"]))
    assert state.status == RecordStatus.FAILED
    ticket = Ticket.objects.get(
        brand=live_brand, type__code="salesforce_multiple_matches", status__in=OPEN_STATUSES
    )
    assert doubled in ticket.title and len(ticket.snapshot["candidates"]) == 2
    # Salesforce wrote neither of the two: nothing was guessed.
    names = {r["Name"] for r in items(sandbox, "salesforce", "Product2") if r[SKU] == doubled}
    assert names == {"Imported once", "Imported twice"}


def test_a_key_field_salesforce_cannot_upsert_by_stops_the_run_in_plain_words(sandbox, live_brand):
    sf_settings(live_brand, product_key_field="ProductCode")
    run = flow_run_now(brand=live_brand, flow=PRODUCTS, full=True)
    assert run.state == RunState.FAILED
    assert "Product SKU field" in run.error and "ProductCode" in run.error
    assert not items(sandbox, "salesforce", "Product2")


def test_stock_sums_the_chosen_warehouses_and_sends_only_differences(sandbox, live_brand):
    sf_settings(live_brand, stock_warehouses="1, 2", stock_field="AvailableStock__c")
    run = flow_run_now(brand=live_brand, flow=STOCK, full=True)
    assert run.state == RunState.SUCCEEDED, run.error or run.log
    levels = brightpearl_on_hand(sandbox)
    # Stock-tracked products (the seed's gift wrap has no stock, so no figure).
    products = [p for p in items(sandbox, "brightpearl", "products") if p["id"] in levels]
    made = product2(sandbox)
    for product in products:
        wanted = sum(levels[product["id"]].values())
        assert made[product["identity"]["sku"]]["AvailableStock__c"] == wanted
    calls = patches(sandbox)
    assert calls == -(-len(products) // 200)

    # Warehouse 1 only now; one product's stock moves there, another's at warehouse 2.
    sf_settings(live_brand, stock_warehouses="1")
    first, second = products[0], products[1]
    on_hand = levels[first["id"]][1]
    set_stock(sandbox, first["id"], 1, on_hand + 5)
    set_stock(sandbox, second["id"], 2, 99)
    scoped = flow_run_now(
        brand=live_brand,
        flow=STOCK,
        scope=[str(first["id"]), str(second["id"])],
        trigger="webhook",
    )
    assert scoped.state == RunState.SUCCEEDED, scoped.error or scoped.log
    made = product2(sandbox)
    assert made[first["identity"]["sku"]]["AvailableStock__c"] == on_hand + 5
    assert made[second["identity"]["sku"]]["AvailableStock__c"] == levels[second["id"]][1]
    assert patches(sandbox) == calls + 1
    again = flow_run_now(brand=live_brand, flow=STOCK, scope=[str(first["id"])])
    assert again.written == 0 and patches(sandbox) == calls + 1


def test_unreadable_warehouses_stop_the_stock_run_in_plain_words(sandbox, live_brand):
    sf_settings(live_brand, stock_warehouses="Leeds")
    run = flow_run_now(brand=live_brand, flow=STOCK, full=True)
    assert run.state == RunState.FAILED and "Warehouses for stock" in run.error


def test_two_brightpearl_products_with_one_sku_the_second_waits_with_a_ticket(sandbox, live_brand):
    source = items(sandbox, "brightpearl", "products")
    first, second = source[0], source[9]
    sku = first["identity"]["sku"]
    loopback.post(
        f"{sandbox.url}/_sandbox/brightpearl/products/{second['id']}", json={"sku": sku}
    ).raise_for_status()
    run = flow_run_now(brand=live_brand, flow=PRODUCTS, full=True)
    assert run.state == RunState.PARTIAL, run.error or run.log
    assert run.failed == 1 and run.created == len(source) - 1
    ticket = Ticket.objects.get(brand=live_brand, status__in=OPEN_STATUSES)
    assert ticket.type.code == "rejected_by_target" and ticket.source_id == str(second["id"])
    assert "same SKU" in ticket.error_message
    made = product2(sandbox)
    assert made[sku]["Name"] == first["salesChannels"][0]["productName"]
    assert len(made) == len(source) - 1


def test_another_choice_of_warehouses_makes_the_next_sweep_read_every_product(sandbox, live_brand):
    flow_run_now(brand=live_brand, flow=STOCK, full=True)
    sf_settings(live_brand, stock_warehouses="2")
    sweep = flow_run_now(brand=live_brand, flow=STOCK)
    assert sweep.state == RunState.SUCCEEDED, sweep.error or sweep.log
    products = items(sandbox, "brightpearl", "products")
    levels = brightpearl_on_hand(sandbox)
    assert sweep.read == len(products)
    assert "warehouses changed" in sweep.log
    products = [p for p in products if p["id"] in levels]  # stock-tracked ones have a figure
    differ = [p for p in products if sum(levels[p["id"]].values()) != levels[p["id"]].get(2, 0)]
    assert differ and sweep.written == len(differ)
    made = product2(sandbox)
    for product in products:
        assert made[product["identity"]["sku"]]["AvailableStock__c"] == levels[product["id"]].get(
            2, 0
        )
    # The rules are kept: the sweep after reads only what changed.
    assert flow_run_now(brand=live_brand, flow=STOCK).read < len(products)

"""Credits on their Salesforce Orders, and amounts in another currency (issue 15).

- A sales order's credits are a field update on its Order: the amount credited and the
  credits' list, never the order's own fields; a credit whose Order is not in Salesforce yet
  waits for it with one ticket.
- An order goes in its own currency with its CurrencyIsoCode; a brand converting to one
  currency gets Brightpearl's rate of the order's day, written on the Order, kept on the
  record's link and state. Brightpearl's documented exchange-rate answer is replayed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from connectors.brightpearl.rates import conversion, rates_read
from connectors.models import Connection
from connectors.registry import connector_for
from exceptions.models import OPEN_STATUSES, Ticket
from syncs.flows.salesforce.credits_out import FLOW as CREDIT_FLOW
from syncs.flows.salesforce.orders_out import FLOW as ORDERS
from syncs.models import RecordLink, RecordState, RecordStatus
from syncs.record_detail import record_page
from syncs.services import flow_run_now
from tests.contract import scenarios  # noqa: F401  (first: it registers the Salesforce ones)
from tests.contract.salesforce_scenarios import (
    CREDITED,
    CREDITS,
    ORDER_FIELD,
    ROW_FIELD,
    SF_STATUSES,
    sf_accounts,
    sf_catalog,
)
from tests.contract.scenarios import items, value_maps

PAYLOADS = Path(__file__).parents[1] / "sandbox" / "payloads"
RATES = json.loads((PAYLOADS / "brightpearl_exchange_rate_get_response.json").read_text())
# The currency-search answer's documented columns (accounting/currency/search.html).
CURRENCY_SEARCH = {
    "response": {
        "results": [
            [1, "British Pound", "GBP", "£", "1.000000", True, "4900"],
            [2, "Euro", "EUR", "€", "1.083000", False, "4900"],
            [3, "US Dollar", "USD", "$", "1.090876", False, "4900"],
        ],
        "metaData": {
            "morePagesAvailable": False,
            "resultsAvailable": 3,
            "resultsReturned": 3,
            "firstResult": 1,
            "lastResult": 3,
            "columns": [
                {"name": n}
                for n in (
                    "id",
                    "title",
                    "code",
                    "symbol",
                    "exchangeRate",
                    "isDefault",
                    "exchangeRateVarianceNominalCode",
                )
            ],
        },
    }
}


@pytest.mark.django_db
def test_brightpearls_documented_rates_are_read_with_their_history(brand_a):
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/currency-search"):
            return httpx.Response(200, json=CURRENCY_SEARCH)
        assert request.url.path.endswith("/accounting-service/exchange-rate")
        return httpx.Response(200, json=RATES)

    connection = Connection.objects.create(
        brand=brand_a,
        system="brightpearl",
        base_url="https://euw1.brightpearlconnect.com",
        credentials={"app_ref": "acme_console", "account_token": "t"},
        settings={"account": "acme"},
    )
    with connector_for(connection, transport=httpx.MockTransport(answer)) as bp:
        rates = rates_read(bp)
    assert rates.base == "GBP"
    # EUR had 0.95 from 1970 and 1.083 from 14 June 2015: the day decides which is used.
    before = datetime(2015, 6, 1, tzinfo=UTC)
    after = datetime(2015, 7, 1, tzinfo=UTC)
    assert rates.at("EUR", before).rate == Decimal("0.95")
    assert rates.at("EUR", after).rate == Decimal("1.083")
    assert rates.at("GBP", after).rate == 1
    # 100 EUR in GBP (the base) on 1 July 2015: 100 / 1.083; in USD: * 1.090876.
    to_base = conversion(rates, "EUR", "GBP", after)
    assert to_base.factor == Decimal("0.923361")
    assert conversion(rates, "EUR", "USD", after).factor == Decimal("1.007272")
    assert to_base.record()["brightpearl_rates"].startswith("EUR 1.083 (2015-06-14T07:05:17")
    assert conversion(rates, "CHF", "GBP", after) is None  # no rate: never a guess


def orders_ready(sandbox, brand, **catalog) -> None:
    sf_accounts(brand)
    sf_catalog(sandbox, brand, **catalog)
    value_maps(brand, "bp_order_status_to_sf", SF_STATUSES)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_cache")
def test_credits_are_shown_on_their_order_and_wait_for_it(sandbox, live_brand):
    orders_ready(sandbox, live_brand)
    credits = items(sandbox, "brightpearl", "sales_credits")
    assert credits, "the seed has sales credits"
    early = flow_run_now(brand=live_brand, flow=CREDIT_FLOW, full=True)
    parents = {str(c["parentId"]) for c in credits}
    assert early.waiting == len(parents) and early.written == 0
    assert Ticket.objects.filter(
        brand=live_brand, type__code="salesforce_parent_missing", status__in=OPEN_STATUSES
    ).count() == len(parents)

    flow_run_now(brand=live_brand, flow=ORDERS, full=True)
    run = flow_run_now(brand=live_brand, flow=CREDIT_FLOW)
    assert run.written == len(parents), run.log
    orders = {o[ORDER_FIELD]: o for o in items(sandbox, "salesforce", "Order")}
    for parent in parents:
        mine = [c for c in credits if str(c["parentId"]) == parent]
        order = orders[parent]
        assert order[CREDITED] == float(sum(Decimal(c["total"]["total"]) for c in mine))
        for credit in mine:
            assert credit["ref"] in order[CREDITS]
        # The order's own fields are still the orders flow's.
        assert order["Status"] and order["AccountId"]
    assert not Ticket.objects.filter(
        brand=live_brand, type__code="salesforce_parent_missing", status__in=OPEN_STATUSES
    ).exists()
    again = flow_run_now(brand=live_brand, flow=CREDIT_FLOW, full=True)
    assert again.written == 0
    assert sandbox.duplicates("salesforce")["count"] == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_cache")
def test_an_order_in_another_currency_goes_with_its_currency(sandbox, live_brand):
    orders_ready(sandbox, live_brand, currencies=("GBP", "EUR"))
    order = next(o for o in items(sandbox, "brightpearl", "orders") if o["orderTypeCode"] == "SO")
    row = next(iter(order["orderRows"].values()))
    bp_conn = Connection.objects.get(brand=live_brand, system="brightpearl")
    with connector_for(bp_conn) as bp:
        euro_id = bp.create_sales_order(
            {
                "customer": {"id": order["parties"]["customer"]["contactId"]},
                "ref": "EU-1",
                "currency": {"code": "EUR"},
                "statusId": 2,
                "placedOn": "2026-11-02T10:00:00.000+00:00",
                "rows": [
                    {
                        "productId": row["productId"],
                        "sku": row["productSku"],
                        "name": "Euro line",
                        "quantity": 2,
                        "net": "30.00",
                        "tax": "6.00",
                    }
                ],
            }
        )
    run = flow_run_now(brand=live_brand, flow=ORDERS, scope=[str(euro_id)])
    assert run.created == 1, run.log
    sent = {o[ORDER_FIELD]: o for o in items(sandbox, "salesforce", "Order")}[str(euro_id)]
    assert sent["CurrencyIsoCode"] == "EUR"
    assert "Brightpearl_Exchange_Rate__c" not in sent  # nothing converted
    line = next(i for i in items(sandbox, "salesforce", "OrderItem") if i["OrderId"] == sent["Id"])
    assert line["UnitPrice"] == 15.0 and line[ROW_FIELD].startswith(f"{euro_id}-")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_cache")
def test_a_converting_brand_gets_brightpearls_rate_recorded(sandbox, live_brand):
    orders_ready(sandbox, live_brand, currencies=("EUR",))
    conn = Connection.objects.get(brand=live_brand, system="salesforce")
    conn.settings = {**conn.settings, "convert_currency": "EUR"}
    conn.save()
    order = next(o for o in items(sandbox, "brightpearl", "orders") if o["orderTypeCode"] == "SO")
    run = flow_run_now(brand=live_brand, flow=ORDERS, scope=[str(order["id"])])
    assert run.created == 1, run.log
    sent = {o[ORDER_FIELD]: o for o in items(sandbox, "salesforce", "Order")}[str(order["id"])]
    # The sandbox's Brightpearl: GBP is the base, EUR 1.17 since 1970.
    assert sent["CurrencyIsoCode"] == "EUR" and sent["Brightpearl_Exchange_Rate__c"] == 1.17
    lines = {i[ROW_FIELD]: i for i in items(sandbox, "salesforce", "OrderItem")}
    for row_id, row in order["orderRows"].items():
        quantity = Decimal(row["quantity"]["magnitude"])
        unit = Decimal(row["rowValue"]["rowNet"]["value"]) / quantity * Decimal("1.17")
        assert lines[f"{order['id']}-{row_id}"]["UnitPrice"] == float(round(unit, 2))
    # The rate used: on the record's state (its page) and on the Order's link.
    state = RecordState.objects.get(brand=live_brand, flow=ORDERS, source_id=str(order["id"]))
    assert state.status == RecordStatus.SYNCED
    assert state.last_pushed["exchange_rate"].startswith("1 GBP = 1.17 EUR, from Brightpearl's")
    link = RecordLink.objects.get(
        brand=live_brand, kind="order", system="salesforce", external_id=sent["Id"]
    )
    assert link.written["exchange_rate"]["to"] == "EUR"
    assert link.written["exchange_rate"]["factor"] == "1.170000"
    # The order's page says it, in words.
    page = record_page(brand=live_brand, entity=link.entity)
    [row] = [r for r in page.flows if r.flow == ORDERS]
    facts = dict(row.facts)
    assert facts["Exchange rate"].startswith("1 GBP = 1.17 EUR, from Brightpearl's rates")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_cache")
def test_credits_are_converted_at_the_rate_of_their_day_too(sandbox, live_brand):
    orders_ready(sandbox, live_brand, currencies=("EUR",))
    conn = Connection.objects.get(brand=live_brand, system="salesforce")
    conn.settings = {**conn.settings, "convert_currency": "EUR"}
    conn.save()
    flow_run_now(brand=live_brand, flow=ORDERS, full=True)
    run = flow_run_now(brand=live_brand, flow=CREDIT_FLOW, full=True)
    assert run.written and not run.waiting, run.log
    credit = items(sandbox, "brightpearl", "sales_credits")[0]
    parent = str(credit["parentId"])
    mine = [
        c for c in items(sandbox, "brightpearl", "sales_credits") if str(c["parentId"]) == parent
    ]
    euros = sum(
        (Decimal(c["total"]["total"]) * Decimal("1.17")).quantize(Decimal("0.01")) for c in mine
    )
    order = {o[ORDER_FIELD]: o for o in items(sandbox, "salesforce", "Order")}[parent]
    assert abs(Decimal(str(order[CREDITED])) - euros) <= Decimal("0.01") * len(mine)
    assert f"{credit['ref']}: " in order[CREDITS] and " EUR (" in order[CREDITS]
    state = RecordState.objects.get(brand=live_brand, flow=CREDIT_FLOW, source_id=parent)
    assert "1 GBP = 1.17 EUR" in state.last_pushed["exchange_rate"]

"""Customers → Salesforce accounts (issue 15): each Brightpearl customer an Account and its
Contact in the sandbox org, upserted by the Brightpearl id 200 a call, the customer group as
the Account's Type, addresses in Salesforce's fields, links kept; a Brightpearl id on several
Salesforce records is a ticket for ops listing them, never a guess."""

from __future__ import annotations

import pytest

from exceptions.models import OPEN_STATUSES, Ticket
from syncs.flows.salesforce.accounts import FLOW
from syncs.models import RecordLink, RecordState, RecordStatus, RunState
from syncs.services import flow_run_now
from tests.contract.scenarios import SF_GROUPS, items, value_maps
from tests.fixtures import loopback

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_cache")]
FIELD = "Brightpearl_Contact_Id__c"


def by_id(sandbox, sobject: str) -> dict[str, dict]:
    return {r[FIELD]: r for r in items(sandbox, "salesforce", sobject)}


def customers(sandbox) -> list[dict]:
    return [
        c
        for c in items(sandbox, "brightpearl", "contacts")
        if (c.get("relationshipToAccount") or {}).get("isCustomer", True)
    ]


def test_each_customer_is_an_account_and_its_contact_200_a_call(sandbox, live_brand):
    value_maps(live_brand, "bp_customer_group", SF_GROUPS)
    run = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert run.state == RunState.SUCCEEDED, run.error or run.log
    source = customers(sandbox)
    accounts, contacts = by_id(sandbox, "Account"), by_id(sandbox, "Contact")
    assert len(accounts) == len(contacts) == len(source) == run.created
    one = source[0]
    account, contact = accounts[str(one["contactId"])], contacts[str(one["contactId"])]
    company = (one.get("organisation") or {}).get("name")
    assert account["Name"] == (company or f"{one['firstName']} {one['lastName']}")
    assert account["Type"] == SF_GROUPS[str(one["customerGroup"]["id"])]
    assert contact["AccountId"] == account["Id"] and contact["LastName"] == one["lastName"]
    # Addresses in Salesforce's fields: street lines, city, state, postcode, country.
    assert account["BillingCity"] and account["BillingPostalCode"]
    assert account["BillingCountry"] == "GB" and contact["MailingStreet"]
    # Links: the Account's and the Contact's Salesforce ids, for the way back.
    links = dict(
        RecordLink.objects.filter(brand=live_brand, system="salesforce", kind="account")
        .exclude(external_id="")
        .values_list("external_id", "written_by")
    )
    assert account["Id"] in links and links[account["Id"]] == FLOW
    assert RecordLink.objects.filter(
        brand=live_brand, system="salesforce", kind="contact", external_id=contact["Id"]
    ).exists()
    # 200 a call: two collection upserts (Account, Contact) per 200 customers.
    patches = sandbox.stats()["salesforce"]["by_method"].get("PATCH", 0)
    assert patches == 2 * -(-len(source) // 200)

    again = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert again.written == 0 and again.created == 0
    assert sandbox.stats()["salesforce"]["by_method"].get("PATCH", 0) == patches


def test_an_unmapped_customer_group_waits_with_a_ticket(sandbox, live_brand):
    value_maps(live_brand, "bp_customer_group", {"1": SF_GROUPS["1"]})
    flow_run_now(brand=live_brand, flow=FLOW, full=True)
    wholesale = {str(c["contactId"]) for c in customers(sandbox) if c["customerGroup"]["id"] == 2}
    assert wholesale, "the seed has wholesale customers"
    waiting = set(
        RecordState.objects.filter(
            brand=live_brand, flow=FLOW, status=RecordStatus.WAITING
        ).values_list("source_id", flat=True)
    )
    assert waiting == wholesale
    assert not wholesale & set(by_id(sandbox, "Account"))
    assert Ticket.objects.filter(
        brand=live_brand, type__code="unmapped_value", status__in=OPEN_STATUSES
    ).exists()


def test_an_id_on_two_salesforce_accounts_is_a_ticket_listing_them_and_nothing_is_written(
    sandbox, live_brand
):
    value_maps(live_brand, "bp_customer_group", SF_GROUPS)
    target = str(customers(sandbox)[0]["contactId"])
    for name in ("Imported twice", "Imported twice (2)"):
        loopback.post(
            f"{sandbox.url}/_sandbox/salesforce/records",
            json={"type": "Account", "fields": {FIELD: target, "Name": name}},
        ).raise_for_status()
    run = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert run.state in (RunState.SUCCEEDED, RunState.PARTIAL)
    ticket = Ticket.objects.get(
        brand=live_brand, type__code="salesforce_multiple_matches", source_id=target
    )
    dupes = [a["Id"] for a in items(sandbox, "salesforce", "Account") if a[FIELD] == target]
    assert sorted(ticket.snapshot["candidates"]) == sorted(dupes) and len(dupes) == 2
    assert {a["Name"] for a in items(sandbox, "salesforce", "Account") if a[FIELD] == target} == {
        "Imported twice",
        "Imported twice (2)",
    }, "Salesforce wrote neither"
    assert target not in by_id(sandbox, "Contact")
    state = RecordState.objects.get(brand=live_brand, flow=FLOW, source_id=target)
    assert state.status == RecordStatus.FAILED
    assert not Ticket.objects.filter(
        brand=live_brand, type__code="rejected_by_target", source_id=target
    ).exists()

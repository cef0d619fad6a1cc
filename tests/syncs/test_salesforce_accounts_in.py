"""Accounts and contacts, Salesforce → Brightpearl (issue 15): customers sales make in
Salesforce are created in Brightpearl once and stamped with their Brightpearl id; the field
Salesforce owns (the contact's mobile) goes to Brightpearl, a field Brightpearl owns does not
(a conflict Brightpearl wins, audited); the console's own writes coming back are echoes, both
ways."""

from __future__ import annotations

import pytest

from brands.models import AuditEvent
from console.demo_salesforce_in import ACCOUNT_TYPE_GROUPS as SF_TYPES
from console.demo_salesforce_in import EXTERNAL_ID_FIELD, NEW_CUSTOMERS, salesforce_scenes_stage
from syncs.flows.reading import when
from syncs.flows.salesforce.accounts import FLOW as ACCOUNTS
from syncs.flows.salesforce.accounts_in import FLOW
from syncs.models import RecordLink, RecordState, RunState
from syncs.services import flow_run_now
from syncs.watermarks import PollWatermark
from tests.contract.scenarios import SF_GROUPS, items, value_maps
from tests.fixtures import loopback

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_cache")]


def new_customers(sandbox) -> dict[str, dict]:
    """Brightpearl contacts with the e-mails of sales' new customers, by e-mail."""
    wanted = {
        f"{first}.{last}@{company.split()[0]}.example".lower(): company
        for company, first, last in NEW_CUSTOMERS
    }
    out = {}
    for c in items(sandbox, "brightpearl", "contacts"):
        email = ((c["communication"].get("emails") or {}).get("PRI") or {}).get("email", "")
        if email.lower() in wanted:
            out[email.lower()] = c
    return out


def edit(sandbox, sobject: str, record_id: str, **fields) -> None:
    """A sales rep changes a record in Salesforce."""
    loopback.patch(
        f"{sandbox.url}/_sandbox/salesforce/records/{sobject}/{record_id}",
        json={"account": "demo", "fields": fields},
    ).raise_for_status()


def test_customers_made_in_salesforce_are_created_once_and_stamped(sandbox, live_brand):
    salesforce_scenes_stage(sandbox.discovery()["sandbox"]["control"])
    value_maps(live_brand, "sf_account_type", SF_TYPES)
    as_read = items(sandbox, "salesforce", "Contact")
    run = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert run.state == RunState.SUCCEEDED, run.error or run.log
    made = new_customers(sandbox)
    assert len(made) == run.created == len(NEW_CUSTOMERS), run.log
    contacts = {c["Id"]: c for c in items(sandbox, "salesforce", "Contact")}
    accounts = {a["Id"]: a for a in items(sandbox, "salesforce", "Account")}
    for contact in contacts.values():
        email = contact["Email"].lower()
        bp = made[email]
        account = accounts[contact["AccountId"]]
        # As made in Salesforce: names, company, mobile, the type's customer group.
        assert (bp["firstName"], bp["lastName"]) == (contact["FirstName"], contact["LastName"])
        assert bp["organisation"]["name"] == account["Name"]
        assert bp["communication"]["telephones"]["MOB"] == contact["MobilePhone"]
        assert str(bp["customerGroup"]["id"]) == SF_TYPES[account["Type"]]
        # Stamped: the accounts flow upserts these same records by the Brightpearl id.
        assert account[EXTERNAL_ID_FIELD] == contact[EXTERNAL_ID_FIELD] == str(bp["contactId"])
        # The Salesforce id is in the record link, on the Brightpearl customer's entity.
        link = RecordLink.objects.get(
            brand=live_brand, kind="account", system="salesforce", external_id=account["Id"]
        )
        assert RecordLink.objects.get(
            brand=live_brand, kind="contact", system="brightpearl", entity=link.entity
        ).external_id == str(bp["contactId"])
    # Each object it polls has its own watermark: the newest change read of it.
    marks = dict(
        PollWatermark.objects.filter(brand=live_brand, flow=FLOW).values_list("sobject", "modstamp")
    )
    assert set(marks) == {"Account", "Contact"}
    # (as read: the Brightpearl ids stamped since are the console's own, read next time)
    assert marks["Contact"] == max(when(c["SystemModstamp"]) for c in as_read)
    # Again: nothing created twice, nothing written.
    again = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert again.created == 0 and again.written == 0, again.log
    assert sandbox.duplicates("brightpearl", created_after_seed=True)["count"] == 0
    # The accounts flow now meets them in Brightpearl: the console's own, not sent back.
    value_maps(live_brand, "bp_customer_group", SF_GROUPS)
    ids = [str(c["contactId"]) for c in made.values()]
    back = flow_run_now(brand=live_brand, flow=ACCOUNTS, scope=ids, trigger="webhook")
    assert back.echoes == len(ids) and back.written == 0, back.log
    # And what the accounts flow writes to Salesforce is not read back as a change.
    flow_run_now(brand=live_brand, flow=ACCOUNTS, full=True)
    echoes = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert echoes.written == 0 and echoes.created == 0, echoes.log
    assert echoes.echoes > 0


def test_salesforce_owns_the_mobile_and_brightpearl_the_rest(sandbox, live_brand):
    salesforce_scenes_stage(sandbox.discovery()["sandbox"]["control"])
    value_maps(live_brand, "sf_account_type", SF_TYPES)
    value_maps(live_brand, "bp_customer_group", SF_GROUPS)
    flow_run_now(brand=live_brand, flow=FLOW, full=True)
    flow_run_now(brand=live_brand, flow=ACCOUNTS, full=True)
    # An Account and Contact the accounts flow wrote (a Brightpearl customer's).
    written = set(
        RecordLink.objects.filter(
            brand=live_brand, kind="account", system="salesforce", written_by=ACCOUNTS
        ).values_list("external_id", flat=True)
    )
    contact = next(c for c in items(sandbox, "salesforce", "Contact") if c["AccountId"] in written)
    account = next(
        a for a in items(sandbox, "salesforce", "Account") if a["Id"] == contact["AccountId"]
    )
    bp_id = contact[EXTERNAL_ID_FIELD]
    # A rep changes the mobile (Salesforce's) and the last name (Brightpearl's).
    edit(sandbox, "Contact", contact["Id"], MobilePhone="07700 911111", LastName="Changed")
    run = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert run.written == 1, run.log
    bp = next(c for c in items(sandbox, "brightpearl", "contacts") if str(c["contactId"]) == bp_id)
    assert bp["communication"]["telephones"]["MOB"] == "07700 911111"
    assert bp["lastName"] != "Changed"
    # The conflict is audited, and the accounts flow is told to send Brightpearl's name back.
    conflict = AuditEvent.objects.filter(action="conflict.owner_wins").latest("pk")
    assert "Contact.LastName" in conflict.summary and account["Id"] in conflict.summary
    assert (
        RecordState.objects.get(brand=live_brand, flow=ACCOUNTS, source_id=bp_id).content_hash == ""
    )
    resent = flow_run_now(brand=live_brand, flow=ACCOUNTS, scope=[bp_id], trigger="webhook")
    assert resent.written == 1, resent.log
    now = next(c for c in items(sandbox, "salesforce", "Contact") if c["Id"] == contact["Id"])
    assert now["LastName"] == bp["lastName"]


def test_an_unmapped_account_type_waits_with_a_ticket(sandbox, live_brand):
    salesforce_scenes_stage(sandbox.discovery()["sandbox"]["control"])
    value_maps(live_brand, "sf_account_type", {"Customer - Direct": "1"})
    run = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    channel = sum(1 for n in range(len(NEW_CUSTOMERS)) if n % 2 == 0)
    assert run.waiting == channel and run.created == len(NEW_CUSTOMERS) - channel, run.log
    # The customer groups map read the other way, where one group has the type, lets them go.
    value_maps(live_brand, "bp_customer_group", {"2": "Customer - Channel"})
    later = flow_run_now(brand=live_brand, flow=FLOW)
    assert later.created == channel, later.log

"""Contract scenarios of the Salesforce → Brightpearl flows (registered in scenarios.py)."""

from __future__ import annotations

from console.demo_salesforce_in import ACCOUNT_TYPE_GROUPS as SF_TYPES
from console.demo_salesforce_in import NEW_CUSTOMERS, salesforce_scenes_stage
from tests.contract.salesforce_scenarios import SalesforceOrders
from tests.contract.scenarios import Scenario, Snapshot, _unmap_value, items, value_maps
from tests.fixtures import loopback


def salesforce_order_ids(sandbox) -> set[str]:
    return {o["Id"] for o in items(sandbox, "salesforce", "Order")}


class SalesforceOrdersIn(Scenario):
    flow = "salesforce_orders_in"
    target = "brightpearl"
    write_methods = ("POST",)

    def prepare(self, brand, sandbox) -> None:
        # Sales' orders in Salesforce: two post, a draft, an unknown product and a new account
        # wait (the last two with tickets) in every run, the clean one too.
        salesforce_scenes_stage(sandbox.discovery()["sandbox"]["control"])
        # What Brightpearl → Salesforce orders needs to run (a price book, accounts linked,
        # statuses mapped), so the echo case meets the orders posted here coming back.
        SalesforceOrders().prepare(brand, sandbox)

    def snapshot(self, sandbox) -> Snapshot:
        ours = salesforce_order_ids(sandbox)
        return {
            o["externalRef"]: (
                o["parties"]["customer"]["contactId"],
                tuple(
                    sorted(
                        (int(r["productId"]), str(r["quantity"]["magnitude"]))
                        for r in (o.get("orderRows") or {}).values()
                    )
                ),
            )
            for o in items(sandbox, "brightpearl", "orders", type=1)
            if o.get("externalRef") in ours
        }

    def duplicates(self, sandbox) -> int:
        """Brightpearl orders made twice for one Salesforce order (its Id, the external ref)."""
        return sandbox.duplicates("brightpearl", created_after_seed=True)["count"]


class SalesforceAccountsIn(Scenario):
    flow = "salesforce_accounts_in"
    target = "brightpearl"
    write_methods = ("POST", "PATCH")

    def prepare(self, brand, sandbox) -> None:
        salesforce_scenes_stage(sandbox.discovery()["sandbox"]["control"])
        value_maps(brand, "sf_account_type", SF_TYPES)

    def snapshot(self, sandbox) -> Snapshot:
        """The Brightpearl customers of sales' new Salesforce customers, by e-mail."""
        wanted = {
            f"{first}.{last}@{company.split()[0]}.example".lower()
            for company, first, last in NEW_CUSTOMERS
        }
        out: Snapshot = {}
        for c in items(sandbox, "brightpearl", "contacts"):
            email = ((c["communication"].get("emails") or {}).get("PRI") or {}).get("email", "")
            if email.lower() in wanted:
                out[email.lower()] = (
                    c["firstName"],
                    c["lastName"],
                    (c.get("organisation") or {}).get("name", ""),
                    (c["communication"].get("telephones") or {}).get("MOB", ""),
                    c["customerGroup"]["id"],
                )
        return out

    def duplicates(self, sandbox) -> int:
        """Brightpearl contacts made twice for one person (their e-mail)."""
        return sandbox.duplicates("brightpearl", created_after_seed=True)["count"]

    def change(self, sandbox, source_id: str) -> bool:
        """A sales rep changes the mobile of the Account's contact (Salesforce owns it)."""
        contact = next(
            c for c in items(sandbox, "salesforce", "Contact") if c.get("AccountId") == source_id
        )
        loopback.patch(
            f"{sandbox.url}/_sandbox/salesforce/records/Contact/{contact['Id']}",
            json={"account": "demo", "fields": {"MobilePhone": "07700 955555"}},
        ).raise_for_status()
        return True

    def unmap(self, brand, sandbox):
        return _unmap_value(brand, "sf_account_type", "Customer - Channel")


SCENARIOS = (SalesforceOrdersIn(), SalesforceAccountsIn())

"""Contract scenarios of the Salesforce → Brightpearl flows (registered in scenarios.py)."""

from __future__ import annotations

from console.demo_salesforce import salesforce_scenes_stage
from tests.contract.scenarios import Scenario, Snapshot, items


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


SALESFORCE_IN = (SalesforceOrdersIn(),)

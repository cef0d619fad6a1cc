"""The Salesforce order flows' scenarios for the flow contract suite (listed in scenarios.py),
and the org set-up they share with the flows' own tests: a price book with every seeded SKU
as a Product2 and an active PricebookEntry, each made through the sandbox's control API (the
console never writes products in these flows)."""

from __future__ import annotations

from connectors.models import Connection
from syncs.models import RecordLink
from tests.contract.scenarios import (
    SF_GROUPS,
    Scenario,
    Snapshot,
    _bp_status,
    _set_bp_status,
    _unmap_value,
    items,
    value_maps,
)
from tests.fixtures import loopback

ORDER_FIELD = "Brightpearl_Order_Id__c"
ROW_FIELD = "Brightpearl_Row_Id__c"
TRACKING = "Brightpearl_Tracking__c"
CREDITED = "Brightpearl_Credited__c"
CREDITS = "Brightpearl_Credits__c"
# Brightpearl's seeded sales-order statuses → the org's Order.Status picklist (its standard
# Draft and Activated, and values an org adds, as the seed page's "Partially Fulfilled").
SF_STATUSES = {
    "1": "Draft", "2": "Draft", "3": "Activated", "20": "Activated", "21": "Activated",
    "22": "Partially Fulfilled", "23": "Fulfilled", "4": "Fulfilled", "26": "Fulfilled",
    "5": "Cancelled", "24": "Draft", "25": "Activated",
}  # fmt: skip


def sf_insert(sandbox, sobject: str, fields: dict) -> dict:
    reply = loopback.post(
        f"{sandbox.url}/_sandbox/salesforce/records", json={"type": sobject, "fields": fields}
    )
    reply.raise_for_status()
    return reply.json()


def sf_catalog(sandbox, brand, *, currencies=("GBP",), without: tuple[str, ...] = ()) -> str:
    """The brand's price book, with a Product2 (Product Code = SKU) and an active entry per
    currency for every Brightpearl product but those in `without`; set on its connection."""
    books = [b for b in items(sandbox, "salesforce", "Pricebook2") if b.get("Name") == "Retail"]
    book = (
        books[0]["Id"]
        if books
        else sf_insert(sandbox, "Pricebook2", {"Name": "Retail", "IsActive": True})["Id"]
    )
    have = {p.get("ProductCode") for p in items(sandbox, "salesforce", "Product2")}
    for product in items(sandbox, "brightpearl", "products"):
        sku = (product.get("identity") or {}).get("sku") or product.get("sku")
        if not sku or sku in have or sku in without:
            continue
        # Product Code (how the orders flow finds it) and the products flow's key field.
        fields = {"Name": sku, "ProductCode": sku, "Brightpearl_SKU__c": sku, "IsActive": True}
        made = sf_insert(sandbox, "Product2", fields)
        for currency in currencies:
            sf_insert(
                sandbox,
                "PricebookEntry",
                {
                    "Pricebook2Id": book,
                    "Product2Id": made["Id"],
                    "CurrencyIsoCode": currency,
                    "UnitPrice": 10.0,
                    "IsActive": True,
                },
            )
    conn = Connection.objects.get(brand=brand, system="salesforce")
    conn.settings = {**conn.settings, "pricebook_id": book}
    conn.save()
    return book


def sf_accounts(brand) -> None:
    """Every customer's Account in Salesforce (the accounts flow), once per baseline."""
    from syncs.services import flow_run_now

    value_maps(brand, "bp_customer_group", SF_GROUPS)
    if not RecordLink.objects.filter(brand=brand, kind="account", system="salesforce").exists():
        flow_run_now(brand=brand, flow="salesforce_accounts", full=True)


class SalesforceOrders(Scenario):
    flow = "salesforce_orders"
    target = "salesforce"
    write_methods = ("PATCH",)

    def prepare(self, brand, sandbox) -> None:
        sf_accounts(brand)
        sf_catalog(sandbox, brand)
        value_maps(brand, "bp_order_status_to_sf", SF_STATUSES)

    def snapshot(self, sandbox) -> Snapshot:
        lines: dict[str, list] = {}
        for item in items(sandbox, "salesforce", "OrderItem"):
            lines.setdefault(item.get("OrderId"), []).append(
                (item[ROW_FIELD], item.get("Quantity"), item.get("UnitPrice"))
            )
        accounts = {
            a["Id"]: a.get("Brightpearl_Contact_Id__c")
            for a in items(sandbox, "salesforce", "Account")
        }
        return {
            o[ORDER_FIELD]: (
                o.get("Status"),
                accounts.get(o.get("AccountId")),
                o.get("CurrencyIsoCode"),
                o.get(TRACKING),
                tuple(sorted(lines.get(o["Id"], []))),
            )
            for o in items(sandbox, "salesforce", "Order")
            if o.get(ORDER_FIELD)
        }

    def duplicates(self, sandbox) -> int:
        """Orders or order products sharing a Brightpearl id: made twice."""
        return sandbox.duplicates("salesforce")["count"]

    def change(self, sandbox, source_id: str) -> bool:
        """The back office ships it, or moves it back: another Salesforce status."""
        _set_bp_status(sandbox, source_id, 21 if _bp_status(sandbox, source_id) == 23 else 23)
        return True

    def unmap(self, brand, sandbox):
        return _unmap_value(brand, "bp_order_status_to_sf", "4")  # Invoiced


class SalesforceCredits(Scenario):
    flow = "salesforce_credits"
    target = "salesforce"
    write_methods = ("PATCH",)

    def prepare(self, brand, sandbox) -> None:
        from syncs.services import flow_run_now

        SalesforceOrders().prepare(brand, sandbox)
        if not RecordLink.objects.filter(brand=brand, kind="order", system="salesforce").exists():
            flow_run_now(brand=brand, flow="salesforce_orders", full=True)

    def snapshot(self, sandbox) -> Snapshot:
        return {
            o[ORDER_FIELD]: (o.get(CREDITED), o.get(CREDITS))
            for o in items(sandbox, "salesforce", "Order")
            if o.get(ORDER_FIELD) and o.get(CREDITED) is not None
        }

    def duplicates(self, sandbox) -> int:
        return sandbox.duplicates("salesforce")["count"]


SCENARIOS = (SalesforceOrders(), SalesforceCredits())

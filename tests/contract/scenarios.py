"""What the flow contract suite needs to know of each flow: how to read its target back.

Every registered flow must have a scenario here; the suite fails for a flow without one, so
a new flow is held to the contract from the day it is registered. A scenario only reads the
sandbox (and, for `unmap`, changes a mapping); the suite does the rest, the same way for
every flow.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

from syncs.models import RecordLink, StatusMapping, ValueMap
from tests.fixtures import loopback

Snapshot = dict[str, Any]


def items(sandbox, vendor: str, collection: str, **params) -> list[dict]:
    return sandbox.state(vendor, collection, limit=100_000, **params)["items"]


class Scenario:
    flow: str
    # The vendor the flow writes to, for the sandbox's faults and request counts.
    target: str
    # The HTTP methods that write to the target.
    write_methods: tuple[str, ...] = ("POST", "PUT", "PATCH")

    def prepare(self, brand, sandbox) -> None:
        """What the brand needs before the flow runs (its value maps, records to act on)."""

    def snapshot(self, sandbox) -> Snapshot:
        """What the target holds of this flow's records: {natural key: what matters}."""
        raise NotImplementedError

    def duplicates(self, sandbox) -> int:
        """Target records made more than once per natural key."""
        return 0

    def repeated(self, sandbox) -> int:
        """One-off notifications pushed more than once (only for flows that send them)."""
        return 0

    def unmap(self, brand, sandbox) -> Callable[[], None] | None:
        """Take away a mapping some of this flow's records need; return what puts it back.
        None: the flow translates no value that could be missing (the suite checks it)."""
        return None

    def change(self, sandbox, source_id: str) -> bool:
        """Change this source record as someone would (so that the target must change too);
        False: the flow sends nothing new for a change the sandbox can make to it (a
        one-off notification, a create-only flow). The race case runs either way."""
        return False


def _set_bp_status(sandbox, order_id: str, status_id: int) -> None:
    loopback.post(
        f"{sandbox.url}/_sandbox/brightpearl/orders/{order_id}/status",
        json={"statusId": status_id},
    ).raise_for_status()


def _bp_status(sandbox, order_id: str) -> int:
    order = items(sandbox, "brightpearl", "orders", id=order_id)[0]
    return int(order["orderStatus"]["orderStatusId"])


def _unmap_status(brand, name: str) -> Callable[[], None]:
    mapping = StatusMapping.objects.get(brand=brand, bp_status_name=name)
    values = {
        f.name: getattr(mapping, f.name)
        for f in StatusMapping._meta.fields
        if f.name not in ("id", "updated")
    }
    mapping.delete()
    return lambda: StatusMapping.objects.create(**values)


class OmetriaOrders(Scenario):
    target = "ometria"

    def snapshot(self, sandbox) -> Snapshot:
        return {
            o["id"]: (
                o.get("status"),
                o.get("is_valid"),
                o.get("grand_total"),
                (o.get("properties") or {}).get("lifecycle_stage"),
                tuple(
                    (line.get("product_id"), line.get("quantity_refunded", 0))
                    for line in o.get("lineitems") or []
                ),
            )
            for o in items(sandbox, "ometria", "orders")
        }


class OrderLifecycle(OmetriaOrders):
    flow = "order_lifecycle"

    def change(self, sandbox, source_id: str) -> bool:
        """To a status mapped to another Ometria status: a fraud hold (cancelled), or back."""
        fraud = int(sandbox.seed_facts()["demo"]["brightpearl"]["fraud_status_id"])
        _set_bp_status(sandbox, source_id, 2 if _bp_status(sandbox, source_id) == fraud else fraud)
        return True

    def unmap(self, brand, sandbox):
        return _unmap_status(brand, "Invoiced")


class Refunds(OmetriaOrders):
    flow = "refunds"

    def unmap(self, brand, sandbox):
        # A credit's order in a status with no mapping: the credit waits with it.
        return _unmap_status(brand, "Invoiced")


class Customers(Scenario):
    flow = "customers"
    target = "ometria"

    def change(self, sandbox, source_id: str) -> bool:
        loopback.post(
            f"{sandbox.url}/_sandbox/brightpearl/contacts/{source_id}",
            json={"firstName": "Renamed"},
        ).raise_for_status()
        return True

    def snapshot(self, sandbox) -> Snapshot:
        return {
            c["id"]: (
                c.get("email"),
                c.get("firstname"),
                repr(sorted((c.get("properties") or {}).items())),
            )
            for c in items(sandbox, "ometria", "contacts")
        }


class Shipments(Scenario):
    flow = "shipments"
    target = "ometria"

    def snapshot(self, sandbox) -> Snapshot:
        return {
            e["id"]: (e.get("event_type"), (e.get("properties") or {}).get("order_id"))
            for e in items(sandbox, "ometria", "custom_events")
        }

    def repeated(self, sandbox) -> int:
        """Shipment events pushed more than once (Ometria keeps one event per id, but its
        docs do not say a repeated id is ignored: a second push may mail the customer again).
        A one-off notification's repeats must stay within what the console knew to be in
        doubt, and it counts each one as resent."""
        groups = sandbox.duplicates("ometria")["groups"]
        return sum(
            len(g["ids"]) - 1
            for g in groups
            if g["collection"] == "repeated_events" and str(g["key"]).startswith("gon-")
        )

    def unmap(self, brand, sandbox):
        # A shipped note whose order is in a status with no mapping waits for it.
        return _unmap_status(brand, "Invoiced")


# BigCommerce ↔ Brightpearl ------------------------------------------------------------------
BC_TO_BP = {str(s): "2" for s in range(1, 15)}  # every storefront status → "New web order"
BP_TO_BC = {
    "1": "1", "2": "11", "3": "11", "20": "7", "21": "9", "22": "3", "23": "2",
    "4": "10", "26": "10", "5": "5", "24": "12", "25": "11",
}  # fmt: skip


def value_maps(brand, kind: str, values: dict[str, str]) -> None:
    for source, target in values.items():
        ValueMap.objects.update_or_create(
            brand=brand, kind=kind, source_value=source, defaults={"target_value": target}
        )


def _unmap_value(brand, kind: str, source: str) -> Callable[[], None]:
    mapping = ValueMap.objects.get(brand=brand, kind=kind, source_value=source)
    target = mapping.target_value
    mapping.delete()
    return lambda: value_maps(brand, kind, {source: target})


class StorefrontOrders(Scenario):
    flow = "storefront_orders"
    target = "brightpearl"
    write_methods = ("POST",)

    def prepare(self, brand, sandbox) -> None:
        value_maps(brand, "bc_order_status", BC_TO_BP)

    def snapshot(self, sandbox) -> Snapshot:
        return {
            o["externalRef"]: (
                o["orderStatus"]["orderStatusId"],
                (o.get("parties") or {}).get("customer", {}).get("email"),
                tuple(
                    sorted(
                        (r.get("productId"), (r.get("quantity") or {}).get("magnitude"))
                        for r in (o.get("orderRows") or {}).values()
                    )
                ),
            )
            for o in items(sandbox, "brightpearl", "orders", type=1)
            if o.get("externalRef")
        }

    def duplicates(self, sandbox) -> int:
        """Sales orders sharing an external ref, contacts sharing an e-mail: made by the run."""
        return sandbox.duplicates("brightpearl", created_after_seed=True)["count"]

    def unmap(self, brand, sandbox):
        return _unmap_value(brand, "bc_order_status", "11")  # Awaiting Fulfillment


class OrderStatusBack(Scenario):
    flow = "bigcommerce_order_status"
    target = "bigcommerce"
    write_methods = ("PUT",)

    def prepare(self, brand, sandbox) -> None:
        from syncs.services import flow_run_now

        StorefrontOrders().prepare(brand, sandbox)
        value_maps(brand, "bp_order_status_to_bc", BP_TO_BC)
        if not RecordLink.objects.filter(brand=brand, system="bigcommerce").exists():
            flow_run_now(brand=brand, flow="storefront_orders", full=True)
            # The back office moves a few of the posted orders on.
            posted = sorted(
                RecordLink.objects.filter(
                    brand=brand, kind="order", system="brightpearl", written_by="storefront_orders"
                ).values_list("external_id", flat=True),
                key=int,
            )
            for n, order_id in enumerate(posted[:6]):
                loopback.post(
                    f"{sandbox.url}/_sandbox/brightpearl/orders/{order_id}/status",
                    json={"statusId": (21, 23, 5)[n % 3]},
                ).raise_for_status()

    def snapshot(self, sandbox) -> Snapshot:
        return {str(o["id"]): o.get("status_id") for o in items(sandbox, "bigcommerce", "orders")}

    def change(self, sandbox, source_id: str) -> bool:
        """The back office moves the posted order to a status with another storefront status."""
        now = BP_TO_BC.get(str(_bp_status(sandbox, source_id)))
        _set_bp_status(sandbox, source_id, next(s for s in (21, 23, 5) if BP_TO_BC[str(s)] != now))
        return True

    def unmap(self, brand, sandbox):
        return _unmap_value(brand, "bp_order_status_to_bc", "21")  # Ready to ship


class StockOut(Scenario):
    flow = "bigcommerce_stock"
    target = "bigcommerce"
    write_methods = ("PUT",)

    def prepare(self, brand, sandbox) -> None:
        value_maps(brand, "bp_warehouse", {"1": "1", "2": "1"})

    def snapshot(self, sandbox) -> Snapshot:
        return {
            f"{i['sku']}@{i['location_id']}": i["quantity"]
            for i in items(sandbox, "bigcommerce", "inventory")
        }

    def change(self, sandbox, source_id: str) -> bool:
        """Goods in at the first warehouse: the storefront must show more."""
        levels = items(sandbox, "brightpearl", "availability", id=source_id)[0]["warehouses"]
        on_hand = int((levels.get("1") or {}).get("onHand") or 0)
        loopback.post(
            f"{sandbox.url}/_sandbox/brightpearl/products/{source_id}/stock",
            json={"warehouseId": 1, "onHand": on_hand + 7},
        ).raise_for_status()
        return True

    def unmap(self, brand, sandbox):
        return _unmap_value(brand, "bp_warehouse", "2")


def _storefront_posted(brand, sandbox) -> None:
    """The storefront's orders posted (or linked) to Brightpearl, once per baseline."""
    from syncs.services import flow_run_now

    StorefrontOrders().prepare(brand, sandbox)
    if not RecordLink.objects.filter(brand=brand, kind="order", system="bigcommerce").exists():
        flow_run_now(brand=brand, flow="storefront_orders", full=True)


class ShipmentsToStorefront(Scenario):
    flow = "bigcommerce_shipments"
    target = "bigcommerce"
    write_methods = ("POST",)

    def prepare(self, brand, sandbox) -> None:
        _storefront_posted(brand, sandbox)
        value_maps(brand, "bp_shipping_method", {"1": "royalmail"})

    def snapshot(self, sandbox) -> Snapshot:
        return {
            s["comments"]: (
                s["order_id"],
                s["tracking_number"],
                s["shipping_provider"],
                tuple(sorted((i["order_product_id"], i["quantity"]) for i in s["items"])),
            )
            for s in items(sandbox, "bigcommerce", "shipments")
        }

    def duplicates(self, sandbox) -> int:
        """Shipments made twice for one goods-out note (its mark in the comments)."""
        marks = [s["comments"] for s in items(sandbox, "bigcommerce", "shipments")]
        return len(marks) - len(set(marks))

    def unmap(self, brand, sandbox):
        return _unmap_value(brand, "bp_shipping_method", "1")


class StorefrontRefunds(Scenario):
    flow = "bigcommerce_refunds"
    target = "brightpearl"
    write_methods = ("POST",)

    def prepare(self, brand, sandbox) -> None:
        _storefront_posted(brand, sandbox)
        if items(sandbox, "bigcommerce", "refunds"):
            return
        # Refunds on orders Brightpearl has invoiced, and on two the console posted itself
        # (not invoiced: they wait, blocked, in every run).
        linked = list(sandbox.seed_facts()["demo"]["bigcommerce"]["linked_orders"])[:5]
        posted = [
            str(o["id"])
            for o in items(sandbox, "bigcommerce", "orders")
            if str(o["id"]) not in sandbox.seed_facts()["demo"]["bigcommerce"]["linked_orders"]
        ][-2:]
        for order_id in linked + posted:
            loopback.post(
                f"{sandbox.url}/_sandbox/bigcommerce/orders/{order_id}/refund", json={}
            ).raise_for_status()

    def snapshot(self, sandbox) -> Snapshot:
        return {
            c["externalRef"]: (int(c["parentId"]), len(c.get("rows") or {}))
            for c in items(sandbox, "brightpearl", "sales_credits")
            if str(c.get("externalRef") or "").startswith("bc-refund-")
        }

    def duplicates(self, sandbox) -> int:
        return sandbox.duplicates("brightpearl", created_after_seed=True)["count"]


class StorefrontPayments(Scenario):
    flow = "bigcommerce_payments"
    target = "brightpearl"
    write_methods = ("POST",)

    def prepare(self, brand, sandbox) -> None:
        _storefront_posted(brand, sandbox)
        for method in ("Stripe", "PayPal"):  # the demo's Klarna stays unmapped: it waits
            ValueMap.objects.update_or_create(
                brand=brand,
                kind="bc_payment_method",
                source_value=method,
                defaults={"target_value": method.upper(), "extra": {"nominal_code": "1220"}},
            )

    def snapshot(self, sandbox) -> Snapshot:
        return {
            p["transactionRef"]: (p["orderId"], p["paymentMethodCode"], p["amountPaid"])
            for p in items(sandbox, "brightpearl", "customer_payments")
        }

    def duplicates(self, sandbox) -> int:
        return sandbox.duplicates("brightpearl", created_after_seed=True)["count"]

    def unmap(self, brand, sandbox):
        return _unmap_value_extra(brand, "bc_payment_method", "Stripe")


def _unmap_value_extra(brand, kind: str, source: str) -> Callable[[], None]:
    mapping = ValueMap.objects.get(brand=brand, kind=kind, source_value=source)
    target, extra = mapping.target_value, mapping.extra
    mapping.delete()
    return lambda: ValueMap.objects.update_or_create(
        brand=brand,
        kind=kind,
        source_value=source,
        defaults={"target_value": target, "extra": extra},
    )


class StorefrontCancellations(Scenario):
    flow = "bigcommerce_cancellations"
    target = "brightpearl"
    write_methods = ("PUT",)

    def prepare(self, brand, sandbox) -> None:
        _storefront_posted(brand, sandbox)
        value_maps(brand, "bc_cancellation", {"5": "5"})
        orders = items(sandbox, "bigcommerce", "orders")
        if any(o["status_id"] == 5 for o in orders):
            return
        # Three the console posted and one Brightpearl held already are cancelled in the shop.
        linked = sandbox.seed_facts()["demo"]["bigcommerce"]["linked_orders"]
        posted = [str(o["id"]) for o in orders if str(o["id"]) not in linked][:3]
        for order_id in [*posted, next(iter(linked))]:
            loopback.post(
                f"{sandbox.url}/_sandbox/bigcommerce/orders/{order_id}/status",
                json={"status_id": 5},
            ).raise_for_status()

    def snapshot(self, sandbox) -> Snapshot:
        return {
            o["externalRef"]: o["orderStatus"]["orderStatusId"]
            for o in items(sandbox, "brightpearl", "orders", type=1)
            if o.get("externalRef")
        }

    def unmap(self, brand, sandbox):
        return _unmap_value(brand, "bc_cancellation", "5")


# Salesforce ↔ Brightpearl ------------------------------------------------------------------
SF_GROUPS = {"1": "Customer - Direct", "2": "Customer - Channel"}  # retail, wholesale
SF_FIELD = "Brightpearl_Contact_Id__c"


class SalesforceAccounts(Scenario):
    flow = "salesforce_accounts"
    target = "salesforce"
    write_methods = ("PATCH",)

    def prepare(self, brand, sandbox) -> None:
        value_maps(brand, "bp_customer_group", SF_GROUPS)

    def snapshot(self, sandbox) -> Snapshot:
        accounts = {a["Id"]: a for a in items(sandbox, "salesforce", "Account")}
        return {
            c[SF_FIELD]: (
                c.get("FirstName"),
                c.get("LastName"),
                c.get("Email"),
                accounts.get(c.get("AccountId"), {}).get(SF_FIELD),
                accounts.get(c.get("AccountId"), {}).get("Name"),
                accounts.get(c.get("AccountId"), {}).get("Type"),
                accounts.get(c.get("AccountId"), {}).get("BillingPostalCode"),
            )
            for c in items(sandbox, "salesforce", "Contact")
        }

    def duplicates(self, sandbox) -> int:
        """Accounts or Contacts sharing a Brightpearl id: made twice."""
        return sandbox.duplicates("salesforce")["count"]

    def change(self, sandbox, source_id: str) -> bool:
        Customers().change(sandbox, source_id)
        return True

    def unmap(self, brand, sandbox):
        return _unmap_value(brand, "bp_customer_group", "2")  # wholesale


SCENARIOS: dict[str, Scenario] = {
    s.flow: s
    for s in (
        OrderLifecycle(),
        Refunds(),
        Customers(),
        Shipments(),
        StorefrontOrders(),
        OrderStatusBack(),
        StockOut(),
        ShipmentsToStorefront(),
        StorefrontRefunds(),
        StorefrontPayments(),
        StorefrontCancellations(),
        SalesforceAccounts(),
    )
}

# Scenarios kept in modules of their own (one per pair or pair's part), registered here:
# each module names its scenarios in a tuple called SCENARIOS.
for _module in (
    "tests.contract.bigcommerce_price_scenarios",
    "tests.contract.mailchimp_scenarios",
    "tests.contract.salesforce_product_scenarios",
    "tests.contract.salesforce_scenarios",
    "tests.contract.salesforce_in_scenarios",
):
    SCENARIOS.update({s.flow: s for s in import_module(_module).SCENARIOS})

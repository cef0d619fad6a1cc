"""What the flow contract suite needs to know of each flow: how to read its target back.

Every registered flow must have a scenario here; the suite fails for a flow without one, so
a new flow is held to the contract from the day it is registered. A scenario only reads the
sandbox (and, for `unmap`, changes a mapping); the suite does the rest, the same way for
every flow.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from syncs.models import StatusMapping

Snapshot = dict[str, Any]


def items(sandbox, vendor: str, collection: str, **params) -> list[dict]:
    return sandbox.state(vendor, collection, limit=100_000, **params)["items"]


class Scenario:
    flow: str
    # The vendor the flow writes to, for the sandbox's faults and request counts.
    target: str
    # The HTTP methods that write to the target.
    write_methods: tuple[str, ...] = ("POST", "PUT", "PATCH")

    def snapshot(self, sandbox) -> Snapshot:
        """What the target holds of this flow's records: {natural key: what matters}."""
        raise NotImplementedError

    def duplicates(self, sandbox) -> int:
        """Target records (or one-off notifications) made more than once per natural key."""
        return 0

    def unmap(self, brand, sandbox) -> Callable[[], None] | None:
        """Take away a mapping some of this flow's records need; return what puts it back.
        None: the flow translates no value that could be missing (the suite checks it)."""
        return None


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

    def _events(self, sandbox) -> list[dict]:
        return [
            record
            for push in items(sandbox, "ometria", "push_log", type="custom_event")
            for record in (push.get("records") or [push])
            if str(record.get("id", "")).startswith("gon-")
        ]

    def snapshot(self, sandbox) -> Snapshot:
        return {
            e["id"]: (e.get("event_type"), (e.get("properties") or {}).get("order_id"))
            for e in items(sandbox, "ometria", "custom_events")
        }

    def duplicates(self, sandbox) -> int:
        """The same shipment event pushed more than once (Ometria's docs do not say a
        repeated event id is ignored: a second push may mail the customer twice)."""
        counts = Counter(e["id"] for e in self._events(sandbox))
        return sum(n - 1 for n in counts.values() if n > 1)

    def unmap(self, brand, sandbox):
        # A shipped note whose order is in a status with no mapping waits for it.
        return _unmap_status(brand, "Invoiced")


SCENARIOS: dict[str, Scenario] = {
    s.flow: s for s in (OrderLifecycle(), Refunds(), Customers(), Shipments())
}

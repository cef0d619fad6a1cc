"""The flow registry: a flow is one module in this package and one line here."""

from __future__ import annotations

from syncs.flows.base import Flow
from syncs.flows.customers import CustomersFlow
from syncs.flows.order_lifecycle import OrderLifecycleFlow
from syncs.flows.refunds import RefundsFlow
from syncs.flows.shipments import ShipmentsFlow

REGISTRY: dict[str, type[Flow]] = {
    cls.code: cls for cls in (OrderLifecycleFlow, RefundsFlow, CustomersFlow, ShipmentsFlow)
}


def get_flow(code: str) -> Flow:
    try:
        return REGISTRY[code]()
    except KeyError:
        raise ValueError(
            f"There is no flow called “{code}”. Flows: {', '.join(REGISTRY)}."
        ) from None


def flow_label(code: str) -> str:
    cls = REGISTRY.get(code)
    return cls.label if cls else code


def flow_choices() -> list[tuple[str, str]]:
    return [(code, cls.label) for code, cls in REGISTRY.items()]

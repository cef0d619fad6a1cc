"""Brightpearl → Ometria: orders and their lifecycle, refunds, customers and shipments."""

from __future__ import annotations

from syncs.flows.ometria.customers import CustomersFlow
from syncs.flows.ometria.order_lifecycle import OrderLifecycleFlow
from syncs.flows.ometria.refunds import RefundsFlow
from syncs.flows.ometria.shipments import ShipmentsFlow

FLOWS = (OrderLifecycleFlow, RefundsFlow, CustomersFlow, ShipmentsFlow)

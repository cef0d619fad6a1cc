"""BigCommerce ↔ Brightpearl: storefront orders in (created exactly once), with their
payments, refunds and cancellations; their status, shipments, stock and prices back out. The value
maps these flows translate through are in maps.py."""

from __future__ import annotations

from syncs.flows.bigcommerce.cancellations_in import StorefrontCancellationsFlow
from syncs.flows.bigcommerce.orders_in import StorefrontOrdersFlow
from syncs.flows.bigcommerce.payments_in import StorefrontPaymentsFlow
from syncs.flows.bigcommerce.prices_out import PricesToStorefrontFlow
from syncs.flows.bigcommerce.refunds_in import StorefrontRefundsFlow
from syncs.flows.bigcommerce.shipments_out import ShipmentsToStorefrontFlow
from syncs.flows.bigcommerce.status_out import OrderStatusToStorefrontFlow
from syncs.flows.bigcommerce.stock_out import StockToStorefrontFlow

FLOWS = (
    StorefrontOrdersFlow,
    OrderStatusToStorefrontFlow,
    ShipmentsToStorefrontFlow,
    StorefrontRefundsFlow,
    StorefrontPaymentsFlow,
    StorefrontCancellationsFlow,
    StockToStorefrontFlow,
    PricesToStorefrontFlow,
)

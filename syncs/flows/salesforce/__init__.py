"""Brightpearl ↔ Salesforce: accounts, contacts, orders and products."""

from __future__ import annotations

from syncs.flows.salesforce.accounts import SalesforceAccountsFlow
from syncs.flows.salesforce.accounts_in import SalesforceAccountsInFlow
from syncs.flows.salesforce.credits_out import SalesforceCreditsFlow
from syncs.flows.salesforce.orders_in import SalesforceOrdersInFlow
from syncs.flows.salesforce.orders_out import SalesforceOrdersFlow
from syncs.flows.salesforce.products import SalesforceProductsFlow
from syncs.flows.salesforce.stock import SalesforceStockFlow

FLOWS = (
    SalesforceAccountsFlow,
    SalesforceAccountsInFlow,
    SalesforceProductsFlow,
    SalesforceStockFlow,
    SalesforceOrdersFlow,
    SalesforceOrdersInFlow,
    SalesforceCreditsFlow,
)

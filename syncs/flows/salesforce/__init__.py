"""Brightpearl ↔ Salesforce: accounts, contacts, orders and products."""

from __future__ import annotations

from syncs.flows.salesforce.accounts import SalesforceAccountsFlow
from syncs.flows.salesforce.credits_out import SalesforceCreditsFlow
from syncs.flows.salesforce.orders_out import SalesforceOrdersFlow

FLOWS = (SalesforceAccountsFlow, SalesforceOrdersFlow, SalesforceCreditsFlow)

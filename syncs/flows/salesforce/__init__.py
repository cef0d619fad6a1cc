"""Brightpearl ↔ Salesforce: accounts, contacts, orders and products."""

from __future__ import annotations

from syncs.flows.salesforce.accounts import SalesforceAccountsFlow
from syncs.flows.salesforce.accounts_in import SalesforceAccountsInFlow
from syncs.flows.salesforce.orders_in import SalesforceOrdersInFlow

FLOWS = (SalesforceAccountsFlow, SalesforceAccountsInFlow, SalesforceOrdersInFlow)

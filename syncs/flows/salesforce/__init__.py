"""Brightpearl ↔ Salesforce: accounts, contacts, orders and products."""

from __future__ import annotations

from syncs.flows.salesforce.accounts import SalesforceAccountsFlow

FLOWS = (SalesforceAccountsFlow,)

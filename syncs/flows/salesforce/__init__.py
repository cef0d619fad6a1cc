"""Brightpearl ↔ Salesforce: accounts, contacts, orders and products."""

FLOWS = ()

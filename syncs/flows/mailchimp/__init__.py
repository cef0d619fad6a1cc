"""Brightpearl ↔ Mailchimp: purchase events, contacts and consent."""

from __future__ import annotations

from syncs.flows.mailchimp.consent import ConsentFlow
from syncs.flows.mailchimp.contacts import ContactsFlow
from syncs.flows.mailchimp.purchases import PurchasesFlow

FLOWS = (PurchasesFlow, ContactsFlow, ConsentFlow)

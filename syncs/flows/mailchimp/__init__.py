"""Brightpearl ↔ Mailchimp: customers, purchase events and consent."""

FLOWS = ()

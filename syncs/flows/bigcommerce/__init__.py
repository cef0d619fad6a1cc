"""Brightpearl ↔ BigCommerce: storefront orders, stock, shipments and refunds."""

FLOWS = ()

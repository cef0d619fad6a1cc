"""BigCommerce: the storefront (https://api.bigcommerce.com/stores/{store_hash}/v2|v3).

v2 errors are arrays of {status, message}; v3 errors are problem objects {status, title, type}.
Every answer carries the store's X-Rate-Limit-* headers. Webhooks (v3 /hooks) are delivered
with the envelope {scope, store_id, data, hash, created_at, producer}, the custom `headers` set
at registration, and a Standard Webhooks signature (webhook-id, webhook-timestamp,
webhook-signature) made with the app's client secret. README.md beside this package says which
vendor page each shape follows.

    base.py       router, auth, rate headers, v2/v3 errors
    orders.py     v2 orders, statuses, shipments; a storefront order (control API)
    refunds.py    v3 refunds; a control-panel refund (control API)
    customers.py  v3 customers (their group); a shopper signing up (control API)
    catalog.py    v3 catalog and inventory
    webhooks.py   v3 hooks, and firing a scope after a change
    records.py    order, catalog, inventory and hook documents
    constants.py  statuses, error shapes, pagination
"""

from __future__ import annotations

from connectors.bigcommerce.fake.catalog import CatalogRoutes
from connectors.bigcommerce.fake.customers import CustomerRoutes
from connectors.bigcommerce.fake.orders import OrderRoutes
from connectors.bigcommerce.fake.records import (
    catalog_docs,
    catalog_recs,
    inventory_rec,
    location_doc,
    location_rec,
    order_docs,
    order_recs,
)
from connectors.bigcommerce.fake.refunds import RefundRoutes
from connectors.bigcommerce.fake.webhooks import HookRoutes

__all__ = [
    "BigCommerce",
    "catalog_docs",
    "catalog_recs",
    "inventory_rec",
    "location_doc",
    "location_rec",
    "order_docs",
    "order_recs",
]


class BigCommerce(OrderRoutes, RefundRoutes, CustomerRoutes, CatalogRoutes, HookRoutes):
    """The BigCommerce fake: every resource's routes on one shared router (see base.py)."""

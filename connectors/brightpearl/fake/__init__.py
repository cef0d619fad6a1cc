"""Brightpearl: the ERP, as its public API answers (recordings in shared/vendors/brightpearl/).

Paths: /brightpearl/public-api/{account}/{service}-service/... Every answer carries the
account's `brightpearl-requests-remaining` and `brightpearl-next-throttle-period`, 401s too.
Records are stored in the exact JSON the API serves; the *records modules build that JSON (for
the seed and for writes) and the service modules answer the calls. README.md beside this package
says which vendor page each shape follows.

    base.py              router, auth, rate headers, errors, id sets, OPTIONS, searches
    orders.py            order service: orders, search, statuses, rows
    credits.py           sales credits
    currencies.py        currencies and exchange rates
    warehouse.py         goods-out notes, stock, warehouses, products
    prices.py            price lists and product prices (and their documents)
    contacts.py          contacts, tags, custom fields
    webhooks.py          webhook registration, and firing events after a change
    oauth.py, tokens.py  the OAuth token endpoint, and the tokens it issued
    records.py           order, credit and status documents
    contact_records.py   contact documents
    warehouse_records.py goods-out note, product and stock documents
    columns.py           search columns, filters and sorts
    constants.py         codes, names and the error shape
"""

from __future__ import annotations

from connectors.brightpearl.fake.contact_records import contact_doc, contact_email, contact_rec
from connectors.brightpearl.fake.contacts import ContactRoutes
from connectors.brightpearl.fake.credits import CreditRoutes
from connectors.brightpearl.fake.currencies import CurrencyRoutes
from connectors.brightpearl.fake.oauth import OAuthRoutes
from connectors.brightpearl.fake.orders import OrderRoutes
from connectors.brightpearl.fake.payments import PaymentRoutes
from connectors.brightpearl.fake.prices import PriceRoutes
from connectors.brightpearl.fake.records import (
    credit_doc,
    credit_rec,
    credit_recs,
    order_doc,
    order_rec,
    order_status_doc,
    party,
    simple_rec,
    status_rec,
)
from connectors.brightpearl.fake.warehouse import WarehouseRoutes
from connectors.brightpearl.fake.warehouse_records import (
    availability_doc,
    availability_rec,
    gon_doc,
    gon_rec,
    product_doc,
    product_rec,
)
from connectors.brightpearl.fake.webhooks import WebhookRoutes, fire

__all__ = [
    "Brightpearl",
    "availability_doc",
    "availability_rec",
    "contact_doc",
    "contact_email",
    "contact_rec",
    "credit_doc",
    "credit_rec",
    "credit_recs",
    "fire",
    "gon_doc",
    "gon_rec",
    "order_doc",
    "order_rec",
    "order_status_doc",
    "party",
    "product_doc",
    "product_rec",
    "simple_rec",
    "status_rec",
]


class Brightpearl(
    OrderRoutes,
    CreditRoutes,
    PaymentRoutes,
    CurrencyRoutes,
    WarehouseRoutes,
    PriceRoutes,
    ContactRoutes,
    WebhookRoutes,
    OAuthRoutes,
):
    """The Brightpearl fake: every service's routes on one shared router (see base.py)."""

"""The demo seed's fixed inputs: RNG seed, base date, statuses, tags, names and special ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

RNG_SEED = 20250106
BASE = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
SPAN = timedelta(days=120)  # orders are spread over this period after BASE
DEFAULT_ORDERS = 300
SECOND_ORDERS = 20
BRANDS = ("demo", "second")

# --- reference data ------------------------------------------------------------------------

# (id, name, type, state, colour). 24 and 25 are custom: 25 is the one a default mapping will
# not know. 10 and 12 are the credit statuses.
STATUSES = (
    (1, "Draft / Quote", "SO", "draft", "#E7E6E4"),
    (2, "New web order", "SO", "open", "#8FD3FE"),
    (3, "New phone order", "SO", "open", "#8FD3FE"),
    (20, "Awaiting payment", "SO", "open", "#FFD966"),
    (24, "Fraud hold", "SO", "open", "#E06666"),
    (25, "Awaiting gift wrap", "SO", "open", "#C27BA0"),
    (21, "Ready to ship", "SO", "open", "#93C47D"),
    (22, "Partially shipped", "SO", "open", "#6AA84F"),
    (23, "Dispatched", "SO", "complete", "#38761D"),
    (4, "Invoiced", "SO", "complete", "#274E13"),
    (26, "Completed", "SO", "complete", "#0B5394"),
    (5, "Cancelled", "SO", "cancelled", "#999999"),
    (6, "Pending PO", "PO", "open", "#F6B26B"),
    (10, "Sales credit", "SC", "open", "#A4C2F4"),
    (11, "Credit complete", "SC", "complete", "#3C78D8"),
    (12, "Purchase credit", "PC", "open", "#D5A6BD"),
)
CUSTOM_STATUSES = {24, 25}
CREDIT_OPEN_STATUS = 10  # "Sales credit": raised, not yet paid back
CREDIT_COMPLETE_STATUS = 11  # "Credit complete" (state "complete"): what the refunds flow sends
UNKNOWN_STATUS = 25
FRAUD_STATUS = 24
CANCELLED_STATUS = 5
# Sales-order statuses and how often the demo uses each (weights).
ORDER_MIX = (
    (26, 20), (23, 14), (4, 8), (22, 8), (21, 8), (2, 10), (3, 5),
    (20, 6), (5, 9), (24, 4), (25, 3), (1, 5),
)  # fmt: skip
INVOICED = {4, 22, 23, 26}
SHIPPED_ALL = {4, 23, 26}
CLOSED = {5, 26}  # statuses whose orders carry closedOn
TAGS = (
    (1, "Loyalty: Gold", "#D4AF37"),
    (2, "Loyalty: Silver", "#C0C0C0"),
    (3, "Loyalty: Bronze", "#CD7F32"),
    (16, "VIP", "#ff0000"),
    (23, "Wholesale", "#0000ff"),
)
# The customer custom fields every seeded account defines (Brightpearl's Custom Field Metadata
# GET shape): the two the seed fills, and the three the Mailchimp consent flow writes.
CUSTOMER_CUSTOM_FIELDS = (
    (1, "PCF_LOYALTY", "Loyalty tier", "TEXT"),
    (2, "PCF_BIRTHMON", "Birth month", "TEXT"),
    (3, "PCF_MCSTATUS", "Mailchimp status", "TEXT"),
    (4, "PCF_MCCHANGED", "Mailchimp status changed", "TEXT"),
    (5, "PCF_MCREASON", "Mailchimp status reason", "TEXT"),
)
WAREHOUSES = ({"id": 1, "name": "Default Warehouse"}, {"id": 2, "name": "Secondary Warehouse"})

FIRST = ("Alex", "Sam", "Jamie", "Morgan", "Taylor", "Jordan", "Casey", "Riley", "Avery",
         "Quinn", "Harper", "Rowan", "Ellis", "Kit", "Robin", "Sasha", "Frankie", "Charlie",
         "Drew", "Emery")  # fmt: skip
LAST = ("Morgan", "Patel", "Smith", "Jones", "Okafor", "Nguyen", "Williams", "Brown", "Kowalski",
        "Garcia", "Evans", "Murphy", "Khan", "Clarke", "Rossi", "Hughes", "Silva", "Walsh",
        "Novak", "Bennett")  # fmt: skip
ITEMS = ("Merino Tee", "Linen Shirt", "Rain Jacket", "Wool Beanie", "Canvas Tote", "Denim Jeans",
         "Hiking Socks", "Fleece Hoodie", "Leather Belt", "Silk Scarf")  # fmt: skip
COLOURS = ("Black", "Navy", "Olive", "Sand")

# Special ids (demo brand).
DUP_EMAIL_CONTACTS = (201, 202)
DUP_EMAIL = "alex.morgan@example.com"
BAD_EMAIL_CONTACT = 203
BAD_EMAIL = "jamie..lee@example"  # Brightpearl keeps it; Ometria rejects it asynchronously
VIP_CONTACT = 204
WHOLESALE_CONTACT = 205
COMPLIANCE_CONTACT = 206  # in Mailchimp "compliance state": every upsert is refused
UNSUBSCRIBED_CONTACT = 207
BC_ONLY_SKU = "BC-ONLY-001"  # sold on BigCommerce, unknown to Brightpearl

"""The value maps Brightpearl → Salesforce flows translate through.

Neither list is read from Salesforce by the console's connector, so values are typed: the
picklist values Salesforce ships with are offered as suggestions, and any value the org
has added is taken (Salesforce refuses one its picklist lacks, and the record then gets a
“refused” ticket naming it).
"""

from __future__ import annotations

from brands.models import Team
from syncs.valuemaps.kinds import Part, ValueKind
from syncs.valuemaps.lists import brightpearl_order_statuses

ACCOUNTS = "salesforce_accounts"
ORDERS = "salesforce_orders"
ACCOUNTS_IN = "salesforce_accounts_in"

# Salesforce's standard values (orgs often add their own).
ACCOUNT_TYPES = (
    "Prospect",
    "Customer - Direct",
    "Customer - Channel",
    "Channel Partner / Reseller",
    "Installation Partner",
    "Technology Partner",
    "Other",
)
ORDER_STATUSES = ("Draft", "Activated")


def _suggest(values: tuple[str, ...]):
    return lambda brand: [(v, v) for v in values]


PICKLIST = r"[^\x00-\x1f]+"
# The two sides the customer-group maps translate between, one way or the other.
ACCOUNT_TYPE = Part(
    name="value",
    label="Salesforce account type",
    example="such as Customer - Direct",
    values=_suggest(ACCOUNT_TYPES),
    strict=False,
    max_length=255,
    pattern=PICKLIST,
    pattern_words="a picklist value has no line breaks or control characters.",
)
CUSTOMER_GROUP = Part(
    name="value", label="Brightpearl customer group", example="such as 2", whole_number=True
)

BP_CUSTOMER_GROUP = ValueKind(
    code="bp_customer_group",
    label="Customer groups → account types",
    description="Each Brightpearl customer group (its id) beside the Type its Salesforce "
    "account gets. A customer in a group with no mapping is not sent, and waits with a "
    "ticket for operations.",
    source_system="brightpearl",
    target_system="salesforce",
    source=CUSTOMER_GROUP,
    target=ACCOUNT_TYPE,
    team=Team.OPERATIONS,
    flows=(ACCOUNTS,),
    noun="accounts",
)

BP_ORDER_STATUS_TO_SF = ValueKind(
    code="bp_order_status_to_sf",
    label="Order statuses → Salesforce",
    description="Each Brightpearl order status beside the Status its Salesforce order gets. "
    "An order in a status with no mapping is not sent, and waits with a ticket for "
    "operations.",
    source_system="brightpearl",
    target_system="salesforce",
    source=Part(
        name="value",
        label="Brightpearl order status",
        example="such as 2",
        values=brightpearl_order_statuses,
        whole_number=True,
    ),
    target=Part(
        name="value",
        label="Salesforce order status",
        example="such as Activated",
        values=_suggest(ORDER_STATUSES),
        strict=False,
        max_length=255,
        pattern=PICKLIST,
        pattern_words="a picklist value has no line breaks or control characters.",
    ),
    team=Team.OPERATIONS,
    flows=(ORDERS,),
    noun="orders",
)

SF_ACCOUNT_TYPE = ValueKind(
    code="sf_account_type",
    label="Account types → customer groups",
    description="Each Salesforce Account Type beside the Brightpearl customer group a customer "
    "new to Brightpearl joins when sales made it in Salesforce. A type not listed here is "
    "read from “Customer groups → account types” the other way, when exactly one group has "
    "it; otherwise the customer is not created, and waits with a ticket for operations.",
    source_system="salesforce",
    target_system="brightpearl",
    source=ACCOUNT_TYPE,
    target=CUSTOMER_GROUP,
    team=Team.OPERATIONS,
    flows=(ACCOUNTS_IN,),
    noun="accounts",
)

KINDS = (BP_CUSTOMER_GROUP, BP_ORDER_STATUS_TO_SF, SF_ACCOUNT_TYPE)

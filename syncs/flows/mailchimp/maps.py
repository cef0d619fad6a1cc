"""The value maps Brightpearl → Mailchimp flows translate through.

Brightpearl's contact tags are offered (a custom field, PCF_…, may be named too); Mailchimp's
tags and merge fields are typed, and a merge field's tag is checked for Mailchimp's form.
"""

from __future__ import annotations

import re

from brands.models import Team
from syncs.valuemaps.kinds import Part, ValueKind
from syncs.valuemaps.lists import brightpearl_tag_names

CUSTOMERS = "mailchimp_contacts"
PURCHASES = "mailchimp_purchases"

# Whether the Brightpearl tag or field becomes a Mailchimp tag or fills a merge field.
AS_TAG, AS_MERGE_FIELD = "tag", "merge_field"
# Where a customer group's contacts go: this audience (with the group's tag), or not to this
# audience at all (wholesale: B2B contacts never land in the B2C audience).
IN_AUDIENCE, NOT_IN_AUDIENCE = "this_audience", "not_this_audience"
# What onboarding offers (a short list: only what segments need, nothing "just in case").
DEFAULT_FIELDS = (
    ("firstName", "FNAME", AS_MERGE_FIELD),
    ("lastName", "LNAME", AS_MERGE_FIELD),
)
DEFAULT_GROUPS = (("Retail", "Retail", IN_AUDIENCE), ("Wholesale", "Wholesale", NOT_IN_AUDIENCE))


def merge_field_problem(target: str, extra: dict) -> str:
    """Mailchimp's merge field tags: capitals, digits and underscores, at most 10."""
    if extra.get("as") == AS_MERGE_FIELD and not re.fullmatch(r"[A-Z0-9_]{1,10}", target):
        return (
            f"“{target}” is not a Mailchimp merge field tag: use capital letters, digits and "
            "underscores, at most 10 (such as LOYALTY)."
        )
    return ""


BP_CONTACT_ATTRIBUTE = ValueKind(
    code="bp_contact_to_mailchimp",
    label="Tags and fields → Mailchimp",
    description="Each Brightpearl contact tag or custom field (PCF_…) beside the Mailchimp "
    "tag it becomes, or the merge field it fills. Only what is mapped here reaches "
    "Mailchimp.",
    source_system="brightpearl",
    target_system="mailchimp",
    source=Part(
        name="value",
        label="Brightpearl tag or field",
        example="such as VIP or PCF_LOYALTY",
        values=brightpearl_tag_names,
        strict=False,
    ),
    target=Part(
        name="value",
        label="Mailchimp tag or merge field",
        example="such as VIP customers, or LOYALTY",
        max_length=100,
    ),
    extra=(
        Part(
            name="as",
            label="Mailchimp field type",
            choices=((AS_TAG, "a Mailchimp tag"), (AS_MERGE_FIELD, "a merge field")),
        ),
    ),
    team=Team.MARKETING,
    flows=(CUSTOMERS,),
    noun="contacts",
    check=merge_field_problem,
)

BP_CUSTOMER_GROUP_TO_MC = ValueKind(
    code="bp_customer_group_to_mailchimp",
    label="Customer groups → Mailchimp audience",
    description="Each Brightpearl customer group (its name) beside the Mailchimp tag its "
    "contacts get in this audience, or “not in this audience” (wholesale: B2B contacts never "
    "land in the retail audience). A contact in a group with no mapping is not sent, and "
    "waits with a ticket for marketing.",
    source_system="brightpearl",
    target_system="mailchimp",
    source=Part(name="value", label="Brightpearl customer group", example="such as Wholesale"),
    target=Part(
        name="value", label="Mailchimp tag", example="such as Retail customers", max_length=100
    ),
    extra=(
        Part(
            name="audience",
            label="In this audience?",
            choices=(
                (IN_AUDIENCE, "yes, with this tag"),
                (NOT_IN_AUDIENCE, "no, never sent to this audience"),
            ),
        ),
    ),
    team=Team.MARKETING,
    flows=(CUSTOMERS, PURCHASES),
    noun="contacts",
)

KINDS = (BP_CONTACT_ATTRIBUTE, BP_CUSTOMER_GROUP_TO_MC)

"""Every exception type the flows raise, with its plain-English wording and owner.

The agency tunes the wording and the ownership in the admin afterwards; this migration
only creates types that are missing, so it never overwrites their edits.
"""

from django.db import migrations

TYPES = [
    {
        "code": "unmapped_status",
        "title": "Order status has no mapping",
        "what_happened": "Orders in Brightpearl have an order status that is not mapped to an Ometria order status and lifecycle stage. Those orders were not sent to Ometria; they are waiting.",
        "why_it_matters": "The console never guesses a stage: a guess could tell a customer their cancelled or fraudulent order is on its way. Until the status is mapped, Ometria does not know about these orders and their customers miss the right emails.",
        "how_to_fix": "Open Mappings, find the status at the top of the list, choose its Ometria status and lifecycle stage, and save. The ticket resolves itself and the waiting orders are sent on the next run (or press Retry).",
        "owner_team": "marketing",
        "severity": "high",
        "retryable": True,
    },
    {
        "code": "rejected_by_target",
        "title": "Rejected by the target system",
        "what_happened": "The target system refused this record when the console sent it, and said why (see the error below).",
        "why_it_matters": "The record is missing or out of date in the target system, so campaigns, reports or the storefront work from wrong data for this customer or order.",
        "how_to_fix": "Read the error: it usually names the field at fault. Correct the record in Brightpearl, then press Retry. If the data is right and the target is wrong, ask the agency.",
        "owner_team": "ecommerce",
        "severity": "medium",
        "retryable": True,
    },
    {
        "code": "async_rejection",
        "title": "Rejected by Ometria after it was accepted",
        "what_happened": "Ometria accepted this record for processing, then rejected it when it checked it (Ometria validates after answering).",
        "why_it_matters": "Ometria does not hold this record, so the customer or order is missing from segments and lifecycle emails.",
        "how_to_fix": "Read the error Ometria gave. Correct the record in Brightpearl (an email address, a total, a currency), then press Retry.",
        "owner_team": "ecommerce",
        "severity": "medium",
        "retryable": True,
    },
    {
        "code": "duplicate_contact",
        "title": "Two Brightpearl contacts share one email",
        "what_happened": "More than one Brightpearl contact has this email address. Each is sent to the marketing system as its own contact.",
        "why_it_matters": "One customer's purchase history and lifetime value are split across two profiles, so segments and personalisation treat them as two people.",
        "how_to_fix": "In Brightpearl, merge the contacts or correct the email of the wrong one. Then resolve this ticket with a note.",
        "owner_team": "customer_service",
        "severity": "low",
        "retryable": False,
    },
    {
        "code": "auth_failure",
        "title": "Credentials refused",
        "what_happened": "A vendor refused the saved credentials, so the flow stopped. Nothing was sent or changed by this run.",
        "why_it_matters": "Until the credentials work, this flow moves nothing: orders, customers or stock fall out of step every minute.",
        "how_to_fix": "An admin creates new credentials in the vendor's settings, enters them on the connection's page in the agency admin and presses Test connection. The next run picks up where it stopped.",
        "owner_team": "admin",
        "severity": "critical",
        "retryable": False,
    },
    {
        "code": "configuration_missing",
        "title": "Connection not set up",
        "what_happened": "A flow needs a connection that is missing or incomplete (no credentials, or a setting such as the account code is empty).",
        "why_it_matters": "The flow cannot run at all until the connection is complete.",
        "how_to_fix": "An admin completes the connection in the agency admin (or in onboarding) and presses Test connection.",
        "owner_team": "admin",
        "severity": "high",
        "retryable": False,
    },
    {
        "code": "sync_delayed",
        "title": "Sync is running late",
        "what_happened": "Changes made in Brightpearl have not reached the target system within the expected time.",
        "why_it_matters": "Marketing and the storefront are working from old data: a status, a refund or a stock level may be out of date.",
        "how_to_fix": "Look at the flow's recent runs on the overview page. A failing connection or a vendor outage is the usual cause; once it is fixed, the flow catches up and this ticket resolves itself.",
        "owner_team": "operations",
        "severity": "high",
        "retryable": False,
    },
    {
        "code": "attempts_exhausted",
        "title": "Sync failed after several attempts",
        "what_happened": "A run kept failing with temporary errors (timeouts, outages, throttling) and the console gave up after its last attempt.",
        "why_it_matters": "The records in this run were not synced. They are safe in Brightpearl, but the target is out of date until a run succeeds.",
        "how_to_fix": "Check the vendor's status page. When it is back, press Retry; the next scheduled run also picks the records up.",
        "owner_team": "operations",
        "severity": "high",
        "retryable": True,
    },
    {
        "code": "api_allowance_spent",
        "title": "Vendor API allowance used up",
        "what_happened": "A vendor's daily API allowance is used up, so it refuses further requests until it renews.",
        "why_it_matters": "Nothing more reaches this vendor today; changes queue up until the allowance renews.",
        "how_to_fix": "Wait for the allowance to renew, or ask the vendor for a larger one. Find which other apps share it.",
        "owner_team": "operations",
        "severity": "high",
        "retryable": True,
    },
    {
        "code": "record_missing",
        "title": "Record not found in the source",
        "what_happened": "The console was told about a record (by a webhook or a retry) that the source system no longer has.",
        "why_it_matters": "Usually harmless: the record was deleted. If it should exist, something deleted it by mistake.",
        "how_to_fix": "Check the record in Brightpearl. If it was deleted on purpose, resolve this ticket with a note.",
        "owner_team": "operations",
        "severity": "low",
        "retryable": False,
    },
    {
        "code": "unmapped_sku",
        "title": "SKU not known to Brightpearl",
        "what_happened": "A storefront order contains a SKU that Brightpearl has no product for, so the order was not created in Brightpearl.",
        "why_it_matters": "The order cannot be picked or shipped until it reaches Brightpearl: the customer waits.",
        "how_to_fix": "Create the product in Brightpearl with this SKU (or correct the SKU in the storefront), then press Retry.",
        "owner_team": "operations",
        "severity": "high",
        "retryable": True,
    },
    {
        "code": "order_total_mismatch",
        "title": "Order total differs between systems",
        "what_happened": "The order's total in the storefront and in Brightpearl differ, usually through tax, shipping or a discount mapped differently.",
        "why_it_matters": "Finance cannot reconcile the storefront's payouts with Brightpearl's ledger; small gaps add up at month end.",
        "how_to_fix": "Compare the two totals line by line (both are below). Correct the order in Brightpearl, or the tax or discount mapping, then resolve with a note.",
        "owner_team": "finance",
        "severity": "high",
        "retryable": False,
    },
    {
        "code": "refund_blocked",
        "title": "Refund blocked: order not invoiced",
        "what_happened": "A refund made in the storefront could not become a sales credit in Brightpearl because the original order is not invoiced yet.",
        "why_it_matters": "The customer has their money back but Brightpearl's books and stock do not show the return.",
        "how_to_fix": "Invoice the original order in Brightpearl, then press Retry.",
        "owner_team": "finance",
        "severity": "high",
        "retryable": True,
    },
    {
        "code": "unmapped_payment_method",
        "title": "Payment method has no mapping",
        "what_happened": "A storefront order used a payment method that is not mapped to a Brightpearl bank account and nominal code.",
        "why_it_matters": "The console never guesses where money goes: the order waits so the ledger stays right.",
        "how_to_fix": "Add the payment method's mapping, then press Retry.",
        "owner_team": "finance",
        "severity": "high",
        "retryable": True,
    },
    {
        "code": "unmapped_customer_group",
        "title": "Customer group has no mapping",
        "what_happened": "A storefront order came from a customer group that is not mapped to a Brightpearl price list.",
        "why_it_matters": "A wholesale customer could be charged retail prices, or the reverse; the order waits instead.",
        "how_to_fix": "Add the customer group's mapping to a price list, then press Retry.",
        "owner_team": "ecommerce",
        "severity": "medium",
        "retryable": True,
    },
]


def seed(apps, schema_editor):
    ExceptionType = apps.get_model("exceptions", "ExceptionType")
    for spec in TYPES:
        ExceptionType.objects.get_or_create(code=spec["code"], defaults=spec)


class Migration(migrations.Migration):
    dependencies = [("exceptions", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

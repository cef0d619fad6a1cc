"""Tickets of the Salesforce order and credit flows (issue 15): an order line whose product or
price-book entry Salesforce lacks, and an order or credit waiting for the Salesforce record it
belongs to (its customer's Account, its Order)."""

from django.db import migrations

TYPES = [
    {
        "code": "salesforce_product_missing",
        "title": "A product or its price is missing in Salesforce",
        "what_happened": "A Brightpearl sales order has a line whose SKU Salesforce does not know as a product (Product2 with that Product Code), or whose product has no active entry in the brand's Salesforce price book in the order's currency. Salesforce needs both for every order product, so the console did not send the order.",
        "why_it_matters": "Sales and service do not see this order in Salesforce, nor its status and tracking, until the product and its price are there.",
        "how_to_fix": "In Salesforce, create the product with this Product Code (or correct the code), and add it to the brand's price book in this currency, Active. Then press Retry, or wait for the next run: the order goes on its own and this ticket closes.",
        "owner_team": "operations",
        "severity": "medium",
        "retryable": True,
    },
    {
        "code": "salesforce_parent_missing",
        "title": "Waiting for its Salesforce record",
        "what_happened": "The console holds this record back because the Salesforce record it belongs to is not there yet: an order needs its customer's Account (sent by Customers → Salesforce accounts), a sales credit needs its Order (sent by Orders → Salesforce).",
        "why_it_matters": "Salesforce shows nothing of this record until then. It goes by itself once its parent is in Salesforce; if the parent's flow is switched off or the parent waits on a ticket of its own, it never will.",
        "how_to_fix": "Check that the flow named below is switched on and that the customer or order has no open ticket of its own (an unmapped customer group, a missing product). Once the parent is in Salesforce, the next run sends this record and closes the ticket.",
        "owner_team": "operations",
        "severity": "low",
        "retryable": True,
    },
]


def seed(apps, schema_editor):
    ExceptionType = apps.get_model("exceptions", "ExceptionType")
    for spec in TYPES:
        ExceptionType.objects.get_or_create(code=spec["code"], defaults=spec)


class Migration(migrations.Migration):
    dependencies = [("exceptions", "0015_merge_salesforce_matches_type")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

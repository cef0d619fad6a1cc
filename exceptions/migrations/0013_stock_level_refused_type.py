"""The ticket for a stock level BigCommerce refused (the Brightpearl → BigCommerce stock flow):
one per SKU, for operations, while the rest of its call is written."""

from django.db import migrations

TYPES = [
    {
        "code": "stock_level_refused",
        "title": "BigCommerce refused a stock level",
        "what_happened": "The console sent this SKU's stock level from Brightpearl to BigCommerce, and BigCommerce refused it, saying why (see the reason below). Usually BigCommerce has no product or variant with this SKU, or it counts this product's stock per product rather than per variant. The other SKUs sent with it were written.",
        "why_it_matters": "The storefront still shows the old stock for this SKU. If it shows more than the warehouses hold, customers can buy stock that is not there, and orders will have to be cancelled.",
        "how_to_fix": "Check the SKU in BigCommerce's catalogue: add it, or correct the SKU in Brightpearl or BigCommerce so that the two match. Then press Retry, or wait for the next stock change: the ticket resolves itself once BigCommerce takes the level.",
        "owner_team": "operations",
        "severity": "high",
        "retryable": True,
    },
]


def seed(apps, schema_editor):
    ExceptionType = apps.get_model("exceptions", "ExceptionType")
    for spec in TYPES:
        ExceptionType.objects.get_or_create(code=spec["code"], defaults=spec)


class Migration(migrations.Migration):
    dependencies = [("exceptions", "0012_history_ticket_types")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

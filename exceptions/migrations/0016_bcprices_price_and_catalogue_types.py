"""Prices and catalogue (issue 13): a price BigCommerce refused, and the weekly catalogue
audit's two gaps, a SKU in one catalogue and not the other. All three are ecommerce's: they
own the catalogue."""

from django.db import migrations

TYPES = [
    {
        "code": "price_refused",
        "title": "BigCommerce refused a price",
        "what_happened": "The nightly price push sent this SKU's prices from Brightpearl's price lists to BigCommerce, and BigCommerce refused them, saying why (see the reason below). Usually the variant was deleted in BigCommerce since the push read the catalogue, or a price is not a valid amount. The other SKUs sent with it were written.",
        "why_it_matters": "The storefront still shows the old price for this SKU: shoppers pay a price Brightpearl does not hold, and the order will not match its totals when it posts.",
        "how_to_fix": "Check the SKU in BigCommerce's catalogue and its price on the chosen Brightpearl price list (Value maps → Price fields ← price lists). Correct whichever is wrong, then press Retry, or wait for the next night's push: the ticket resolves itself once BigCommerce takes the prices.",
        "owner_team": "ecommerce",
        "severity": "medium",
        "retryable": True,
    },
    {
        "code": "sku_only_in_bigcommerce",
        "title": "SKU on the storefront, not in Brightpearl",
        "what_happened": "The weekly catalogue audit found this SKU on a BigCommerce product or variant, and no Brightpearl product with the same SKU.",
        "why_it_matters": "An order for it cannot post to Brightpearl: it will wait with a ticket, and nothing can be picked or shipped until the product exists. Its stock and price are not kept in step either.",
        "how_to_fix": "Create the product in Brightpearl with exactly this SKU, or correct the SKU on whichever side is wrong. If the storefront should not sell it, remove it from BigCommerce. The ticket resolves itself at the next audit that finds both sides agree (Catalogue audit → Run the audit now).",
        "owner_team": "ecommerce",
        "severity": "medium",
        "retryable": False,
    },
    {
        "code": "sku_only_in_brightpearl",
        "title": "SKU in Brightpearl, not on the storefront",
        "what_happened": "The weekly catalogue audit found this Brightpearl product's SKU on no BigCommerce product or variant.",
        "why_it_matters": "Shoppers cannot buy it, and its stock and prices go nowhere. If the storefront lists it under another SKU, orders for it will not match the product and will wait.",
        "how_to_fix": "Add it to BigCommerce with exactly this SKU, or correct the SKU on whichever side is wrong. If it is not meant for the storefront (a service, a discontinued line), resolve the ticket with a note. The ticket resolves itself at the next audit that finds it on both sides.",
        "owner_team": "ecommerce",
        "severity": "low",
        "retryable": False,
    },
]


def seed(apps, schema_editor):
    ExceptionType = apps.get_model("exceptions", "ExceptionType")
    for spec in TYPES:
        ExceptionType.objects.get_or_create(code=spec["code"], defaults=spec)


class Migration(migrations.Migration):
    dependencies = [("exceptions", "0015_merge_salesforce_matches_type")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

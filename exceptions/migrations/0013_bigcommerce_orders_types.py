"""BigCommerce orders (issue 13): a ticket for a shipped note BigCommerce was never told of;
an unknown SKU is ecommerce's (they own the catalogue), and a blocked refund retries itself."""

from django.db import migrations

TYPES = [
    {
        "code": "shipment_not_notified",
        "title": "Shipped in Brightpearl, not in BigCommerce",
        "what_happened": "A goods-out note was marked shipped in Brightpearl, but BigCommerce has no shipment for it: the console could not make one (the ticket says why), or the daily check found the note still without one.",
        "why_it_matters": "BigCommerce sends the shopper their dispatch email, with the tracking link, only when the shipment exists there. Without it the shopper asks where their order is, and the storefront shows the order as not shipped.",
        "how_to_fix": "Read the reason on the ticket. If the note's lines are not on the storefront order, correct the order in Brightpearl; if the shipping method has no carrier, map it (value maps: Shipping methods → carriers). Then press Retry. If the parcel was told to the shopper some other way, resolve the ticket with a note. It resolves itself once the shipment exists in BigCommerce.",
        "owner_team": "operations",
        "severity": "high",
        "retryable": True,
    },
]

SKU_FIX = (
    "Create the product in Brightpearl with this SKU (or correct the SKU in the storefront), "
    "then press Retry. The next hourly sweep also posts the order once the product exists."
)
REFUND_FIX = (
    "Invoice the original order in Brightpearl. The console tries the refund again on every "
    "run, posts the sales credit as soon as the order is invoiced, and resolves this ticket "
    "itself; press Retry to try at once."
)


def seed(apps, schema_editor):
    ExceptionType = apps.get_model("exceptions", "ExceptionType")
    for spec in TYPES:
        ExceptionType.objects.get_or_create(code=spec["code"], defaults=spec)
    # The catalogue is ecommerce's: they fix the product, so the order's ticket is theirs.
    ExceptionType.objects.filter(code="unmapped_sku").update(
        owner_team="ecommerce", how_to_fix=SKU_FIX
    )
    ExceptionType.objects.filter(code="refund_blocked").update(how_to_fix=REFUND_FIX)


def unseed(apps, schema_editor):
    ExceptionType = apps.get_model("exceptions", "ExceptionType")
    ExceptionType.objects.filter(code="unmapped_sku").update(owner_team="operations")


class Migration(migrations.Migration):
    dependencies = [("exceptions", "0012_history_ticket_types")]
    operations = [migrations.RunPython(seed, unseed)]

"""BigCommerce orders (issue 13): a ticket for a shipped note BigCommerce was never told of, and
one for a refund that cannot be credited as it stands;
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
    {
        "code": "refund_unmatched",
        "title": "Refund not credited: its lines do not match the order",
        "what_happened": "A refund made in the storefront could not become a sales credit in Brightpearl: it refunds no goods (shipping or a fee alone), or a refunded line is not on the Brightpearl order (the ticket says which).",
        "why_it_matters": "The customer has their money back but Brightpearl's books do not show it: the month's takings will not reconcile with the payouts.",
        "how_to_fix": "Raise the sales credit in Brightpearl by hand for the amount on the ticket (for a shipping refund, a credit with a shipping line), then resolve the ticket with a note. If the Brightpearl order lacks the line, correct the order first and press Retry.",
        "owner_team": "finance",
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

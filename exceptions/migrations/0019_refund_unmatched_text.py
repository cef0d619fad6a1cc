"""The "refund not credited" ticket's text, brought up to date: a refund of shipping, a fee or a
custom amount alone is now credited (a sales credit with a line for it), so the only refunds
this ticket is left for are those whose goods cannot be found on the order."""

from django.db import migrations

TEXT = {
    "title": "Refund not credited: its lines do not match the order",
    "what_happened": "A refund made in the storefront could not become a sales credit in "
    "Brightpearl: a refunded product is not on the storefront order, its SKU is not on the "
    "Brightpearl order, or the refund lists nothing refunded (the ticket says which). Refunds of shipping, handling, gift wrapping or "
    "a custom amount are credited as they come; this is about goods only.",
    "why_it_matters": "The customer has their money back but Brightpearl's books do not show "
    "it: the month's takings will not reconcile with the payouts.",
    "how_to_fix": "If the Brightpearl order lacks the line (or has it under another SKU), "
    "correct the order in Brightpearl, then press Retry: the credit is posted for the whole "
    "refund. If the order is right as it stands, raise the sales credit in Brightpearl by "
    "hand for the amount on the ticket, then resolve the ticket with a note saying so.",
}
# What 0013 wrote, put back on the way down.
BEFORE = {
    "what_happened": "A refund made in the storefront could not become a sales credit in "
    "Brightpearl: it refunds no goods (shipping or a fee alone), or a refunded line is not on "
    "the Brightpearl order (the ticket says which).",
    "how_to_fix": "Raise the sales credit in Brightpearl by hand for the amount on the ticket "
    "(for a shipping refund, a credit with a shipping line), then resolve the ticket with a "
    "note. If the Brightpearl order lacks the line, correct the order first and press Retry.",
}


def seed(apps, schema_editor):
    ExceptionType = apps.get_model("exceptions", "ExceptionType")
    ExceptionType.objects.filter(code="refund_unmatched").update(**TEXT)


def unseed(apps, schema_editor):
    ExceptionType = apps.get_model("exceptions", "ExceptionType")
    ExceptionType.objects.filter(code="refund_unmatched").update(**BEFORE)


class Migration(migrations.Migration):
    dependencies = [("exceptions", "0018_merge_salesforce_account_unlinked_type")]
    operations = [migrations.RunPython(seed, unseed)]

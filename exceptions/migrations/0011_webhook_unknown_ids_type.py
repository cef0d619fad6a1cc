"""The type of the ticket a webhook source gets when it keeps naming records that do not exist
(syncs/webhook_sources.py): one ticket per source, for operations."""

from django.db import migrations

TYPES = [
    {
        "code": "webhook_unknown_ids",
        "title": "Webhook source sending ids that do not exist",
        "what_happened": "Webhooks sent to this brand's address kept naming records (orders, contacts, notes…) that the vendor does not have, many more than real ones. The console looked each batch up once, read none of the missing records, and now refuses this address's webhooks for a while.",
        "why_it_matters": "Every record the console reads spends the brand's API allowance (Brightpearl allows 200 requests a minute for everything). A sender naming records that do not exist, by mistake or on purpose, would otherwise spend it on nothing and slow real syncs. While the address is refused, real changes still arrive through the scheduled runs, a little later than by webhook.",
        "how_to_fix": "Find out who sends to this address: another app or integration pointed at it, a test script, or someone who learned the address. Stop it. If the address has leaked, ask the agency to give the connection a new webhook address and register the webhooks again; the old address then stops working. The ticket resolves itself once the source has stopped.",
        "owner_team": "operations",
        "severity": "medium",
        "retryable": False,
    },
]


def seed(apps, schema_editor):
    ExceptionType = apps.get_model("exceptions", "ExceptionType")
    for spec in TYPES:
        ExceptionType.objects.get_or_create(code=spec["code"], defaults=spec)


class Migration(migrations.Migration):
    dependencies = [("exceptions", "0010_unmapped_value_type")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

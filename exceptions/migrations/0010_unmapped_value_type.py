"""The type of a value map's quarantine ticket: records wait on a value with no mapping.

Each ticket goes to the team that owns its kind of value map (declared with the kind); this
type's own team is only the default for a kind that names none.
"""

from django.db import migrations

TYPES = [
    {
        "code": "unmapped_value",
        "title": "A value has no mapping",
        "what_happened": "Records arrived with a value (a payment method, a customer group, a warehouse, a status…) that this brand has not mapped to the other system yet. The console never guesses a translation, so these records were not sent: they wait. This ticket lists them.",
        "why_it_matters": "Until the value is mapped, every record that carries it waits: an order is not created, stock is not updated, a customer is not sent. Guessing instead could post a payment to the wrong account or sell at the wrong price.",
        "how_to_fix": "Open the brand's Mappings page, find the tab named in the title, and map the value (the preview shows how many waiting records it releases). Saving resolves this ticket and sends the waiting records. If the value is a mistake in the other system, correct it there instead: the records go on their next change.",
        "owner_team": "operations",
        "severity": "high",
        "retryable": False,
    },
]


def seed(apps, schema_editor):
    ExceptionType = apps.get_model("exceptions", "ExceptionType")
    for spec in TYPES:
        ExceptionType.objects.get_or_create(code=spec["code"], defaults=spec)


class Migration(migrations.Migration):
    dependencies = [("exceptions", "0009_brand_moved_to_brands")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

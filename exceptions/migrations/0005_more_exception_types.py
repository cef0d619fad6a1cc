"""Two more types the engine raises: a record it cannot read, and a run that crashed."""

from django.db import migrations

TYPES = [
    {
        "code": "record_unreadable",
        "title": "Record could not be read",
        "what_happened": "The console could not turn this Brightpearl record into what the target expects: a value it needs is missing or in an unexpected form. The record was not sent; the others in its batch were.",
        "why_it_matters": "The target does not have this record, so the customer or order is missing from it until the data is fixed.",
        "how_to_fix": "Open the record in Brightpearl and check the field named in the error below. Correct it, then press Retry. If the data looks right, ask the agency: the error is in the server log too.",
        "owner_team": "operations",
        "severity": "medium",
        "retryable": True,
    },
    {
        "code": "run_crashed",
        "title": "A sync stopped on an unexpected error",
        "what_happened": "A run of this flow stopped on an error the console did not expect. What it had sent before the error is recorded; the rest was not sent.",
        "why_it_matters": "Until the cause is fixed, each run of this flow may stop at the same place, and later changes wait behind it.",
        "how_to_fix": "This needs the agency: the details are in the server log under the run's number. Once fixed, press Retry or wait for the next scheduled run.",
        "owner_team": "admin",
        "severity": "high",
        "retryable": True,
    },
]


def seed(apps, schema_editor):
    ExceptionType = apps.get_model("exceptions", "ExceptionType")
    for spec in TYPES:
        ExceptionType.objects.get_or_create(code=spec["code"], defaults=spec)


class Migration(migrations.Migration):
    dependencies = [("exceptions", "0004_daily_digest_schedule")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

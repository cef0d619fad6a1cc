"""The ticket for a Salesforce upsert whose External Id matches several records: Salesforce
writes nothing then (300 Multiple Choices), and the console never picks one."""

from django.db import migrations

TYPES = [
    {
        "code": "salesforce_multiple_matches",
        "title": "Several Salesforce records carry one Brightpearl id",
        "what_happened": "The console sent a Brightpearl customer to Salesforce by its Brightpearl id, and Salesforce found more than one record holding that id in its Brightpearl id field (a duplicate made by an import or by hand). Salesforce wrote none of them, and the console did not pick one.",
        "why_it_matters": "Until one record is left, this customer's changes do not reach Salesforce: sales work from an out-of-date account and contact, and may call the wrong one of the two.",
        "how_to_fix": "Open the records listed below in Salesforce and choose the right one. Merge the others into it (Salesforce's Merge Accounts or Merge Contacts), or clear the Brightpearl id on the wrong ones. Then press Retry: the customer goes to the one record left.",
        "owner_team": "operations",
        "severity": "medium",
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

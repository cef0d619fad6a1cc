"""Two types raised by the history's checks (syncs/history/): a flow far below its own
normal volume, and records the daily reconciliation found out of date in the target."""

from django.db import migrations

TYPES = [
    {
        "code": "silent_flow",
        "title": "A flow has gone quiet",
        "what_happened": "Far fewer records went through this flow than usually do at this hour of the week (the title says how many, and how many usually do). Nothing failed: no run stopped and no record was refused, which is why no other ticket was raised.",
        "why_it_matters": "Silence can hide a break upstream: orders no longer reaching Brightpearl from a sales channel, a vendor that stopped sending webhooks, or a change that keeps records from being read. Customers, campaigns and reports miss those records until someone notices.",
        "how_to_fix": "Open the flow's page (History in the menu) and look at its recent runs, then check that new records are arriving in the source system itself. If the quiet is expected (a holiday, a paused channel), resolve this ticket with a note. It resolves itself once the usual volume returns.",
        "owner_team": "operations",
        "severity": "high",
        "retryable": False,
    },
    {
        "code": "drift_found",
        "title": "The daily check corrected records that differed",
        "what_happened": "Once a day the console reads every record of the flow and compares it with what it last sent to the target system. This time some records were out of date in the target although the source had not reported them changed since the flow's previous run. The check sent them again, so they match now; the ticket lists them.",
        "why_it_matters": "Until the check ran, the target worked from old data for these records (a wrong status, a missing attribute), and the regular syncs did not notice. If it keeps happening, changes are slipping past the regular syncs.",
        "how_to_fix": "Look at a few of the listed records to find the cause: a change that does not move Brightpearl's “last updated” time (a custom field), an edit made directly in the target system, or a mapping changed since the last check (the ticket says when there was one). Nothing needs sending again. The ticket resolves itself when a daily check finds nothing to correct; resolve it sooner with a note once the cause is known.",
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
    dependencies = [("exceptions", "0011_webhook_unknown_ids_type")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

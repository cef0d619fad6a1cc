"""The agency's default status template, and the sweeper that runs every minute."""

from django.db import migrations

DEFAULTS = [
    # Brightpearl's standard sales-order statuses and common custom ones, by name.
    ("Draft / Quote", "pending", "placed"),
    ("New web order", "pending", "placed"),
    ("New order", "pending", "placed"),
    ("New phone order", "pending", "placed"),
    ("Awaiting payment", "pending", "awaiting_payment"),
    ("Payment received", "pending", "processing"),
    ("Awaiting stock", "pending", "processing"),
    ("Backorder", "pending", "processing"),
    ("Ready to ship", "pending", "processing"),
    ("Picking", "pending", "processing"),
    ("On hold", "pending", "on_hold"),
    ("Partially shipped", "pending", "partially_shipped"),
    ("Dispatched", "shipped", "shipped"),
    ("Shipped", "shipped", "shipped"),
    ("Invoiced", "complete", "completed"),
    ("Completed", "complete", "completed"),
    ("Returned", "complete", "returned"),
    ("Cancelled", "cancelled", "cancelled"),
    # Fraud is never a sale: cancelled and not valid, so no "on its way" email.
    ("Fraud hold", "cancelled", "cancelled"),
    ("Fraud", "cancelled", "cancelled"),
]


def seed(apps, schema_editor):
    Default = apps.get_model("syncs", "DefaultStatusMapping")
    for name, status, stage in DEFAULTS:
        Default.objects.get_or_create(
            bp_status_name=name, defaults={"ometria_status": status, "lifecycle_stage": stage}
        )
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        name="console: sweep runs, webhooks, delays and rejections",
        defaults={"func": "syncs.tasks.sweep", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def unseed(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func="syncs.tasks.sweep").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("syncs", "0002_default_status_mapping"),
        ("django_q", "0017_task_cluster_alter"),
    ]
    operations = [migrations.RunPython(seed, unseed)]

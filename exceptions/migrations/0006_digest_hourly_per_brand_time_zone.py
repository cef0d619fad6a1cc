"""The digest goes at 07:00 in each brand's time zone: its schedule runs every hour and sends
to the brands for which it is 07:00 (exceptions.digest.digest_due)."""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone

FUNC = "exceptions.tasks.send_digest"


def hourly(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    # On the hour, so a brand whose zone is a whole number of hours from UTC gets it at 07:00.
    next_hour = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    Schedule.objects.update_or_create(
        func=FUNC,
        defaults={
            "name": "console: exception digest (07:00 in each brand's time zone)",
            "schedule_type": "H",
            "repeats": -1,
            "next_run": next_hour,
        },
    )


def daily(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(func=FUNC).update(
        name="console: daily exception digest", schedule_type="D"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("exceptions", "0005_more_exception_types"),
    ]
    operations = [migrations.RunPython(hourly, daily)]

"""The digest goes at 07:00 in each brand's time zone: its schedule runs every hour and sends
to the brands whose 07:00 has come and not been served (exceptions.digest.digest_due)."""

import zoneinfo
from datetime import timedelta

from django.conf import settings

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
    # Back to one run a day at 07:00 in the console's time zone (as 0004 made it).
    local = timezone.now().astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE))
    first = local.replace(hour=7, minute=0, second=0, microsecond=0)
    if first <= local:
        first += timedelta(days=1)
    apps.get_model("django_q", "Schedule").objects.filter(func=FUNC).update(
        name="console: daily exception digest", schedule_type="D", next_run=first
    )


class Migration(migrations.Migration):
    dependencies = [
        ("exceptions", "0005_more_exception_types"),
    ]
    operations = [migrations.RunPython(hourly, daily)]

"""The daily digest: a django-q2 schedule that e-mails each team its open tickets at 07:00."""

import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone

NAME = "console: daily exception digest"
FUNC = "exceptions.tasks.send_digest"


def seed(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    # The first run is the next 07:00 in the console's time zone; django-q keeps the
    # local hour across daylight-saving changes.
    local = timezone.now().astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE))
    first = local.replace(hour=7, minute=0, second=0, microsecond=0)
    if first <= local:
        first += timedelta(days=1)
    Schedule.objects.get_or_create(
        func=FUNC,
        defaults={"name": NAME, "schedule_type": "D", "repeats": -1, "next_run": first},
    )


def unseed(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=FUNC).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("exceptions", "0003_ticket_facets_index"),
        ("django_q", "0017_task_cluster_alter"),
    ]
    operations = [migrations.RunPython(seed, unseed)]

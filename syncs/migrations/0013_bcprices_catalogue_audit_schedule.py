"""The weekly catalogue audit (issue 13): a django-q2 schedule, every Monday at 06:00 in the
console's time zone, that audits every brand with a storefront (syncs.tasks.catalogue_audits)."""

import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone

NAME = "console: weekly catalogue audit"
FUNC = "syncs.tasks.catalogue_audits"


def seed(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    local = timezone.now().astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE))
    first = local.replace(hour=6, minute=0, second=0, microsecond=0)
    first += timedelta(days=(7 - first.weekday()) % 7)
    if first <= local:
        first += timedelta(days=7)
    Schedule.objects.get_or_create(
        func=FUNC,
        defaults={"name": NAME, "schedule_type": "W", "repeats": -1, "next_run": first},
    )


def unseed(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=FUNC).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("syncs", "0012_ometria_pushes"),
        ("django_q", "0017_task_cluster_alter"),
    ]
    operations = [migrations.RunPython(seed, unseed)]

"""The catalogue audit is scheduled weekly, as the daily digest is: a django-q schedule made by
a migration, on Monday mornings."""

from __future__ import annotations

import zoneinfo

import pytest
from django.conf import settings
from django_q.models import Schedule

pytestmark = pytest.mark.django_db


def test_a_migration_schedules_the_audit_every_monday_at_six():
    schedule = Schedule.objects.get(func="syncs.tasks.catalogue_audits")
    assert schedule.schedule_type == Schedule.WEEKLY and schedule.repeats == -1
    local = schedule.next_run.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE))
    assert (local.weekday(), local.hour, local.minute) == (0, 6, 0)

"""Refunds held back by their order's unmapped status now wait on the status id (as orders
and shipments do), so one ticket per status lists them all; before, they waited on their
order's id. The status is in the reason they were given: “Status “X” (id 25) …”."""

import re

from django.db import migrations

STATUS_ID = re.compile(r"\(id (\d+)\)")


def wait_on_the_status(apps, schema_editor):
    RecordState = apps.get_model("syncs", "RecordState")
    for state in RecordState.objects.filter(flow="refunds", status="waiting").only(
        "pk", "detail", "match_key"
    ):
        found = STATUS_ID.search(state.detail or "")
        if found and found.group(1) != state.match_key:
            RecordState.objects.filter(pk=state.pk).update(match_key=found.group(1))


class Migration(migrations.Migration):
    dependencies = [("syncs", "0008_value_maps")]

    operations = [migrations.RunPython(wait_on_the_status, migrations.RunPython.noop)]

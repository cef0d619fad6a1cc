from django.db import migrations, models


def backfill(apps, schema_editor):
    # Records already held back have waited at least since their state was last written.
    RecordState = apps.get_model("syncs", "RecordState")
    RecordState.objects.filter(status__in=["waiting", "failed"]).update(
        held_since=models.F("changed")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("syncs", "0004_mapping_change"),
    ]

    operations = [
        migrations.AddField(
            model_name="recordstate",
            name="held_since",
            field=models.DateTimeField(
                blank=True,
                help_text="When it first waited or failed; empty once it syncs.",
                null=True,
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]

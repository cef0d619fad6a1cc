"""The one table of value maps, and a history whose `kind` holds a value map kind's code.

Self-contained (it touches only ValueMap and MappingChange.kind), so it can be renumbered.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("brands", "0002_own_tables"),
        ("syncs", "0007_record_links"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="mappingchange",
            name="kind",
            field=models.CharField(max_length=60),
        ),
        migrations.CreateModel(
            name="ValueMap",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(help_text="Which kind of value map (its code).", max_length=60),
                ),
                (
                    "source_value",
                    models.CharField(
                        help_text="The value as the source system gives it (an id, a name).",
                        max_length=150,
                    ),
                ),
                (
                    "source_label",
                    models.CharField(
                        blank=True,
                        help_text="Its name in the source system, when it has one.",
                        max_length=200,
                    ),
                ),
                (
                    "target_value",
                    models.CharField(help_text="What the target system gets.", max_length=150),
                ),
                ("extra", models.JSONField(blank=True, default=dict)),
                (
                    "note",
                    models.CharField(blank=True, help_text="Why it is mapped so.", max_length=300),
                ),
                ("updated", models.DateTimeField(auto_now=True)),
                (
                    "brand",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="value_maps",
                        to="brands.brand",
                    ),
                ),
                (
                    "updated_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "value map",
                "ordering": ["brand__name", "kind", "source_value"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("brand", "kind", "source_value"), name="one_value_map_per_source"
                    )
                ],
            },
        ),
    ]

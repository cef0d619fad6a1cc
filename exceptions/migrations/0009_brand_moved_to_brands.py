"""Brand, Membership and AuditEvent moved from console to brands (the bottom layer)."""

import django.db.models.deletion
from django.db import migrations, models



class Migration(migrations.Migration):

    dependencies = [
        ('brands', '0001_initial'),
        ('exceptions', '0008_record_fingerprints_by_flow'),
    ]

    # State only: the tables stay as they are; only the models' app changes.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='teamoverride',
                    name='brand',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='team_overrides', to='brands.brand'),
                ),
                migrations.AlterField(
                    model_name='ticket',
                    name='brand',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='tickets', to='brands.brand'),
                ),
                ],
        ),
    ]

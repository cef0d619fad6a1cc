"""Brand, Membership and AuditEvent moved from console to brands (the bottom layer)."""

import django.db.models.deletion
from django.db import migrations, models



class Migration(migrations.Migration):

    dependencies = [
        ('brands', '0001_initial'),
        ('syncs', '0005_record_held_since'),
    ]

    # State only: the tables stay as they are; only the models' app changes.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='attributemapping',
                    name='brand',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attribute_mappings', to='brands.brand'),
                ),
                migrations.AlterField(
                    model_name='checkpoint',
                    name='brand',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='checkpoints', to='brands.brand'),
                ),
                migrations.AlterField(
                    model_name='flowconfig',
                    name='brand',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='flow_configs', to='brands.brand'),
                ),
                migrations.AlterField(
                    model_name='mappingchange',
                    name='brand',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='mapping_changes', to='brands.brand'),
                ),
                migrations.AlterField(
                    model_name='recordstate',
                    name='brand',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='record_states', to='brands.brand'),
                ),
                migrations.AlterField(
                    model_name='statusmapping',
                    name='brand',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='status_mappings', to='brands.brand'),
                ),
                migrations.AlterField(
                    model_name='syncrun',
                    name='brand',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sync_runs', to='brands.brand'),
                ),
                migrations.AlterField(
                    model_name='webhookevent',
                    name='brand',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='webhook_events', to='brands.brand'),
                ),
                ],
        ),
    ]

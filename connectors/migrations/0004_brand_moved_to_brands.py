"""Brand, Membership and AuditEvent moved from console to brands (the bottom layer)."""

import django.db.models.deletion
from django.db import migrations, models



class Migration(migrations.Migration):

    dependencies = [
        ('brands', '0001_initial'),
        ('connectors', '0003_budget_in_flight'),
    ]

    # State only: the tables stay as they are; only the models' app changes.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='connection',
                    name='brand',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='connections', to='brands.brand'),
                ),
                migrations.AlterField(
                    model_name='ratebudget',
                    name='brand',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='rate_budgets', to='brands.brand'),
                ),
                ],
        ),
    ]

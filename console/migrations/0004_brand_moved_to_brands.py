"""Brand, Membership and AuditEvent moved from console to brands (the bottom layer)."""

import django.db.models.deletion
from django.db import migrations, models



class Migration(migrations.Migration):

    dependencies = [
        ('brands', '0001_initial'),
        ('connectors', '0004_brand_moved_to_brands'),
        ('console', '0003_onboarding'),
        ('exceptions', '0009_brand_moved_to_brands'),
        ('syncs', '0006_brand_moved_to_brands'),
    ]

    # State only: the tables stay as they are; only the models' app changes.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='membership',
                    name='brand',
                ),
                migrations.AlterField(
                    model_name='onboarding',
                    name='brand',
                    field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='onboarding', to='brands.brand'),
                ),
                migrations.RemoveField(
                    model_name='membership',
                    name='user',
                ),
                migrations.DeleteModel(
                    name='AuditEvent',
                ),
                migrations.DeleteModel(
                    name='Brand',
                ),
                migrations.DeleteModel(
                    name='Membership',
                ),
                ],
        ),
    ]

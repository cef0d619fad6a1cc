"""Brand, Membership and AuditEvent moved from console to brands (the bottom layer)."""

import brands.models
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models



class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('console', '0003_onboarding'),
    ]

    # State only: the tables stay as they are; only the models' app changes.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Brand',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=120, unique=True)),
                        ('slug', models.SlugField(help_text='Short name used in URLs and commands.', max_length=60, unique=True)),
                        ('timezone', models.CharField(default='Europe/London', help_text="The brand's local time, used for schedules and digests.", max_length=64, validators=[brands.models.validate_timezone])),
                        ('active', models.BooleanField(default=True, help_text='An inactive brand runs no flows and sends no digests.')),
                        ('created', models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        'verbose_name': 'client brand',
                        'db_table': 'console_brand',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='AuditEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('action', models.CharField(db_index=True, max_length=60)),
                        ('target', models.CharField(blank=True, max_length=200)),
                        ('summary', models.CharField(blank=True, max_length=500)),
                        ('detail', models.JSONField(blank=True, default=dict)),
                        ('actor', models.ForeignKey(blank=True, help_text='Empty when the console itself acted (a schedule, a webhook).', null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL)),
                        ('brand', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='audit_events', to='brands.brand')),
                    ],
                    options={
                        'verbose_name': 'audit event',
                        'db_table': 'console_auditevent',
                        'ordering': ['-created'],
                    },
                ),
                migrations.CreateModel(
                    name='Membership',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('team', models.CharField(choices=[('marketing', 'Marketing'), ('operations', 'Operations'), ('finance', 'Finance'), ('ecommerce', 'Ecommerce'), ('customer_service', 'Customer service'), ('admin', 'Admin')], max_length=32)),
                        ('brand', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='brands.brand')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'team membership',
                        'db_table': 'console_membership',
                        'ordering': ['brand__name', 'team'],
                        'constraints': [models.UniqueConstraint(fields=('user', 'brand', 'team'), name='one_membership_per_team')],
                    },
                ),
                ],
        ),
    ]

# Joins two migrations made side by side: the weekly catalogue audit's schedule and the
# Salesforce polling watermarks.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("syncs", "0013_bcprices_catalogue_audit_schedule"),
        ("syncs", "0013_sfin_poll_watermarks"),
    ]

    operations = []

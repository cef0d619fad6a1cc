"""An async rejection ticket no longer resolves when Ometria answers OK to the record sent
again (it checks later): say when it does. Text the agency changed is left alone."""

from django.db import migrations

OLD = (
    "Read the error Ometria gave. Correct the record in Brightpearl (an email address, a total, "
    "a currency), then press Retry."
)
NEW = (
    "Read the error Ometria gave. Correct the record in Brightpearl (an email address, a total, "
    "a currency); the next sync sends it again, or press Retry. The ticket resolves itself once "
    "Ometria has had ten minutes to check the corrected record and has not rejected it."
)


def seed(apps, schema_editor):
    apps.get_model("exceptions", "ExceptionType").objects.filter(
        code="async_rejection", how_to_fix=OLD
    ).update(how_to_fix=NEW)


def backwards(apps, schema_editor):
    apps.get_model("exceptions", "ExceptionType").objects.filter(
        code="async_rejection", how_to_fix=NEW
    ).update(how_to_fix=OLD)


class Migration(migrations.Migration):
    dependencies = [("exceptions", "0006_digest_hourly_per_brand_time_zone")]
    operations = [migrations.RunPython(seed, backwards)]

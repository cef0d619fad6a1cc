"""The moved models take their own app's table names, and their content types (and so
their permissions and admin history) follow them to the brands app."""

from django.db import migrations


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ("brand", "membership", "auditevent"):
        if not ContentType.objects.filter(app_label="brands", model=model).exists():
            ContentType.objects.filter(app_label="console", model=model).update(app_label="brands")


def back_to_console(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ("brand", "membership", "auditevent"):
        ContentType.objects.filter(app_label="brands", model=model).update(app_label="console")


class Migration(migrations.Migration):
    dependencies = [
        ("brands", "0001_initial"),
        ("console", "0004_brand_moved_to_brands"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelTable(name="brand", table=None),
        migrations.AlterModelTable(name="membership", table=None),
        migrations.AlterModelTable(name="auditevent", table=None),
        migrations.RunPython(move_content_types, back_to_console),
    ]

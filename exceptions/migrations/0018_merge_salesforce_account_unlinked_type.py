# Joins the Salesforce → Brightpearl ticket type (added side by side) to the others.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("exceptions", "0016_sfin_salesforce_account_unlinked_type"),
        ("exceptions", "0017_merge_prices_and_salesforce_orders_types"),
    ]

    operations = []

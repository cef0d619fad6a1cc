# Joins the ticket types added side by side: prices and the catalogue audit (BigCommerce),
# and Salesforce orders and credits.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("exceptions", "0016_bcprices_price_and_catalogue_types"),
        ("exceptions", "0016_sforders_salesforce_order_types"),
    ]

    operations = []

"""`python manage.py shipments_report BRAND [--days N]`: the shipment reconciliation report.

Lists every goods-out note shipped in Brightpearl in the last N days, on an order that came
from BigCommerce, that has no BigCommerce shipment, and tickets each (operations). The daily
full run of Shipments → BigCommerce makes the same check by itself; this prints it now.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from brands.models import Brand
from syncs.flows.bigcommerce.shipment_check import CHECK_DAYS, shipments_check


class Command(BaseCommand):
    help = "Shipped Brightpearl notes with no BigCommerce shipment: listed and ticketed."

    def add_arguments(self, parser) -> None:
        parser.add_argument("brand", help="The brand's slug.")
        parser.add_argument("--days", type=int, default=CHECK_DAYS, help="How far back to look.")

    def handle(self, *args, **options) -> None:
        brand = Brand.objects.filter(slug=options["brand"]).first()
        if brand is None:
            raise CommandError(f"There is no brand “{options['brand']}”.")
        report = shipments_check(brand_id=brand.pk, days=options["days"])
        self.stdout.write(json.dumps(report))

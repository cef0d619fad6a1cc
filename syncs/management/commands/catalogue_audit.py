"""`python manage.py catalogue_audit BRAND`: the catalogue audit, now.

Compares the brand's BigCommerce and Brightpearl catalogues, tickets each SKU only one of them
has (ecommerce), resolves the tickets of gaps that have closed, and prints one JSON line with
the counts. The weekly schedule (syncs.tasks.catalogue_audits) makes the same audit.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from brands.models import Brand
from syncs.flows.bigcommerce.catalogue_audit import catalogue_audit


class Command(BaseCommand):
    help = (
        "SKUs in BigCommerce and not in Brightpearl, and the other way round: counted and ticketed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("brand", help="The brand's slug.")
        parser.add_argument("--list", action="store_true", help="Print the SKUs of each gap too.")

    def handle(self, *args, **options) -> None:
        brand = Brand.objects.filter(slug=options["brand"]).first()
        if brand is None:
            raise CommandError(f"There is no brand “{options['brand']}”.")
        report = catalogue_audit(brand_id=brand.pk)
        out = {
            "brand": brand.slug,
            "bigcommerce_skus": report["bigcommerce_skus"],
            "brightpearl_skus": report["brightpearl_skus"],
            "only_in_bigcommerce": len(report["only_in_bigcommerce"]),
            "only_in_brightpearl": len(report["only_in_brightpearl"]),
            "resolved": report["resolved"],
        }
        if options["list"]:
            out["skus_only_in_bigcommerce"] = report["only_in_bigcommerce"]
            out["skus_only_in_brightpearl"] = report["only_in_brightpearl"]
        self.stdout.write(json.dumps(out))

"""`python manage.py import_order BRAND NUMBER`: import one BigCommerce order into Brightpearl
now (then its payment), by the same flow and rules as every other order."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from brands.models import Brand
from syncs.flows.bigcommerce.imports import ImportRefused, storefront_order_import


class Command(BaseCommand):
    help = "Import one BigCommerce order (by its number) into Brightpearl, here and now."

    def add_arguments(self, parser) -> None:
        parser.add_argument("brand", help="The brand's slug.")
        parser.add_argument("number", help="The BigCommerce order number, such as 10234.")

    def handle(self, *args, **options) -> None:
        brand = Brand.objects.filter(slug=options["brand"]).first()
        if brand is None:
            raise CommandError(f"There is no brand “{options['brand']}”.")
        try:
            outcome = storefront_order_import(brand=brand, number=options["number"], now=True)
        except ImportRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(outcome.sentence)

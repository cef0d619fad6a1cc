"""`python manage.py bench_prices [--skus N]`: the nightly price push and the catalogue audit
at catalogue scale, one JSON line (see syncs/management/bench_prices.py). Run it on a
database of its own: it makes the brand "bench-prices" afresh."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from syncs.management.bench_prices import SLUG, bench_prices
from syncs.management.processes import require_migrated, require_own_database


class Command(BaseCommand):
    help = "Prices → BigCommerce and the catalogue audit for N SKUs: calls, writes, tickets."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--skus", type=int, default=10_000, help="Products added.")

    def handle(self, *args, skus: int, **options) -> None:
        require_migrated()
        require_own_database(SLUG, "bench_prices")
        figures = bench_prices(skus=skus, say=lambda line: self.stderr.write(line))
        self.stdout.write(json.dumps(figures))

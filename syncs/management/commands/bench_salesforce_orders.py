"""`python manage.py bench_salesforce_orders`: Orders and credits → Salesforce on a sandbox of
its own, one JSON line (syncs/management/bench_salesforce_orders.py says what it measures)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from syncs.management.bench_salesforce_orders import bench_salesforce_orders


class Command(BaseCommand):
    help = (
        "Send N seeded Brightpearl orders and their credits to a sandbox Salesforce; print the "
        "calls they took as one JSON line."
    )

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=5_000, help="Orders seeded and sent.")

    def handle(self, *args, orders: int, **options):
        figures = bench_salesforce_orders(orders=orders, stderr=self.stderr)
        self.stdout.write(json.dumps(figures))

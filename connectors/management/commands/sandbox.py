"""`python manage.py sandbox`: serve the five simulated vendors until Ctrl-C."""

from __future__ import annotations

import signal
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from connectors.sandbox.faults import parse_cli_fault
from connectors.sandbox.server import App, SandboxServer


class Command(BaseCommand):
    help = (
        "Run the vendor sandbox: Brightpearl, Ometria, Mailchimp, BigCommerce and Salesforce on "
        "one HTTP server, with state in its own SQLite file."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8100)
        parser.add_argument(
            "--seed",
            choices=("demo", "none"),
            help="Seed to load with --reset, or into an empty database.",
        )
        parser.add_argument("--orders", type=int, help="Orders in the demo seed (default 300).")
        parser.add_argument(
            "--second-orders",
            type=int,
            help="Orders of the demo seed's second brand (default 20), e.g. for two brands "
            "of a size.",
        )
        parser.add_argument("--reset", action="store_true", help="Wipe the database first.")
        parser.add_argument("--db", default=None, help="Database file (default SANDBOX_DB).")
        parser.add_argument(
            "--time-scale",
            type=float,
            default=1.0,
            help="A vendor 'minute' lasts 1/X of a real one (rate windows and retry delays).",
        )
        parser.add_argument(
            "--fault",
            action="extend",
            nargs="+",
            default=[],
            metavar="VENDOR:key=value[,key=value]",
            help=(
                "Fault plans, e.g. --fault brightpearl:error_rate=0.2 ometria:latency_ms=50 "
                "bigcommerce:lost_write_rate=0.1 (keys: see connectors/sandbox/README.md)."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        db_path = options["db"] or settings.SANDBOX_DB
        faults = []
        for text in options["fault"]:
            try:
                faults.append(parse_cli_fault(text))
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        app = App(db_path, time_scale=options["time_scale"])
        started = time.monotonic()
        summary = "kept the existing data"
        if options["reset"] or app.is_empty():
            facts = app.reset(
                options["seed"] or "none", options["orders"], options["second_orders"]
            )
            summary = _summary(facts, time.monotonic() - started)
        elif options["seed"]:
            summary = "kept the existing data (use --reset to reseed)"
        for vendor, plan in faults:
            try:
                app.faults.set(vendor, plan)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        try:
            server = SandboxServer((options["host"], options["port"]), app)
        except OSError as exc:
            raise CommandError(
                f"Cannot listen on {options['host']}:{options['port']}: {exc}"
            ) from exc
        url = f"http://{options['host']}:{server.server_address[1]}"
        app.base_url = url
        self.stdout.write(f"Vendor sandbox at {url}/  (discovery: {url}/_sandbox/, db: {db_path})")
        self.stdout.write(f"Seed: {summary}")
        if faults:
            self.stdout.write("Faults: " + "; ".join(f"{v} {p}" for v, p in faults))

        def stop(*_: Any) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
            app.close()
            self.stdout.write("Sandbox stopped.")


def _summary(facts: dict[str, Any], seconds: float) -> str:
    if facts.get("kind") != "demo":
        return f"empty accounts for demo and second brands ({seconds:.1f}s)"
    demo = facts["demo"]["brightpearl"]
    low, high = demo["order_ids"] or [0, -1]
    contacts = demo["contact_ids"][1] - demo["contact_ids"][0] + 1
    notes = demo["goods_out_note_ids"][1] - demo["goods_out_note_ids"][0] + 1
    members = facts["demo"]["mailchimp"]["member_count"]
    storefront = facts["demo"]["bigcommerce"]["order_ids"]
    return (
        f"demo: {high - low + 1} Brightpearl orders, {contacts} contacts, {notes} goods-out notes, "
        f"{len(demo['sales_credit_ids'])} sales credits, {members} Mailchimp members, "
        f"{storefront[1] - storefront[0] + 1} BigCommerce orders; plus a second brand with "
        f"{facts.get('second_orders', 0)} orders ({seconds:.1f}s)"
    )

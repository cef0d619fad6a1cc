"""`python manage.py bench --orders N`: sync N seeded orders through all four flows.
(`--pair bigcommerce`: the BigCommerce ↔ Brightpearl figures instead; see
syncs/management/bench_bigcommerce.py.)

`--pair mailchimp` measures the Mailchimp pair instead (a contacts backfill with purchase
events during it): syncs/management/bench_mailchimp.py says what and how.

It starts a vendor sandbox in its own process (seeded with N orders), connects a brand
called "bench" to it (made afresh in the configured database), runs the four flows in
full, and prints one JSON line. By default they run here, one after the other; with
`--workers W` they are queued to a real `qcluster` of W workers, as in production, where
flows that write different records run side by side. Run it on a scratch database:

    DATABASE_URL=sqlite:////tmp/bench.sqlite3 python manage.py migrate
    DATABASE_URL=sqlite:////tmp/bench.sqlite3 python manage.py bench --orders 10000
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from brands.models import Brand
from connectors.sandbox.connect import connect_to_sandbox
from syncs.flows import ometria
from syncs.management.bench_bigcommerce import bench_bigcommerce
from syncs.management.bench_mailchimp import mailchimp_bench
from syncs.management.bench_salesforce import bench_salesforce
from syncs.management.processes import (
    Cluster,
    SandboxProcess,
    require_migrated,
    require_own_database,
)
from syncs.mappings import brightpearl_statuses, mapping_seed_defaults
from syncs.models import RunState, SyncRun, Trigger
from syncs.services import flow_enqueue, flow_run_now

# With --vendor-limits off, both the sandbox and the console's budgets stop limiting, so
# the figure is the console's own speed. With them on it is the vendors' ceiling instead
# (Ometria's 8 pushes a second caps one brand near 800 orders a second).
UNLIMITED = {"rate_limit": 1_000_000, "rate_window_seconds": 1}
RUNS_DEADLINE_SECONDS = 3600
# What it measures: the four Brightpearl → Ometria flows.
FLOWS = [flow.code for flow in ometria.FLOWS]


class Command(BaseCommand):
    help = (
        "Time N seeded orders through all four Brightpearl → Ometria flows; prints one JSON line."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--pair",
            choices=["ometria", "bigcommerce", "mailchimp", "salesforce"],
            default="ometria",
            help="ometria: the four Brightpearl → Ometria flows (below); bigcommerce: stock "
            "calls and refusals, and orders under Brightpearl's cap (syncs/management/"
            "bench_bigcommerce.py); salesforce: Customers, Products and Stock → Salesforce "
            "(--accounts, --products; syncs/management/bench_salesforce.py); mailchimp: a "
            "contacts backfill to Mailchimp with purchase events during it "
            "(syncs/management/bench_mailchimp.py).",
        )
        parser.add_argument(
            "--skus",
            type=int,
            default=10_000,
            help="--pair bigcommerce: products whose stock changes.",
        )
        parser.add_argument(
            "--time-scale",
            type=float,
            default=5.0,
            help="--pair bigcommerce: how much faster than real time the vendors' rate "
            "windows turn (5: Brightpearl's minute lasts 12 s; much faster, and the console's "
            "own pace between calls is measured rather than the cap).",
        )
        parser.add_argument(
            "--contacts", type=int, default=10_000, help="With --pair mailchimp: contacts."
        )
        parser.add_argument(
            "--event-every",
            type=float,
            default=2.0,
            help="With --pair mailchimp: seconds between purchase events (each costs three "
            "Brightpearl calls of its 200 a minute).",
        )
        parser.add_argument(
            "--purchases-backfill",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="With --pair mailchimp: run the purchases backfill (every order) beside the "
            "contacts backfill, as onboarding does, the events still going first (default). "
            "Without it the contacts alone need about 100 of Brightpearl's 200 requests a "
            "minute, no limit binds, and cap_fraction is null.",
        )
        parser.add_argument("--orders", type=int, default=10_000)
        parser.add_argument("--accounts", type=int, default=5_000)
        parser.add_argument(
            "--products",
            type=int,
            default=5_000,
            help="--pair salesforce: the Brightpearl catalogue's size (products → Product2).",
        )
        parser.add_argument(
            "--latency-ms",
            type=int,
            default=0,
            help="Added by the sandbox to every call, as a remote vendor would.",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=0,
            help="0: run the flows here, one after the other; W: queue them to a qcluster "
            "of W workers (the production default is 2).",
        )
        parser.add_argument(
            "--vendor-limits",
            choices=["off", "on"],
            default="off",
            help="off: measure the console; on: the vendors' real rate limits apply.",
        )

    def handle(
        self, *args, orders: int, vendor_limits: str, latency_ms: int, workers: int, **options
    ):
        require_migrated()
        if options["pair"] == "bigcommerce":
            figures = bench_bigcommerce(
                orders=orders,
                skus=options["skus"],
                time_scale=options["time_scale"],
                say=lambda line: self.stderr.write(line),
            )
        if options["pair"] == "salesforce":
            figures = bench_salesforce(
                accounts=options["accounts"], products=options["products"], stderr=self.stderr
            )
        if options["pair"] == "mailchimp":
            figures = mailchimp_bench(
                contacts=options["contacts"],
                event_every=options["event_every"],
                stderr=self.stderr,
                purchases_backfill=options["purchases_backfill"],
            )
        if options["pair"] != "ometria":
            self.stdout.write(json.dumps(figures))
            return
        if workers:
            require_own_database("bench", "the benchmark with --workers")
        self.stderr.write(f"Seeding a sandbox with {orders:,} orders…")
        sandbox = SandboxProcess(orders=orders)
        try:
            if vendor_limits == "off":
                sandbox.post(
                    "config",
                    {
                        "limits": {
                            k: 0
                            for k in (
                                "brightpearl_per_minute",
                                "ometria_per_second",
                                "bigcommerce_per_window",
                                "salesforce_daily",
                            )
                        }
                    },
                )
            for vendor in ("brightpearl", "ometria") if latency_ms else ():
                sandbox.post("faults", {"vendor": vendor, "latency_ms": latency_ms})
            figures = self._run(sandbox.discovery, orders, vendor_limits == "off", workers)
            figures["latency_ms"] = latency_ms
        finally:
            sandbox.stop()
        self.stdout.write(json.dumps(figures))

    def _run(self, discovery: dict, orders: int, unlimited: bool, workers: int) -> dict:
        Brand.objects.filter(slug="bench").delete()
        brand = Brand.objects.create(name="Benchmark", slug="bench")
        for conn in connect_to_sandbox(brand, discovery):
            if unlimited:
                conn.settings = {**conn.settings, **UNLIMITED}
                conn.save()
        mapping_seed_defaults(
            brand=brand, statuses=brightpearl_statuses(brand=brand, refresh=True, wait=True)
        )
        if workers:
            seconds, runs, peak_rss_mb = self._run_on_cluster(brand, workers)
        else:
            seconds, runs = self._run_here(brand)
            peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        failed = [f"{r.flow}: {r.error}" for r in runs if r.state == RunState.FAILED]
        if failed:
            raise CommandError("; ".join(failed))
        per_flow = {
            r.flow: {
                "read": r.read,
                "written": r.written,
                "api_calls": r.api_calls,
                "seconds": round((r.finished_at - r.started_at).total_seconds(), 2),
            }
            for r in runs
        }
        api_calls = sum(r.api_calls for r in runs)
        return {
            "orders": orders,
            "seconds": round(seconds, 2),
            "records_per_s": round(orders / seconds, 1),
            "api_calls": api_calls,
            "api_calls_per_record": round(api_calls / orders, 4),
            "peak_rss_mb": round(peak_rss_mb, 1),
            "workers": workers,
            "vendor_limits": "off" if unlimited else "on",
            "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
            "flows": per_flow,
        }

    def _run_here(self, brand: Brand) -> tuple[float, list[SyncRun]]:
        runs = []
        started = time.perf_counter()
        for code in FLOWS:
            runs.append(flow_run_now(brand=brand, flow=code, full=True))
            self.stderr.write(f"  {code}: {runs[-1].get_state_display()}")
        return time.perf_counter() - started, runs

    def _run_on_cluster(self, brand: Brand, workers: int) -> tuple[float, list[SyncRun], float]:
        """Queue the four runs to a real qcluster; the time is from queueing to the last end.
        Full runs are bulk work: the bulk queue's cluster takes them."""
        cluster = Cluster(workers, queue=settings.BULK_QUEUE or None)
        cluster.start()
        try:
            started = timezone.now()
            ids = [
                flow_enqueue(brand_id=brand.pk, flow=code, trigger=Trigger.MANUAL, full=True).pk
                for code in FLOWS
            ]
            peak_kb = 0
            deadline = time.monotonic() + RUNS_DEADLINE_SECONDS
            while True:
                if not cluster.alive():
                    raise CommandError("The qcluster stopped.")
                if time.monotonic() > deadline:
                    raise CommandError("The runs did not finish within an hour.")
                peak_kb = max(peak_kb, _peak_rss_kb(cluster.proc.pid))
                runs = list(SyncRun.objects.filter(pk__in=ids).order_by("pk"))
                if all(
                    r.state in (RunState.SUCCEEDED, RunState.PARTIAL, RunState.FAILED) for r in runs
                ):
                    break
                time.sleep(0.1)
        finally:
            # Its workers are idle; the figures are in. No need to wait long for a tidy stop.
            cluster.stop()
        seconds = (max(r.finished_at for r in runs) - started).total_seconds()
        return seconds, runs, peak_kb / 1024


def _peak_rss_kb(pid: int) -> int:
    """The largest peak resident size (VmHWM) among a process and its descendants."""
    peak = 0
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        peak = next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")
        )
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                peak = max(peak, _peak_rss_kb(int(child)))
    except (OSError, StopIteration, ValueError):
        pass  # a process that ended between two reads
    return peak

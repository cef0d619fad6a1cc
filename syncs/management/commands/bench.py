"""`python manage.py bench --orders N`: sync N seeded orders through all four flows.

It starts a vendor sandbox in its own process (seeded with N orders), connects a brand
called "bench" to it (made afresh in the configured database), runs the four flows in
full, here, one after the other, and prints one JSON line. Run it on a scratch database:

    DATABASE_URL=sqlite:////tmp/bench.sqlite3 python manage.py migrate
    DATABASE_URL=sqlite:////tmp/bench.sqlite3 python manage.py bench --orders 10000
"""

from __future__ import annotations

import json
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from console.demo import connect_to_sandbox
from console.models import Brand
from syncs.flows import REGISTRY
from syncs.mappings import brightpearl_statuses, mapping_seed_defaults
from syncs.services import flow_run_now

# With --vendor-limits off, both the sandbox and the console's budgets stop limiting, so
# the figure is the console's own speed. With them on it is the vendors' ceiling instead
# (Ometria's 8 pushes a second caps one brand near 800 orders a second).
UNLIMITED = {"rate_limit": 1_000_000, "rate_window_seconds": 1}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Command(BaseCommand):
    help = (
        "Time N seeded orders through all four Brightpearl → Ometria flows; prints one JSON line."
    )

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=10_000)
        parser.add_argument(
            "--latency-ms",
            type=int,
            default=0,
            help="Added by the sandbox to every call, as a remote vendor would.",
        )
        parser.add_argument(
            "--vendor-limits",
            choices=["off", "on"],
            default="off",
            help="off: measure the console; on: the vendors' real rate limits apply.",
        )

    def handle(self, *args, orders: int, vendor_limits: str, latency_ms: int, **options):
        workdir = Path(tempfile.mkdtemp(prefix="console-bench-"))
        port = free_port()
        command = [
            sys.executable,
            str(settings.BASE_DIR / "manage.py"),
            "sandbox",
            "--port",
            str(port),
            "--db",
            str(workdir / "sandbox.sqlite3"),
            "--reset",
            "--seed",
            "demo",
            "--orders",
            str(orders),
        ]
        self.stderr.write(f"Seeding a sandbox with {orders:,} orders…")
        sandbox = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        try:
            discovery = self._wait(f"http://127.0.0.1:{port}/_sandbox/", sandbox)
            if vendor_limits == "off":
                httpx.post(
                    f"http://127.0.0.1:{port}/_sandbox/config",
                    json={
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
                ).raise_for_status()
            for vendor in ("brightpearl", "ometria") if latency_ms else ():
                httpx.post(
                    f"http://127.0.0.1:{port}/_sandbox/faults",
                    json={"vendor": vendor, "latency_ms": latency_ms},
                ).raise_for_status()
            result = self._run(discovery, orders, vendor_limits == "off")
            result["latency_ms"] = latency_ms
        finally:
            sandbox.terminate()
            sandbox.wait(timeout=30)
        self.stdout.write(json.dumps(result))

    def _wait(self, url: str, proc: subprocess.Popen) -> dict:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise CommandError(f"The sandbox stopped: {proc.stderr.read()[-2000:]}")
            try:
                return httpx.get(url, timeout=2).json()
            except httpx.HTTPError:
                time.sleep(0.5)
        raise CommandError("The sandbox did not come up within ten minutes.")

    def _run(self, discovery: dict, orders: int, unlimited: bool) -> dict:
        Brand.objects.filter(slug="bench").delete()
        brand = Brand.objects.create(name="Benchmark", slug="bench")
        for conn in connect_to_sandbox(brand, discovery):
            if unlimited:
                conn.settings = {**conn.settings, **UNLIMITED}
                conn.save()
        mapping_seed_defaults(brand=brand, statuses=brightpearl_statuses(brand=brand, refresh=True))
        api_calls = 0
        per_flow = {}
        started = time.perf_counter()
        for code in REGISTRY:
            t = time.perf_counter()
            run = flow_run_now(brand=brand, flow=code, full=True)
            if run.state == "failed":
                raise CommandError(f"{code} failed: {run.error}")
            api_calls += run.api_calls
            per_flow[code] = {
                "read": run.read,
                "written": run.written,
                "api_calls": run.api_calls,
                "seconds": round(time.perf_counter() - t, 2),
            }
            self.stderr.write(f"  {code}: {per_flow[code]}")
        seconds = time.perf_counter() - started
        return {
            "orders": orders,
            "seconds": round(seconds, 2),
            "records_per_s": round(orders / seconds, 1),
            "api_calls": api_calls,
            "api_calls_per_record": round(api_calls / orders, 4),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "vendor_limits": "off" if unlimited else "on",
            "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
            "flows": per_flow,
        }

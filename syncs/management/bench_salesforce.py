"""`python manage.py bench --pair salesforce --accounts N`: N Brightpearl customers through the
Customers → Salesforce accounts flow, against a sandbox of its own, as one JSON line.

What it reports, for issue 15's acceptance:
- `records`: Salesforce records written (an Account and a Contact per customer);
- `records_per_call`: those records per Salesforce write request (the goal: 200, a full
  sObject collection);
- `api_calls`: Salesforce API calls the run spent, as Salesforce counts them against the daily
  allocation (its `Sforce-Limit-Info` answers, kept on the brand's budget), beside
  `daily_allocation`;
- `peak_rss_mb`: this process's peak resident memory.
The sandbox seeds a customer for every three orders, so N customers take a seed of 3N orders.
"""

from __future__ import annotations

import resource
import time

from django.core.management.base import CommandError

from brands.models import Brand
from connectors.sandbox.connect import connect_to_sandbox
from connectors.usage import daily_allowances
from syncs.flows.salesforce.accounts import FLOW, GROUP_MAP
from syncs.management.processes import SandboxProcess
from syncs.models import RunState, ValueMap
from syncs.services import flow_run_now

# Brightpearl's seed groups (retail, wholesale) → Salesforce Account Types.
GROUPS = {"1": "Customer - Direct", "2": "Customer - Channel"}
# Brightpearl's per-minute limit off (the figure is Salesforce's calls, not Brightpearl's
# pacing); Salesforce's daily allocation stays on, so its Sforce-Limit-Info is real.
BRIGHTPEARL_UNLIMITED = {"rate_limit": 1_000_000, "rate_window_seconds": 1}


def bench_salesforce(*, accounts: int, stderr) -> dict:
    stderr.write(f"Seeding a sandbox with {accounts:,} customers ({accounts * 3:,} orders)…")
    sandbox = SandboxProcess(orders=accounts * 3)
    try:
        sandbox.post("config", {"limits": {"brightpearl_per_minute": 0}})
        Brand.objects.filter(slug="bench-salesforce").delete()
        brand = Brand.objects.create(name="Benchmark (Salesforce)", slug="bench-salesforce")
        for conn in connect_to_sandbox(brand, sandbox.discovery):
            if conn.system == "brightpearl":
                conn.settings = {**conn.settings, **BRIGHTPEARL_UNLIMITED}
            # Bulk work at full speed: no reserve kept back for events in a benchmark.
            conn.settings = {**conn.settings, "rate_bulk_burst": 1, "rate_reserve": 0}
            conn.save()
        for source, target in GROUPS.items():
            ValueMap.objects.create(
                brand=brand, kind=GROUP_MAP, source_value=source, target_value=target
            )
        before = sandbox.get("stats")["salesforce"]["by_method"].get("PATCH", 0)
        started = time.perf_counter()
        run = flow_run_now(brand=brand, flow=FLOW, full=True)
        seconds = time.perf_counter() - started
        if run.state == RunState.FAILED:
            raise CommandError(f"{FLOW}: {run.error}")
        stats = sandbox.get("stats")["salesforce"]
        writes = stats["by_method"].get("PATCH", 0) - before
        # Every customer Salesforce took, created or updated (created ones are counted in
        # `written` too).
        customers = run.written
        allowance = daily_allowances(brand_id=brand.pk).get("salesforce")
    finally:
        sandbox.stop()
    records = 2 * customers
    return {
        "pair": "salesforce",
        "flow": FLOW,
        "customers": customers,
        "records": records,
        "write_calls": writes,
        "records_per_call": round(records / writes, 1) if writes else 0,
        "api_calls": allowance.used if allowance else stats["requests"],
        "daily_allocation": allowance.limit if allowance else None,
        "waiting": run.waiting,
        "failed": run.failed,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }

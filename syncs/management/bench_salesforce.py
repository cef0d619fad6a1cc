"""`python manage.py bench --pair salesforce --accounts N --products P`: N Brightpearl customers
through Customers → Salesforce accounts and a catalogue of P products through Products →
Salesforce, then their stock through Stock → Salesforce, against a sandbox of its own, as one
JSON line.

What it reports, for issue 15's acceptance:
- `records`: Salesforce records the accounts and products flows wrote (an Account and a
  Contact per customer, a Product2 per product);
- `records_per_call`: those records per Salesforce write request (the goal: 200, a full
  sObject collection), and the same per flow (`accounts_per_call`, `products_per_call`);
- `api_calls`: Salesforce API calls the runs spent, as Salesforce counts them against the
  daily allocation (its `Sforce-Limit-Info` answers, kept on the brand's budget), beside
  `daily_allocation` and `daily_allocation_used_pct`;
- `stock_written`, `stock_calls`: the first stock run (every product's figure), then
  `stock_changed`, `stock_changed_written`, `stock_changed_calls`: products whose stock moved
  afterwards, sent alone (differences only);
- `peak_rss_mb`: this process's peak resident memory.
The sandbox seeds a customer for every three orders, so N customers take a seed of 3N orders;
the catalogue is the seed's products plus as many added as make P.
"""

from __future__ import annotations

import resource
import time

from django.core.management.base import CommandError

from brands.models import Brand
from connectors.sandbox.connect import connect_to_sandbox
from connectors.usage import daily_allowances
from syncs.flows.salesforce.accounts import FLOW, GROUP_MAP
from syncs.flows.salesforce.products import FLOW as PRODUCTS
from syncs.flows.salesforce.stock import FLOW as STOCK
from syncs.management.processes import SandboxProcess
from syncs.models import RunState, SyncRun, ValueMap
from syncs.services import flow_run_now

# Brightpearl's seed groups (retail, wholesale) → Salesforce Account Types.
GROUPS = {"1": "Customer - Direct", "2": "Customer - Channel"}
# Brightpearl's per-minute limit off (the figure is Salesforce's calls, not Brightpearl's
# pacing); Salesforce's daily allocation stays on, so its Sforce-Limit-Info is real.
BRIGHTPEARL_UNLIMITED = {"rate_limit": 1_000_000, "rate_window_seconds": 1}
# Products whose stock moves after the first stock run (goods in at warehouse 1).
STOCK_CHANGES = 7


def _patches(sandbox: SandboxProcess) -> int:
    return sandbox.get("stats")["salesforce"]["by_method"].get("PATCH", 0)


def _run(brand: Brand, flow: str, **kwargs) -> SyncRun:
    run = flow_run_now(brand=brand, flow=flow, **kwargs)
    if run.state == RunState.FAILED:
        raise CommandError(f"{flow}: {run.error}")
    return run


def _per_call(records: int, calls: int) -> float:
    return round(records / calls, 1) if calls else 0


def _catalogue(sandbox: SandboxProcess, products: int) -> list[int]:
    """The seed's products and as many more as make `products`; their Brightpearl ids."""
    seeded = [
        int(p["id"]) for p in sandbox.get("state/brightpearl/products", limit=1_000_000)["items"]
    ]
    wanted = max(products - len(seeded), 0)
    added = [
        {
            "sku": f"SF-BENCH-{n:05d}",
            "name": f"Bench product {n}",
            "stock": {"1": n % 53, "2": n % 17},
            "in_bigcommerce": False,
        }
        for n in range(wanted)
    ]
    return seeded + (sandbox.post("catalog/products", {"products": added})["ids"] if added else [])


def bench_salesforce(*, accounts: int, products: int = 5_000, stderr) -> dict:
    stderr.write(f"Seeding a sandbox with {accounts:,} customers ({accounts * 3:,} orders)…")
    sandbox = SandboxProcess(orders=accounts * 3)
    try:
        sandbox.post("config", {"limits": {"brightpearl_per_minute": 0}})
        stderr.write(f"Adding products to make a catalogue of {products:,}…")
        product_ids = _catalogue(sandbox, products)
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
        started = time.perf_counter()
        before = _patches(sandbox)
        run = _run(brand, FLOW, full=True)
        account_writes = _patches(sandbox) - before
        before = _patches(sandbox)
        product_run = _run(brand, PRODUCTS, full=True)
        product_writes = _patches(sandbox) - before
        seconds = time.perf_counter() - started

        stderr.write("Stock: every product's figure, then a few that moved…")
        before = _patches(sandbox)
        stock_run = _run(brand, STOCK, full=True)
        stock_writes = _patches(sandbox) - before
        moved = [str(i) for i in product_ids[:STOCK_CHANGES]]
        for product_id in moved:
            sandbox.post(
                f"brightpearl/products/{product_id}/stock", {"warehouseId": 1, "onHand": 500}
            )
        before = _patches(sandbox)
        changed_run = _run(brand, STOCK, scope=moved, trigger="webhook")
        changed_writes = _patches(sandbox) - before
        stats = sandbox.get("stats")["salesforce"]
        allowance = daily_allowances(brand_id=brand.pk).get("salesforce")
    finally:
        sandbox.stop()
    # Every customer Salesforce took, created or updated (created ones are counted in
    # `written` too).
    customers = run.written
    account_records = 2 * customers
    records = account_records + product_run.written
    writes = account_writes + product_writes
    used = allowance.used if allowance else stats["requests"]
    return {
        "pair": "salesforce",
        "flow": FLOW,
        "customers": customers,
        "products": product_run.written,
        "records": records,
        "write_calls": writes,
        "records_per_call": _per_call(records, writes),
        "accounts_per_call": _per_call(account_records, account_writes),
        "products_per_call": _per_call(product_run.written, product_writes),
        "api_calls": used,
        "daily_allocation": allowance.limit if allowance else None,
        "daily_allocation_used_pct": round(100 * used / allowance.limit, 2)
        if allowance and allowance.limit
        else None,
        "stock_written": stock_run.written,
        "stock_calls": stock_writes,
        "stock_changed": len(moved),
        "stock_changed_written": changed_run.written,
        "stock_changed_calls": changed_writes,
        "waiting": run.waiting + product_run.waiting + stock_run.waiting,
        "failed": run.failed + product_run.failed + stock_run.failed,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }

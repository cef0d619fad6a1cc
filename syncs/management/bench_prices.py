"""`python manage.py bench_prices`: the price push and the catalogue audit at catalogue scale.

Against a vendor sandbox in its own process (the vendors' rate limits lifted: this counts
calls), with a brand "bench-prices" made afresh and its three price fields mapped (Retail as
price, Sale as sale price, RRP as MSRP):

- `--skus` products are added to both catalogues, each with a Brightpearl price that differs
  from the storefront's, and one of them a price BigCommerce refuses (negative: the spec's
  `minimum: 0`);
- the nightly run: `prices_written` (variants whose prices were written), `prices_bad_tickets`
  (price_refused tickets: 1), its calls per vendor (`prices_bc_puts` at 50 variants a call,
  `prices_bc_gets` at 250 a page, `prices_bp_calls` at 200 products and 500 search rows a
  request) and `prices_seconds`;
- the same run again: `prices_rerun_written` and `prices_rerun_bc_puts` (0 and 0: nothing
  differs);
- the catalogue audit of the same brand: `audit_only_in_bigcommerce`,
  `audit_only_in_brightpearl`, `audit_calls` and `audit_seconds`.

`peak_rss_mb` is this process's (the console's) peak resident memory.
"""

from __future__ import annotations

import resource
import time
from typing import Any

from django.core.management.base import CommandError

from brands.models import Brand
from connectors.sandbox.connect import connect_to_sandbox
from exceptions.models import OPEN_STATUSES, Ticket
from syncs.flows.bigcommerce.catalogue_audit import catalogue_audit
from syncs.flows.bigcommerce.prices_out import FLOW, TICKET_TYPE
from syncs.management.bench_bigcommerce import LIMITS_OFF, UNLIMITED
from syncs.management.processes import SandboxProcess
from syncs.models import RunState, SyncRun, ValueMap
from syncs.services import flow_run_now

SLUG = "bench-prices"
FIELDS = {"price": "1", "sale_price": "3", "retail_price": "2"}


def bench_prices(*, skus: int, say: Any) -> dict:
    say("Starting a sandbox…")
    sandbox = SandboxProcess()
    try:
        sandbox.post("config", {"limits": LIMITS_OFF})
        Brand.objects.filter(slug=SLUG).delete()
        brand = Brand.objects.create(name="Benchmark prices", slug=SLUG)
        for conn in connect_to_sandbox(brand, sandbox.discovery):
            conn.settings = {**conn.settings, **UNLIMITED}
            conn.save()
        for field, price_list in FIELDS.items():
            ValueMap.objects.create(
                brand=brand, kind="bc_price_list", source_value=field, target_value=price_list
            )
        say(f"Adding {skus:,} products to both catalogues…")
        bad = skus // 2
        products = [
            {
                "sku": f"PRICE-{n:05d}",
                "prices": {"1": "-1.00" if n == bad else f"{10 + n % 90}.99", "2": "120.00"},
                "bigcommerce_price": "10.00",
            }
            for n in range(skus)
        ]
        for start in range(0, skus, 2000):
            sandbox.post("catalog/products", {"products": products[start : start + 2000]})
        figures = _push(sandbox, brand, say)
        figures["prices_skus"] = skus
        figures.update(_audit(sandbox, brand, say))
    finally:
        sandbox.stop()
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return figures


def _stats(sandbox: SandboxProcess, vendor: str) -> dict:
    return sandbox.get("stats").get(vendor, {})


def _run(brand: Brand) -> SyncRun:
    run = flow_run_now(brand=brand, flow=FLOW, full=True)
    if run.state == RunState.FAILED:
        raise CommandError(f"{FLOW} failed: {run.error}")
    return run


def _push(sandbox: SandboxProcess, brand: Brand, say: Any) -> dict:
    sandbox.post("stats/reset", {})
    started = time.perf_counter()
    first = _run(brand)
    seconds = time.perf_counter() - started
    bc, bp = _stats(sandbox, "bigcommerce"), _stats(sandbox, "brightpearl")
    tickets = Ticket.objects.filter(
        brand=brand, type__code=TICKET_TYPE, status__in=OPEN_STATUSES
    ).count()
    say(f"  {first.written:,} variants priced in {seconds:.1f} s, {tickets} refused")
    sandbox.post("stats/reset", {})
    again = _run(brand)
    return {
        "prices_written": first.written,
        "prices_bad_tickets": tickets,
        "prices_bc_puts": int(bc.get("by_method", {}).get("PUT", 0)),
        "prices_bc_gets": int(bc.get("by_method", {}).get("GET", 0)),
        "prices_bp_calls": int(bp.get("requests", 0)),
        "prices_seconds": round(seconds, 1),
        "prices_rerun_written": again.written,
        "prices_rerun_bc_puts": int(
            _stats(sandbox, "bigcommerce").get("by_method", {}).get("PUT", 0)
        ),
    }


def _audit(sandbox: SandboxProcess, brand: Brand, say: Any) -> dict:
    sandbox.post("stats/reset", {})
    started = time.perf_counter()
    report = catalogue_audit(brand_id=brand.pk)
    seconds = time.perf_counter() - started
    calls = sum(int(_stats(sandbox, v).get("requests", 0)) for v in ("bigcommerce", "brightpearl"))
    say(f"  the catalogue audit: {seconds:.1f} s, {calls} calls")
    return {
        "audit_only_in_bigcommerce": len(report["only_in_bigcommerce"]),
        "audit_only_in_brightpearl": len(report["only_in_brightpearl"]),
        "audit_calls": calls,
        "audit_seconds": round(seconds, 1),
    }

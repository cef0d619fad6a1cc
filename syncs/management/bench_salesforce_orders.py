"""`python manage.py bench_salesforce_orders --orders N`: N Brightpearl sales orders through
Orders → Salesforce, then their credits through Credits → Salesforce orders, against a sandbox
of its own, as one JSON line (issue 15).

Set-up, not measured: the customers' Accounts (the accounts flow), a price book with every
seeded product (a Product2 and a GBP PricebookEntry each, made through the sandbox's control
API, as a brand's admin would make them), order statuses mapped. Brightpearl's per-minute cap
is lifted (the figures are Salesforce's calls); Salesforce's daily allocation stays on.

What it reports:
- `orders`, `order_items`: Orders and OrderItems Salesforce holds after the run;
- `write_calls` (Order, OrderItem and status upserts) and `query_calls` (Product2 and
  PricebookEntry look-ups) at Salesforce during the orders run; `records_per_write_call`:
  the Orders and OrderItems written ÷ write calls (the status step writes Orders already
  counted, so this is below the 200 a full collection carries);
- `api_calls`: the orders run's calls to both vendors (Brightpearl's included);
- `credited_orders`, `credit_calls`: the credits run;
- `duplicates`: Salesforce records sharing an external id (must be 0);
- `peak_rss_mb`: this process's peak resident memory.
"""

from __future__ import annotations

import resource
import time

from django.core.management.base import CommandError

from brands.models import Brand
from connectors.models import Connection
from connectors.sandbox.connect import connect_to_sandbox
from syncs.flows.salesforce.credits_out import FLOW as CREDITS
from syncs.flows.salesforce.orders_out import FLOW as ORDERS
from syncs.flows.salesforce.orders_out import STATUS_MAP
from syncs.management.processes import SandboxProcess
from syncs.models import RunState, ValueMap
from syncs.services import flow_run_now

GROUPS = {"1": "Customer - Direct", "2": "Customer - Channel"}
STATUSES = {
    "1": "Draft", "2": "Draft", "3": "Activated", "20": "Activated", "21": "Activated",
    "22": "Partially Fulfilled", "23": "Fulfilled", "4": "Fulfilled", "26": "Fulfilled",
    "5": "Cancelled", "24": "Draft", "25": "Activated",
}  # fmt: skip
SLUG = "bench-sf-orders"


def _count(sandbox: SandboxProcess, sobject: str) -> int:
    return len(sandbox.get(f"state/salesforce/{sobject}", limit=100_000)["items"])


def _catalog(sandbox: SandboxProcess) -> str:
    book = sandbox.post("salesforce/records", {"type": "Pricebook2", "fields": {"Name": "Bench"}})
    for product in sandbox.get("state/brightpearl/products", limit=100_000)["items"]:
        sku = product["identity"]["sku"]
        made = sandbox.post(
            "salesforce/records",
            {
                "type": "Product2",
                "fields": {
                    "Name": sku,
                    "ProductCode": sku,
                    "Brightpearl_SKU__c": sku,
                    "IsActive": True,
                },
            },
        )
        entry = {
            "Pricebook2Id": book["Id"],
            "Product2Id": made["Id"],
            "CurrencyIsoCode": "GBP",
            "UnitPrice": 10.0,
            "IsActive": True,
        }
        sandbox.post("salesforce/records", {"type": "PricebookEntry", "fields": entry})
    return str(book["Id"])


def _run(sandbox: SandboxProcess, brand: Brand, flow: str) -> tuple:
    before = sandbox.get("stats")["salesforce"]["by_method"]
    started = time.perf_counter()
    run = flow_run_now(brand=brand, flow=flow, full=True)
    seconds = time.perf_counter() - started
    if run.state == RunState.FAILED:
        raise CommandError(f"{flow}: {run.error}")
    after = sandbox.get("stats")["salesforce"]["by_method"]
    calls = {m: after.get(m, 0) - before.get(m, 0) for m in ("GET", "PATCH")}
    return run, calls, seconds


def bench_salesforce_orders(*, orders: int, stderr) -> dict:
    stderr.write(f"Seeding a sandbox with {orders:,} orders…")
    sandbox = SandboxProcess(orders=orders)
    try:
        sandbox.post("config", {"limits": {"brightpearl_per_minute": 0}})
        Brand.objects.filter(slug=SLUG).delete()
        brand = Brand.objects.create(name="Benchmark (Salesforce orders)", slug=SLUG)
        for conn in connect_to_sandbox(brand, sandbox.discovery):
            if conn.system == "brightpearl":
                conn.settings = {**conn.settings, "rate_limit": 1_000_000, "rate_window_seconds": 1}
            conn.settings = {**conn.settings, "rate_bulk_burst": 1, "rate_reserve": 0}
            conn.save()
        for kind, values in (("bp_customer_group", GROUPS), (STATUS_MAP, STATUSES)):
            for source, target in values.items():
                ValueMap.objects.create(
                    brand=brand, kind=kind, source_value=source, target_value=target
                )
        stderr.write("Accounts and the price book (not measured)…")
        flow_run_now(brand=brand, flow="salesforce_accounts", full=True)
        conn = Connection.objects.get(brand=brand, system="salesforce")
        conn.settings = {**conn.settings, "pricebook_id": _catalog(sandbox)}
        conn.save()
        stderr.write("Orders, then credits…")
        run, calls, seconds = _run(sandbox, brand, ORDERS)
        credits, credit_calls, _ = _run(sandbox, brand, CREDITS)
        in_sf, items = _count(sandbox, "Order"), _count(sandbox, "OrderItem")
        duplicates = sandbox.get("duplicates/salesforce")["count"]
    finally:
        sandbox.stop()
    return {
        "pair": "salesforce",
        "flow": ORDERS,
        "orders": in_sf,
        "order_items": items,
        "created": run.created,
        "waiting": run.waiting,
        "failed": run.failed,
        "write_calls": calls["PATCH"],
        "query_calls": calls["GET"],
        "records_per_write_call": round((in_sf + items) / calls["PATCH"], 1)
        if calls["PATCH"]
        else 0,
        "api_calls": run.api_calls,
        "seconds": round(seconds, 2),
        "credited_orders": credits.written,
        "credit_calls": credit_calls["PATCH"] + credit_calls["GET"],
        "duplicates": duplicates,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }

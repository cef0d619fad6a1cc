"""`python manage.py bench --pair bigcommerce`: the BigCommerce ↔ Brightpearl figures of issue 13.

Against a vendor sandbox in its own process, with a brand "bench-bc" made afresh:

Stock (Brightpearl → BigCommerce, the vendors' limits lifted: this part counts calls):
- the demo catalogue is pushed once, then `--skus` products are added to both catalogues
  with stock at warehouse 1 (both warehouses mapped to location 1);
- `stock_calls`: the BigCommerce calls of the run their stock events trigger (all of them
  changed, none written before): at most 5 for 10,000 at 2,000 a call;
- then one of them is renamed in BigCommerce (so BigCommerce no longer knows Brightpearl's
  SKU) and the safety stock set to 1, so that every level changes again: `stock_written` and
  `stock_bad_tickets` are that run's levels written and the stock_level_refused tickets
  (9,999 and 1 for 10,000); `stock_calls_with_bad_sku` its BigCommerce calls.

Orders (BigCommerce → Brightpearl, the storefront_orders flow in full):
- Brightpearl's cap of 200 requests a minute is on, time-scaled (`--time-scale`: a minute
  lasts 60/scale seconds), and the console's Brightpearl budget told the same window; the
  other vendors' limits are lifted, so Brightpearl's cap is what binds;
- `bp_calls_per_order`: Brightpearl requests of the orders run and of the payments run that
  follows it for the orders it created (as orders_in.payments_follow queues it) ÷ sales orders
  created: the look-ups (one creation window of orders, one contact index, one SKU search a
  SKU, one payment search a batch), the customer's create when new, the order's and the
  payment's. The demo seed's storefront orders include some Brightpearl holds already (linked
  after their look-up, not created) and some that wait (an unknown SKU); its shoppers are all
  Brightpearl contacts already (`customer_mix`). `bp_calls_per_order_read` divides by every
  order read instead, and `bp_calls_per_order_new_customers` is the same measure for 200
  orders by shoppers new to Brightpearl;
- `orders_cap_fraction`: orders created per (scaled) minute ÷ the cap-bound maximum, which is
  the same orders in the least time Brightpearl's fixed windows allow for the run's calls
  (the first window's 200 at once, then 200 a window: (⌈calls ÷ 200⌉ − 1) windows). 1.0: the
  run went as fast as the cap lets anyone; the console itself holds 10 a window back for
  events, so bulk work tops out near 0.95. Null for a run of fewer than 201 calls.

`peak_rss_mb` is this process's (the console's) peak resident memory; the sandbox runs apart.
"""

from __future__ import annotations

import math
import resource
import time
from typing import Any

from django.core.management.base import CommandError

from brands.models import Brand
from connectors.models import Connection
from connectors.registry import connector_for
from connectors.sandbox.connect import connect_to_sandbox
from exceptions.models import OPEN_STATUSES, Ticket
from syncs.flows.bigcommerce.maps import BIGCOMMERCE_STATUSES, STOREFRONT_PAYMENTS
from syncs.flows.bigcommerce.stock_out import FLOW as STOCK
from syncs.management.processes import SandboxProcess
from syncs.models import RecordLink, RunState, SyncRun, ValueMap
from syncs.services import flow_run_now
from syncs.vendor_lists import brightpearl_statuses

ORDERS = "storefront_orders"
PAYMENTS = STOREFRONT_PAYMENTS
# The demo seed's storefront payment methods, mapped as onboarding would.
PAYMENT_METHODS = {"Stripe": "STRIPE", "PayPal": "PAYPAL"}
# The all-new-customers part: this many orders by shoppers Brightpearl has never seen.
NEW_CUSTOMER_ORDERS = 200
BP_CAP_PER_MINUTE = 200
UNLIMITED = {"rate_limit": 1_000_000, "rate_window_seconds": 1}
LIMITS_OFF = {
    "brightpearl_per_minute": 0,
    "ometria_per_second": 0,
    "bigcommerce_per_window": 0,
    "salesforce_daily": 0,
}


def bench_bigcommerce(*, orders: int, skus: int, time_scale: float, say: Any) -> dict:
    say(f"Seeding a sandbox with {orders:,} orders…")
    sandbox = SandboxProcess(orders=orders)
    try:
        # Scaled from the start: a rate window opened at another scale would last its own
        # length (a real minute) after the change.
        sandbox.post("config", {"limits": LIMITS_OFF, "time_scale": time_scale})
        Brand.objects.filter(slug="bench-bc").delete()
        brand = Brand.objects.create(name="Benchmark BigCommerce", slug="bench-bc")
        for conn in connect_to_sandbox(brand, sandbox.discovery):
            conn.settings = {**conn.settings, **UNLIMITED}
            conn.save()
        # Orders first: the stock part's event runs would make the budget hold bulk work
        # back for events (connectors/budget.py) for a quarter of an hour after.
        figures = _orders(sandbox, brand, time_scale, say)
        figures.update(_stock(sandbox, brand, skus, say))
    finally:
        sandbox.stop()
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return figures


def _ok(run: SyncRun) -> SyncRun:
    if run.state == RunState.FAILED:
        raise CommandError(f"{run.flow} failed: {run.error}")
    return run


def _calls(sandbox: SandboxProcess, vendor: str) -> int:
    return int(sandbox.get("stats").get(vendor, {}).get("requests", 0))


def _stock(sandbox: SandboxProcess, brand: Brand, skus: int, say: Any) -> dict:
    sandbox.post("config", {"limits": LIMITS_OFF})
    for conn in Connection.objects.filter(brand=brand):
        conn.settings = {**conn.settings, **UNLIMITED}
        conn.save()
    for warehouse in ("1", "2"):
        ValueMap.objects.create(
            brand=brand, kind="bp_warehouse", source_value=warehouse, target_value="1"
        )
    _ok(flow_run_now(brand=brand, flow=STOCK, full=True))  # the demo catalogue, once
    say(f"Adding {skus:,} products to both catalogues…")
    products = [{"sku": f"BENCH-{n:05d}", "stock": {"1": 1 + n % 97}} for n in range(skus)]
    ids = [str(i) for i in sandbox.post("catalog/products", {"products": products})["ids"]]

    sandbox.post("stats/reset", {})
    first = _ok(flow_run_now(brand=brand, flow=STOCK, scope=ids, trigger="webhook"))
    calls = _calls(sandbox, "bigcommerce")
    say(f"  {first.written:,} stock levels written in {calls} BigCommerce calls")

    # A merchant renames one SKU in BigCommerce: Brightpearl's SKU is unknown there now.
    bc_conn = Connection.objects.get(brand=brand, system="bigcommerce")
    with connector_for(bc_conn) as bc:
        [variant] = bc.http.json("GET", "/v3/catalog/variants", params={"sku": "BENCH-00007"})[
            "data"
        ]
        bc.update_variants([{"id": variant["id"], "sku": "BENCH-00007-RENAMED"}])
    # A safety stock of 1: every level changes.
    bc_conn.settings = {**bc_conn.settings, "safety_stock": "1"}
    bc_conn.save()
    sandbox.post("stats/reset", {})
    second = _ok(flow_run_now(brand=brand, flow=STOCK, scope=ids, trigger="webhook"))
    tickets = Ticket.objects.filter(
        brand=brand, type__code="stock_level_refused", status__in=OPEN_STATUSES
    ).count()
    say(f"  with one unknown SKU: {second.written:,} written, {tickets} ticket")
    return {
        "stock_skus": skus,
        "stock_calls": calls,
        "stock_written_first": first.written,
        "stock_written": second.written,
        "stock_bad_tickets": tickets,
        "stock_calls_with_bad_sku": _calls(sandbox, "bigcommerce"),
    }


def _orders(sandbox: SandboxProcess, brand: Brand, time_scale: float, say: Any) -> dict:
    statuses = brightpearl_statuses(brand=brand, refresh=True, wait=True)
    if not statuses:
        raise CommandError("Brightpearl listed no sales-order status.")
    # Every storefront status to the first open sales-order status (the demo's "New web order").
    target = str(next((s for s in statuses if not s["disabled"]), statuses[0])["id"])
    for value, _label in BIGCOMMERCE_STATUSES[1:]:
        ValueMap.objects.create(
            brand=brand, kind="bc_order_status", source_value=value, target_value=target
        )
    window = 60.0 / time_scale
    sandbox.post(
        "config",
        {
            "limits": {**LIMITS_OFF, "brightpearl_per_minute": BP_CAP_PER_MINUTE},
        },
    )
    bp_conn = Connection.objects.get(brand=brand, system="brightpearl")
    bp_conn.settings = {
        **bp_conn.settings,
        "rate_limit": BP_CAP_PER_MINUTE,
        "rate_window_seconds": window,
    }
    bp_conn.save()
    for method, code in PAYMENT_METHODS.items():
        ValueMap.objects.create(
            brand=brand,
            kind="bc_payment_method",
            source_value=method,
            target_value=code,
            extra={"nominal_code": "1220"},
        )
    say(f"Posting storefront orders under Brightpearl's cap (a minute lasts {window:g} s)…")
    sandbox.post("stats/reset", {})
    started = time.perf_counter()
    run, paid = _post_and_pay(brand, scope=None)
    seconds = time.perf_counter() - started
    bp_calls = _calls(sandbox, "brightpearl")
    per_minute = run.created / (seconds / window)
    # The least time any client could take for these calls under fixed windows of 200: the
    # first window's allowance at once, then one window per 200 more.
    least = (math.ceil(bp_calls / BP_CAP_PER_MINUTE) - 1) * window
    fraction = round(least / seconds, 3) if least else None
    say(
        f"  {run.created:,} orders and {paid.created:,} payments in {seconds:.1f} s, "
        f"{bp_calls:,} Brightpearl calls"
    )
    figures = {
        "orders_cap_fraction": fraction,
        "bp_calls_per_order": round(bp_calls / run.created, 2),
        "customer_mix": "returning: every shopper is a Brightpearl contact already (demo seed)",
        # Every storefront order read is looked up by its external ref first, posted or not.
        "bp_calls_per_order_read": round(bp_calls / max(run.read, 1), 2),
        "orders_created": run.created,
        "payments_created": paid.created,
        "orders_read": run.read,
        "orders_per_scaled_minute": round(per_minute, 1),
        "bp_calls": bp_calls,
        "orders_seconds": round(seconds, 1),
        "throttle_waits": run.throttle_waits + paid.throttle_waits,
        "time_scale": time_scale,
    }
    figures.update(_new_customers(sandbox, brand, say))
    return figures


def _post_and_pay(brand: Brand, scope: list[str] | None) -> tuple[SyncRun, SyncRun]:
    """The storefront orders run, then the payments of the orders it created, as the orders
    flow queues them (orders_in.payments_follow): an order's Brightpearl calls include its
    customer's and its payment's. (Orders the seed's Brightpearl held already are linked,
    not created, and their payments are not part of this figure.)"""
    before = set(_posted(brand))
    if scope is None:
        run = _ok(flow_run_now(brand=brand, flow=ORDERS, full=True))
    else:
        run = _ok(flow_run_now(brand=brand, flow=ORDERS, scope=scope, trigger="webhook"))
    if not run.created:
        raise CommandError(f"The orders run created nothing: {run.log[-500:]}")
    created = sorted(set(_posted(brand)) - before, key=int)
    paid = _ok(flow_run_now(brand=brand, flow=PAYMENTS, scope=created, trigger="webhook"))
    return run, paid


def _posted(brand: Brand) -> list[str]:
    """The storefront orders the console created in Brightpearl (their BigCommerce ids)."""
    entities = RecordLink.objects.filter(
        brand=brand, kind="order", system="brightpearl", written_by=ORDERS
    ).values("entity")
    return list(
        RecordLink.objects.filter(
            brand=brand, kind="order", system="bigcommerce", entity__in=entities
        ).values_list("external_id", flat=True)
    )


def _new_customers(sandbox: SandboxProcess, brand: Brand, say: Any) -> dict:
    """The worst mix: every shopper new to Brightpearl (a contact search finds nobody, so
    each order costs a contact create, an order create and a payment create)."""
    # SKUs both catalogues know: those of the seed's first storefront orders (Brightpearl's).
    with connector_for(Connection.objects.get(brand=brand, system="bigcommerce")) as bc:
        skus = sorted({str(p["sku"]) for o in (101, 102, 103) for p in bc.order_products(o)})
    ids = []
    for n in range(NEW_CUSTOMER_ORDERS):
        order = sandbox.post(
            "bigcommerce/orders",
            {
                "lines": [{"sku": skus[n % len(skus)], "quantity": 1}],
                "email": f"first.timer{n}@bench.example.com",
                "first_name": "First",
                "last_name": f"Timer {n}",
                "payment_method": "Stripe",
            },
        )
        ids.append(str(order["id"]))
    sandbox.post("stats/reset", {})
    run, paid = _post_and_pay(brand, scope=ids)
    calls = _calls(sandbox, "brightpearl")
    say(f"  {run.created:,} orders of new customers: {calls:,} Brightpearl calls")
    return {
        "bp_calls_per_order_new_customers": round(calls / run.created, 2),
        "new_customer_orders": run.created,
        "new_customer_payments": paid.created,
    }

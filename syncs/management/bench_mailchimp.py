"""`python manage.py bench --pair mailchimp`: a contacts backfill to Mailchimp with purchase
events arriving during it (issue 14).

A vendor sandbox in its own process is seeded with `--contacts` Brightpearl contacts (three
orders each; about three in four already in the Mailchimp audience, some unsubscribed or
cleaned), at the vendors' realistic limits (Brightpearl 200 requests a minute; Mailchimp 10
connections at once, 429 beyond). A brand "bench-mc" is connected afresh with the onboarding
defaults (retail in the audience, wholesale never; names as merge fields; statuses from the
agency's template). Then, at once:
- the backfill: the contacts flow runs in full on a thread of its own (bulk work);
- the events: every `--event-every` seconds while the backfill runs, a retail order's status
  is moved between "New" and the fraud hold (cancelled in Mailchimp), as the back office
  would, and the purchases flow runs scoped to that order at once, as the webhook inbox's
  drain does (its run is an event: it takes from the brand's Mailchimp budget ahead of
  bulk). Its latency is from just before the change until a read of Mailchimp's order shows
  it. The queue wait of the events cluster is not in it (no qcluster runs here);
- with `--purchases-backfill`, the purchases flow's full run beside the contacts backfill:
  every order, by Mailchimp's batch operations, while the events still write directly;
- a member unsubscribes in Mailchimp every third event (no webhook: the console must not
  need one to leave them alone).

The JSON line:
- `contacts`: Brightpearl contacts seeded; `members_sent` the emails the backfill sent;
- `member_calls`: requests that wrote members (batch subscribe, and /batches of member PUTs);
  beside it `call_fraction` (the fewest calls the caps allow for what was sent, 500 a batch
  subscribe and 2,000 a /batches call, over the calls made) and `call_fill` (members carried
  over what the calls could carry);
- `cap_fraction`: the backfill's throughput as a fraction of the limit-bound maximum, i.e.
  `limit_bound_s / backfill_seconds`, where `limit_bound_s` is the least time the two
  vendors' documented limits allow for the work, whichever binds:
  - Brightpearl (200 requests a minute, taken as a rate: one request every 0.3 s): the
    fewest reads a backfill of C contacts needs (C/500 search pages, C/200 contact GETs, the
    tag list) plus the events' reads (3 each: the order, its sales credits, its buyer), all
    on the one account's allowance, at that rate (`brightpearl_bound_s`);
  - Mailchimp (10 connections at once, 500 members a call): the members sent in calls of
    500, 10 at a time, each taking as long as this run's member-writing calls took on
    average (`mailchimp_bound_s`; the fake publishes no service time, so it is measured).
  Brightpearl's allowance comes in fixed windows of 200 (the sandbox's, as recorded), not
  as an even rate, so a run gets up to a window's worth more than the rate would give (and a
  window the brand's set-up opened may still be running when the backfill starts): the
  figure can exceed 1, and is not clipped. Read by windows alone, a 10,000-contact
  backfill's reads would fit in one window and could all go at once; what holds bulk work
  to the rate is the console's own pacing, which keeps room for events
  (connectors/budget.py). The requests the run really made are beside it
  (`brightpearl_requests`, `mailchimp_requests`);
- `purchase_event_p95_s` (and `_p50_s`, `_max_s`, `events`): the events' latency;
- `events_undone`: events whose cancellation Mailchimp no longer shows at the end (a
  backfill's older read written over it; 0 expected: syncs/freshness.py);
- with `--purchases-backfill`: `purchases_backfill_orders`, `_seconds`, `_api_calls`, `_state`;
- `duplicates_created`: members made twice (the sandbox's check by email hash);
- `unsubscribes_overwritten`: members the API moved out of unsubscribed or cleaned
  (Mailchimp's status-change log), plus members unsubscribed during the run and not so at
  its end.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

from django.db import connections

from brands.models import Brand
from connectors.mailchimp.client import Mailchimp
from connectors.models import Connection
from connectors.registry import connector_for
from connectors.sandbox.connect import connect_to_sandbox
from syncs.flows.mailchimp.defaults import mailchimp_defaults_seed
from syncs.management.processes import SandboxProcess
from syncs.mappings import brightpearl_statuses, mapping_seed_defaults
from syncs.models import SyncRun
from syncs.services import flow_run_now

CONTACTS, PURCHASES = "mailchimp_contacts", "mailchimp_purchases"
LEFT = ("unsubscribed", "cleaned")
SLUG = "bench-mc"
# Brightpearl's documented limit, as a rate (vendors README: 200 requests a rolling minute).
BP_PER_SECOND = 200 / 60
# Mailchimp's documented limits: 10 connections at once, 500 members a batch subscribe.
MC_CONNECTIONS, MC_MEMBERS_PER_CALL = 10, 500
# The reads one purchase event needs (purchases.read): the order, its sales credits, its buyer.
EVENT_READS = 3


class _CallTimes(logging.Handler):
    """The duration of each Mailchimp call that wrote members, from the HTTP layer's own log
    line (connectors/http.py: vendor, brand, method, path, query, status, ms, batch, …)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seconds: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        if len(args) < 8 or args[0] != "mailchimp" or args[2] != "POST":
            return
        path = str(args[3]).rstrip("/")
        if path.endswith("/batches") or (path.count("/") == 2 and path.startswith("/lists/")):
            self.seconds.append(float(args[6]) / 1000)


def bound_seconds(*, contacts: int, events: int, members: int, call_s: float) -> dict:
    """The least time the documented limits allow for a backfill of `contacts` with `events`
    purchase events during it: Brightpearl's reads at its rate, Mailchimp's member calls of
    500, ten at once, each `call_s` long."""
    reads = math.ceil(contacts / 500) + math.ceil(contacts / 200) + 1 + EVENT_READS * events
    brightpearl = reads / BP_PER_SECOND
    mailchimp = math.ceil(members / MC_MEMBERS_PER_CALL) * call_s / MC_CONNECTIONS
    return {
        "brightpearl_reads_needed": reads,
        "brightpearl_bound_s": round(brightpearl, 2),
        "mailchimp_bound_s": round(mailchimp, 2),
        "limit_bound_s": round(max(brightpearl, mailchimp), 2),
        "binding_limit": "brightpearl" if brightpearl >= mailchimp else "mailchimp",
    }


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def _brand(discovery: dict) -> Brand:
    Brand.objects.filter(slug=SLUG).delete()
    brand = Brand.objects.create(name="Mailchimp benchmark", slug=SLUG)
    connect_to_sandbox(brand, discovery)
    mapping_seed_defaults(
        brand=brand, statuses=brightpearl_statuses(brand=brand, refresh=True, wait=True)
    )
    mailchimp_defaults_seed(brand=brand)
    return brand


def _items(sandbox: SandboxProcess, vendor: str, collection: str, **params) -> list[dict]:
    return sandbox.get(f"state/{vendor}/{collection}", limit=1_000_000, **params)["items"]


def _retail_orders(sandbox: SandboxProcess, mapped: set[int], fraud: int) -> list[str]:
    retail = {
        str(c["contactId"])
        for c in _items(sandbox, "brightpearl", "contacts")
        if (c.get("customerGroup") or {}).get("name") == "Retail"
    }
    return [
        str(o["id"])
        for o in _items(sandbox, "brightpearl", "orders", type=1)
        if str(o["parties"]["customer"]["contactId"]) in retail
        and o["orderStatus"]["orderStatusId"] in mapped
        and o["orderStatus"]["orderStatusId"] != fraud
    ]


def _shows(sandbox: SandboxProcess, store: str, order_id: str, cancelled: bool) -> bool:
    # One order by its key in the fake (store:order): the store may hold tens of thousands.
    for order in _items(sandbox, "mailchimp", "ecommerce_orders", id=f"{store}:{order_id}"):
        if order["id"] == order_id:
            return bool(order.get("cancelled_at_foreign")) == cancelled
    return False


def _member_calls(sandbox: SandboxProcess, stderr=None) -> tuple[int, int, int, int]:
    """(calls that wrote members, members they carried, most they could have carried, the
    fewest calls the caps allow for the members each kind of call carried)."""
    calls = carried = capacity = 0
    sizes: list[str] = []
    by_cap: dict[int, int] = {}
    writes = sandbox.get("state/sandbox/writes", vendor="mailchimp", limit=1_000_000)["items"]
    for write in writes:
        members = [k for k in write.get("keys") or [] if k.startswith("member:")]
        path = str(write.get("path", "")).rstrip("/")
        if write.get("method") != "POST" or not members:
            continue
        if path.endswith("/batches"):
            cap = Mailchimp.batch_operations_size
        elif path.count("/") == 3 and "/lists/" in path:  # /3.0/lists/{id}: batch subscribe
            cap = Mailchimp.batch_size
        else:
            continue
        calls += 1
        carried += len(members)
        capacity += cap
        sizes.append(f"{len(members)}/{cap}")
        by_cap[cap] = by_cap.get(cap, 0) + len(members)
    if stderr is not None:
        stderr.write(f"  member calls (members/cap): {', '.join(sizes)}")
    fewest = sum(math.ceil(n / cap) for cap, n in by_cap.items())
    return calls, carried, capacity, fewest


def mailchimp_bench(
    *, contacts: int, event_every: float, stderr, purchases_backfill: bool = False
) -> dict[str, Any]:
    stderr.write(f"Seeding a sandbox with {contacts:,} contacts ({contacts * 3:,} orders)…")
    sandbox = SandboxProcess(orders=contacts * 3)
    try:
        return _measure(sandbox, contacts, event_every, stderr, purchases_backfill)
    finally:
        sandbox.stop()


def _measure(
    sandbox: SandboxProcess, contacts: int, event_every: float, stderr, purchases: bool
) -> dict:
    brand = _brand(sandbox.discovery)
    fraud = int(sandbox.discovery["seed"]["demo"]["brightpearl"]["fraud_status_id"])
    mapped = set(brand.status_mappings.values_list("bp_status_id", flat=True))
    orders = _retail_orders(sandbox, mapped, fraud)
    with connector_for(Connection.objects.get(brand=brand, system="mailchimp")) as mc:
        store = mc.store_id
    subscribed = [
        m["email_address"] for m in _items(sandbox, "mailchimp", "members", status="subscribed")
    ]
    backfill: dict[str, Any] = {}

    def run_backfill() -> None:
        began = time.perf_counter()
        try:
            backfill["run"] = flow_run_now(brand=brand, flow=CONTACTS, full=True)
        finally:
            # The backfill's own time: not the events loop's last pause after it ended.
            backfill["seconds"] = time.perf_counter() - began
            connections.close_all()

    def run_purchases() -> None:
        # The purchases backfill beside it (--purchases-backfill): every order, by batches.
        began = time.perf_counter()
        try:
            backfill["purchases"] = flow_run_now(brand=brand, flow=PURCHASES, full=True)
        finally:
            backfill["purchases_seconds"] = time.perf_counter() - began
            connections.close_all()

    thread = threading.Thread(target=run_backfill, name="backfill")
    threads = [thread]
    if purchases:
        threads.append(threading.Thread(target=run_purchases, name="purchases"))
    calls_timed = _CallTimes()
    http_log = logging.getLogger("connectors.http")
    http_log.addHandler(calls_timed)
    level = http_log.level
    http_log.setLevel(logging.INFO)
    sandbox.post("stats/reset", {})
    for t in threads:
        t.start()
    latencies: list[float] = []
    left: list[str] = []
    n = 0
    while any(t.is_alive() for t in threads) and n < len(orders):
        order_id = orders[n]
        t0 = time.perf_counter()
        sandbox.post(f"brightpearl/orders/{order_id}/status", {"statusId": fraud})
        flow_run_now(brand=brand, flow=PURCHASES, trigger="webhook", scope=[order_id])
        while not _shows(sandbox, store, order_id, True) and time.perf_counter() - t0 < 60:
            time.sleep(0.02)
        latencies.append(time.perf_counter() - t0)
        if n % 3 == 0 and subscribed:
            email = subscribed.pop()
            sandbox.post("mailchimp/unsubscribe", {"email": email, "reason": "manual"})
            left.append(email.lower())
        n += 1
        time.sleep(max(0.0, event_every - (time.perf_counter() - t0)))
    for t in threads:
        t.join()
    seconds = backfill["seconds"]
    # An event's cancellation that a backfill's older read later undid (freshness.py).
    undone = sum(1 for order_id in orders[:n] if not _shows(sandbox, store, order_id, True))
    http_log.removeHandler(calls_timed)
    http_log.setLevel(level)
    requests = {v: sandbox.get("stats")[v]["requests"] for v in ("brightpearl", "mailchimp")}
    run: SyncRun = backfill["run"]
    calls, carried, capacity, fewest = _member_calls(sandbox, stderr)
    moved = [
        c
        for c in _items(sandbox, "mailchimp", "status_changes")
        if c.get("from") in LEFT and c.get("to") not in LEFT and c.get("source") == "api"
    ]
    now = {m["email_address"].lower(): m["status"] for m in _items(sandbox, "mailchimp", "members")}
    back = [e for e in left if now.get(e) not in LEFT]
    duplicates = sandbox.get("duplicates/mailchimp", created_after_seed="true")["count"]
    stderr.write(f"  backfill: {run.get_state_display()}, {run.written:,} written, {seconds:.1f} s")
    call_s = sum(calls_timed.seconds) / len(calls_timed.seconds) if calls_timed.seconds else 0.0
    bound = bound_seconds(
        contacts=contacts, events=len(latencies), members=run.written, call_s=call_s
    )
    return {
        "contacts": contacts,
        "members_sent": run.written,
        "member_calls": calls,
        "cap_fraction": round(bound["limit_bound_s"] / seconds, 3) if seconds else 0.0,
        **bound,
        "mailchimp_call_s": round(call_s, 3),
        "brightpearl_requests": requests["brightpearl"],
        "mailchimp_requests": requests["mailchimp"],
        "call_fraction": round(fewest / calls, 3) if calls else 0.0,
        "call_fill": round(carried / capacity, 3) if capacity else 0.0,
        "members_per_call": round(carried / calls, 1) if calls else 0.0,
        "members_per_s": round(run.written / seconds, 1) if seconds else 0.0,
        "purchase_event_p95_s": round(_percentile(latencies, 0.95), 3),
        "purchase_event_p50_s": round(_percentile(latencies, 0.5), 3),
        "purchase_event_max_s": round(max(latencies, default=0.0), 3),
        "events": len(latencies),
        "duplicates_created": duplicates,
        "unsubscribes_overwritten": len(moved) + len(back),
        "backfill_seconds": round(seconds, 1),
        "backfill_state": run.state,
        "backfill_api_calls": run.api_calls,
        "events_undone": undone,
        **(_purchases_figures(backfill) if purchases else {}),
    }


def _purchases_figures(backfill: dict[str, Any]) -> dict[str, Any]:
    run: SyncRun = backfill["purchases"]
    return {
        "purchases_backfill_orders": run.written,
        "purchases_backfill_seconds": round(backfill["purchases_seconds"], 1),
        "purchases_backfill_api_calls": run.api_calls,
        "purchases_backfill_state": run.state,
    }

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
- the purchases flow's full run beside the contacts backfill, as onboarding does (unless
  `--no-purchases-backfill`): every order, by Mailchimp's batch operations, while the
  events still write directly;
- a member unsubscribes in Mailchimp every third event (no webhook: the console must not
  need one to leave them alone).

The JSON line:
- `contacts`: Brightpearl contacts seeded; `members_sent` the emails the backfill sent;
- `member_calls`: requests that wrote members (batch subscribe, and /batches of member PUTs);
  beside it `call_fraction` (the fewest calls the caps allow for what was sent, 500 a batch
  subscribe and 2,000 a /batches call, over the calls made) and `call_fill` (members carried
  over what the calls could carry);
- `cap_fraction`: the backfill's throughput as a fraction of the limit-bound maximum, read
  where the limit is: Brightpearl's fixed windows of 200 requests a minute (the sandbox's,
  as Brightpearl's recordings show; `GET /_sandbox/windows/brightpearl` lists each window's
  requests). Mailchimp's limit (10 connections at once) does not bind here: the backfill
  holds two or three (`mailchimp_peak_connections`). Over every window that opened after
  the backfill began and closed before it ended (`brightpearl_windows`; a window at either end
  is shared with the set-up or cut short by the end), the events' requests go first, and
  the rest of the limit is the most the backfill could have had:
      cap_fraction = (answered − events' requests) ÷ (limit − events' requests), summed.
  An event's request counts in the window where it began (the HTTP log's line less its
  duration). Beside it `brightpearl_window_use` (every answered request over the limit),
  `brightpearl_events_share` and `brightpearl_refused` (503s, expected 0). Null when the
  backfill spans no whole window: the contacts alone (`--no-purchases-backfill`) need about
  a hundred requests at 10,000 contacts, half a window, and no limit binds them;
- `purchase_event_p95_s` (and `_p50_s`, `_max_s`, `events`): the events' latency;
- `events_undone`: events whose cancellation Mailchimp no longer shows at the end (a
  backfill's older read written over it; 0 expected: syncs/freshness.py);
- `purchases_backfill_orders`, `_seconds`, `_api_calls`, `_state`: its run;
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
# The purchase events run on the bench's own thread; the backfills on threads of their own.
EVENTS_THREAD = "MainThread"


class _Calls(logging.Handler):
    """Each vendor call, from the HTTP layer's own log line (connectors/http.py: vendor, brand,
    method, path, query, status, ms, batch, …): when Brightpearl calls began and on which
    thread (the events run on the bench's main thread, the backfills on their own), and how
    long each Mailchimp call that wrote members took."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.member_call_seconds: list[float] = []
        self.event_bp_starts: list[float] = []  # epoch seconds

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        if len(args) < 8:
            return
        seconds = float(args[6]) / 1000
        if args[0] == "brightpearl" and record.threadName == EVENTS_THREAD:
            self.event_bp_starts.append(record.created - seconds)
        if args[0] != "mailchimp" or args[2] != "POST":
            return
        path = str(args[3]).rstrip("/")
        if path.endswith("/batches") or (path.count("/") == 2 and path.startswith("/lists/")):
            self.member_call_seconds.append(seconds)


def window_figures(windows: list[dict], event_starts: list[float], began: float, ended: float):
    """How much of Brightpearl's allowance the backfill had and used, window by window.

    Only the windows that opened after the backfill began and closed before it ended count
    (a window at either end was partly someone else's time). In each, the events' requests
    (those that began in it) went first; the rest of the window's limit is what the backfill
    could have had, and `cap_fraction` is the share of that it spent, over all such windows.
    `window_use` is every answered request over the limit (events' too)."""
    full = [
        w for w in windows if w["limit"] and began <= w["opened_at"] and w["closes_at"] <= ended
    ]
    if not full:
        return {"cap_fraction": None, "brightpearl_windows": 0}
    limit = answered = events = 0
    for w in full:
        mine = sum(1 for t in event_starts if w["opened_at"] <= t < w["closes_at"])
        limit += w["limit"]
        answered += w["answered"]
        events += min(mine, w["answered"])
    return {
        "cap_fraction": round((answered - events) / (limit - events), 3),
        "brightpearl_windows": len(full),
        "brightpearl_window_use": round(answered / limit, 3),
        "brightpearl_events_share": round(events / limit, 3),
        "brightpearl_refused": sum(w["refused"] for w in full),
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

    def run(key: str, flow: str) -> None:
        began = time.perf_counter()
        try:
            backfill[key] = flow_run_now(brand=brand, flow=flow, full=True)
        finally:
            # The backfill's own time: not the events loop's last pause after it ended.
            backfill[f"{key}_seconds"] = time.perf_counter() - began
            backfill[f"{key}_ended"] = time.time()
            connections.close_all()

    threads = [threading.Thread(target=run, args=("contacts", CONTACTS), name="contacts")]
    if purchases:
        # The purchases backfill beside it: every order, by batches.
        threads.append(threading.Thread(target=run, args=("purchases", PURCHASES), name="orders"))
    calls = _Calls()
    http_log = logging.getLogger("connectors.http")
    http_log.addHandler(calls)
    level = http_log.level
    http_log.setLevel(logging.INFO)
    sandbox.post("stats/reset", {})
    began = time.time()
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
    ended = max(backfill[f"{k}_ended"] for k in ("contacts", "purchases") if k in backfill)
    http_log.removeHandler(calls)
    http_log.setLevel(level)
    # An event's cancellation that a backfill's older read later undid (freshness.py).
    undone = sum(1 for order_id in orders[:n] if not _shows(sandbox, store, order_id, True))
    stats = sandbox.get("stats")
    run: SyncRun = backfill["contacts"]
    seconds = backfill["contacts_seconds"]
    member_calls, carried, capacity, fewest = _member_calls(sandbox, stderr)
    moved = [
        c
        for c in _items(sandbox, "mailchimp", "status_changes")
        if c.get("from") in LEFT and c.get("to") not in LEFT and c.get("source") == "api"
    ]
    now = {m["email_address"].lower(): m["status"] for m in _items(sandbox, "mailchimp", "members")}
    back = [e for e in left if now.get(e) not in LEFT]
    duplicates = sandbox.get("duplicates/mailchimp", created_after_seed="true")["count"]
    stderr.write(f"  backfill: {run.get_state_display()}, {run.written:,} written, {seconds:.1f} s")
    timed = calls.member_call_seconds
    windows = _account_windows(sandbox.get("windows/brightpearl")["items"])
    spent = ", ".join(f"{w['answered']}/{w['limit']}" for w in windows)
    stderr.write(f"  Brightpearl windows (answered/limit): {spent}")
    return {
        "contacts": contacts,
        "members_sent": run.written,
        "member_calls": member_calls,
        **window_figures(windows, calls.event_bp_starts, began, ended),
        "brightpearl_requests": stats["brightpearl"]["requests"],
        "mailchimp_requests": stats["mailchimp"]["requests"],
        # Mailchimp's limit is 10 connections at once: the most this run held.
        "mailchimp_peak_connections": stats["mailchimp"]["max_in_window"],
        "mailchimp_member_call_s": round(sum(timed) / len(timed), 3) if timed else 0.0,
        "call_fraction": round(fewest / member_calls, 3) if member_calls else 0.0,
        "call_fill": round(carried / capacity, 3) if capacity else 0.0,
        "members_per_call": round(carried / member_calls, 1) if member_calls else 0.0,
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


def _account_windows(windows: list[dict]) -> list[dict]:
    """The windows of the account the bench brand used: the one that answered the most (the
    bench brand is the only caller while it runs)."""
    totals: dict[str, int] = {}
    for w in windows:
        totals[w["account"]] = totals.get(w["account"], 0) + w["answered"]
    busiest = max(totals, key=totals.__getitem__, default=None)
    return [w for w in windows if w["account"] == busiest]


def _purchases_figures(backfill: dict[str, Any]) -> dict[str, Any]:
    run: SyncRun = backfill["purchases"]
    return {
        "purchases_backfill_orders": run.written,
        "purchases_backfill_seconds": round(backfill["purchases_seconds"], 1),
        "purchases_backfill_api_calls": run.api_calls,
        "purchases_backfill_state": run.state,
    }

"""`python manage.py bench_freshness`: how fast a Brightpearl status change reaches Ometria
while backfills run, and whether a backfill ever pushes an older read over it (issue 18).

It runs the console as production does, against the vendor sandbox, all on this machine:
- a sandbox in its own process, seeded with `--orders` orders for each of two brands (its
  `demo` and `second` accounts);
- the console's web server (`runserver --noreload` on a free port, plain HTTP on 127.0.0.1),
  which receives the sandbox's webhooks: CONSOLE_PUBLIC_URL points there when the webhooks
  are registered;
- the console's two clusters of `--workers` workers each: events (webhooks, retries) on the
  default queue, bulk work (full and incremental reads) on settings.BULK_QUEUE.

Two brands, "fresh-a" (A) and "fresh-b" (B), each with its own Brightpearl and Ometria
accounts: the four Brightpearl → Ometria flows on (order lifecycle, refunds, customers,
shipments) without schedules (this command queues every bulk run, so nothing else starts),
statuses mapped from the agency's template, webhooks registered. A is brought in sync first
(its four flows run in full in this process, with the vendors' limits lifted for that
preparation only), so Ometria shows every order's status before anything is measured.

Then one change a second on A: an order of A, picked at random among those in 20 Awaiting
payment, 21 Ready to ship, 23 Dispatched or 4 Invoiced, moves to the next of these (each maps
to another Ometria lifecycle stage), as the back office would (`POST /_sandbox/brightpearl/
orders/<id>/status`, which fires Brightpearl's webhook). t0 is just before the change; t1
when a read of Ometria's state showing the new status has come back (`GET /_sandbox/state/
ometria/orders`, every 50 ms for the changes not seen yet: t1 errs late by up to one read).
Every order is changed once in a whole run. Four conditions, in turn:
1. `idle`: nothing else runs;
2. `own_backfill`: A's four flows queued in full to the cluster ("Run now" on a live brand);
3. `other_backfill`: B going live: B is made afresh (deleted, connected, mapped, its
   webhooks registered) and its four flows queued in full (its first sync);
4. `both`: A's full run and B going live again, together (their runs queued alternately).
A condition's changes start once each of its backfills has a run on a worker; whether the
backfills were still in progress at each change is reported (`backfill_running_share`).
After its last change a condition lasts until every change has shown (or timed out,
`--timeout`, counted with the timeout as its latency) and its backfills have ended: they are
waited out, not cut short, so that any stale push they would make is made. Only past
`--backfill-cap` seconds are they stopped (the bulk cluster killed, their runs marked failed
and the bulk queue emptied), and the condition says so (`backfill_stopped`). Before the next
condition the Brightpearl windows the last one spent from are waited out too (up to a minute),
so each condition starts at the start of a window with its whole allowance: windows are fixed,
and where in one a backfill starts decides how soon it runs dry and for how long
(`--no-fresh-windows`: only a window a backfill drained is waited out; quicker, but the
figures then depend on that phase).

Stale overwrites: a change counts once if, after Ometria showed its new status, Ometria showed
an older one while Brightpearl still had the new one. Three checks, each named in the change's
`stale`: `polled` (seen while reading Ometria, every half second once the change has shown,
until its condition ended), `pushes` (Ometria's push log, once the runs are over: an older
status pushed after the new one, even between two reads) and `at_end` (Ometria not ending on
the new status it was sent). All changed orders are checked once more at the very end.

The vendors' rate limits are the sandbox's realistic defaults at time scale 1 (Brightpearl 200
requests a minute per account in fixed windows, 503 beyond; Ometria 8 pushes a second per key;
see connectors/sandbox/README.md), and the console's own budgets their defaults (Brightpearl:
200 a minute, 10 held back for events). The figures name the limits in force (`limits`).

The last line of stdout is one JSON object: `idle_p95_s`, `own_backfill_p95_s`,
`other_backfill_p95_s`, `both_p95_s` (with `_p50_s`, `_max_s`, `_n`, `_timed_out`),
`stale_overwrites`, `changes`, `timed_out`, the seed, workers, limits and `seconds`, and per
condition what the runs did (`conditions`). It exits non-zero when a goal is missed (p95: idle
under 1 s, own backfill under 5 s, another brand's under 2 s, both under 5 s; no stale
overwrite), after printing the figures. Run it on a database of its own, with SECRET_KEY,
CREDENTIAL_KEYS (a Fernet key) and ALLOWED_HOSTS in the environment (see the README):

    DATABASE_URL=sqlite:////tmp/fresh.sqlite3 python manage.py migrate
    DATABASE_URL=sqlite:////tmp/fresh.sqlite3 python manage.py bench_freshness
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Schedule

from brands.models import Brand
from connectors.models import RateBudget
from syncs.management.freshness_figures import (
    CONDITIONS,
    GOALS_P95_S,
    Change,
    missed_goals,
    next_status,
    summary,
)
from syncs.management.freshness_runs import (
    backfill_runs,
    budget,
    budget_delta,
    commit,
    webhook_runs,
)
from syncs.management.freshness_setup import (
    BRAND_A,
    BRAND_B,
    FLOWS,
    brand_afresh,
    delete_brand,
    first_sync,
)
from syncs.management.freshness_watch import OrderWatch
from syncs.management.processes import (
    Clusters,
    SandboxProcess,
    WebServer,
    require_migrated,
    require_own_database,
)
from syncs.models import RunState, SyncRun, Trigger
from syncs.services import flow_enqueue

SLUGS = (BRAND_A[0], BRAND_B[0])
BACKFILLS = {"idle": (), "own_backfill": ("a",), "other_backfill": ("b",), "both": ("a", "b")}
IN_PROGRESS = (RunState.QUEUED, RunState.RUNNING)
STARTED_WITHIN_SECONDS = 120
STALE_LOOK_SECONDS = 0.5


class Command(BaseCommand):
    help = (
        "Time Brightpearl status changes to Ometria on brand A, idle and while A's and another "
        "brand's backfills run; count stale overwrites. Prints one JSON line."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--orders",
            type=int,
            default=10_000,
            help="Orders seeded for each brand: enough that a full run outlasts the changes "
            "under Brightpearl's 200 requests a minute.",
        )
        parser.add_argument("--changes", type=int, default=30, help="Changes per condition.")
        parser.add_argument("--workers", type=int, default=2, help="Workers of each cluster.")
        parser.add_argument(
            "--timeout", type=float, default=60.0, help="Seconds a change may take to show."
        )
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between changes.")
        parser.add_argument("--poll-ms", type=int, default=50, help="How often Ometria is read.")
        parser.add_argument(
            "--backfill-cap",
            type=float,
            default=300.0,
            help="Seconds a condition's backfills may run before they are stopped.",
        )
        parser.add_argument(
            "--conditions",
            default=",".join(CONDITIONS),
            help=f"Which conditions to run, in order (default: {','.join(CONDITIONS)}).",
        )
        parser.add_argument(
            "--fresh-windows",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="Start each condition on fresh Brightpearl windows (waits up to a minute "
            "between conditions); --no-fresh-windows waits only for a window a backfill "
            "drained.",
        )
        parser.add_argument("--seed", type=int, default=1, help="Picks the orders changed.")

    def handle(self, *args, **options):
        opts = self._options(options)
        require_migrated()
        require_own_database(SLUGS, "bench_freshness")
        # Its runs and sweeps would log a line per call and task: the figures would drown.
        for name in ("django-q", "connectors", "syncs"):
            logging.getLogger(name).setLevel(logging.WARNING)
        started = self.started = time.monotonic()
        for slug in SLUGS:  # what an earlier run left
            delete_brand(slug)
        self._say(f"Seeding a sandbox with {opts['orders']:,} orders for each brand…")
        sandbox = SandboxProcess(orders=opts["orders"], second_orders=opts["orders"])
        web = WebServer(LOG_LEVEL="WARNING")
        clusters = Clusters(opts["workers"], CONSOLE_PUBLIC_URL=web.url)
        public_url = settings.CONSOLE_PUBLIC_URL
        try:
            config = sandbox.get("config")
            web.start()
            settings.CONSOLE_PUBLIC_URL = web.url
            self.sandbox, self.clusters, self.opts = sandbox, clusters, opts
            self.watch = OrderWatch(sandbox, BRAND_A[2])
            self.requests_at_start: dict[int, int] = {}
            self._say("Bringing brand A in sync (limits lifted for this preparation)…")
            self.brand_a = first_sync(BRAND_A, sandbox, config)
            self._say("Picking the orders to change…")
            facts = sandbox.discovery["seed"][BRAND_A[2]]["brightpearl"]
            first, last = facts["order_ids"]
            self.pool = self.watch.candidates(
                list(range(first, last + 1)),
                opts["changes"] * len(opts["conditions"]),
                opts["seed"],
            )
            self._say("Starting the clusters…")
            clusters.start()
            results = {}
            everything: list[Change] = []
            for condition in opts["conditions"]:
                changes, figures = self._condition(condition)
                results[condition] = figures
                everything += changes
            # Once more, everything: no later condition pushed an old read over an earlier one.
            self.watch.verify(everything)
            for condition, figures in results.items():
                mine = [c for c in everything if c.condition == condition]
                figures["stale_overwrites"] = sum(bool(c.stale) for c in mine)
                figures["changes"] = [c.as_dict() for c in mine]
        finally:
            settings.CONSOLE_PUBLIC_URL = public_url
            clusters.stop()
            web.stop()
            sandbox.stop()
        figures = self._figures(results, everything, config, opts, time.monotonic() - started)
        self.stdout.write(json.dumps(figures))
        if figures["missed"]:
            raise CommandError("Goals missed: " + "; ".join(figures["missed"]))

    def _say(self, text: str) -> None:
        """A line of progress on stderr, with the seconds since the command started."""
        self.stderr.write(f"[{time.monotonic() - self.started:6.1f} s] {text}")

    def _options(self, options: dict) -> dict:
        conditions = [c.strip() for c in options["conditions"].split(",") if c.strip()]
        unknown = [c for c in conditions if c not in CONDITIONS]
        if unknown or not conditions:
            raise CommandError(f"--conditions: choose among {', '.join(CONDITIONS)}.")
        if options["orders"] < 100 or options["changes"] < 1 or options["workers"] < 1:
            raise CommandError("At least 100 orders, one change and one worker.")
        if options["interval"] <= 0 or options["poll_ms"] <= 0 or options["timeout"] <= 0:
            raise CommandError("--interval, --poll-ms and --timeout must be above 0.")
        return {
            "orders": options["orders"],
            "changes": options["changes"],
            "workers": options["workers"],
            "timeout": options["timeout"],
            "interval": options["interval"],
            "poll": options["poll_ms"] / 1000,
            "cap": options["backfill_cap"],
            "conditions": conditions,
            "seed": options["seed"],
            "fresh_windows": options["fresh_windows"],
        }

    # --- one condition ---------------------------------------------------------------------
    def _condition(self, condition: str) -> tuple[list[Change], dict]:
        opts = self.opts
        quiet_wait = self._quiet()
        backfill = BACKFILLS[condition]
        brands = {"a": self.brand_a}
        if "b" in backfill:
            self._say("  Brand B made afresh, to go live…")
            brands["b"] = brand_afresh(BRAND_B, self.sandbox.discovery)
        backfill_brands = [brands[k] for k in backfill]
        budget_before = budget(self.brand_a)
        load_before = os.getloadavg()[0]
        since = timezone.now()
        self._say(f"Condition {condition}: {opts['changes']} changes on brand A…")
        # Alternately, so that with two brands each has a run on a worker from the start.
        runs = [
            flow_enqueue(brand_id=brand.pk, flow=code, trigger=Trigger.MANUAL, full=True).pk
            for code in FLOWS
            for brand in backfill_brands
        ]
        enqueued = time.monotonic()
        started_in = self._wait_started(runs, backfill_brands)
        changes, stopped = self._drive(condition, runs, backfill_brands, enqueued)
        self.watch.verify(changes)
        figures = summary(changes)
        if not backfill:
            figures.pop("backfill_running_share")
        else:
            done = SyncRun.objects.filter(pk__in=runs)
            ends = [r.finished_at for r in done if r.finished_at]
            first_queued = min(r.queued_at for r in done)
            figures.update(
                backfill_started_in_s=started_in,
                backfill_s=round((max(ends) - first_queued).total_seconds(), 1) if ends else None,
                backfill_stopped=stopped,
                backfill_runs=backfill_runs(done, self.brand_a.pk),
            )
        figures.update(
            webhook_runs=webhook_runs(self.brand_a, since),
            brightpearl_budget_a=budget_delta(budget_before, budget(self.brand_a)),
            waited_before_s=quiet_wait,
            # The machine's load (1 minute) as the condition started and ended: others' work
            # on the same cores would show here.
            load_1m=[round(load_before, 2), round(os.getloadavg()[0], 2)],
            changes=[c.as_dict() for c in changes],
        )
        self._say(
            f"  p50 {figures['p50_s']} s, p95 {figures['p95_s']} s, max {figures['max_s']} s, "
            f"{figures['timed_out']} timed out, {figures['stale_overwrites']} stale"
        )
        return changes, figures

    def _quiet(self) -> float:
        """Wait for the last condition's runs (webhook runs too) to end, then for the
        Brightpearl windows it spent from to close, so that nothing of it spills into the
        next and each condition starts at the start of a window with the whole allowance
        (windows are fixed: where a backfill starts in one decides when it must stop). With
        --no-fresh-windows, only a window in which more than a quarter of the allowance was
        spent (a backfill's) is waited out. Returns the wait."""
        started = time.monotonic()
        deadline = started + 120
        while SyncRun.objects.filter(brand__slug__in=SLUGS, state__in=IN_PROGRESS).exists():
            if time.monotonic() > deadline:
                raise CommandError("The last condition's runs did not end within two minutes.")
            time.sleep(0.5)
        rows = RateBudget.objects.filter(brand__slug__in=SLUGS, system="brightpearl")
        if self.opts["fresh_windows"]:
            spent = [row for row in rows if row.remaining < row.limit]
        else:
            spent = [
                row
                for row in rows
                if row.requests - self.requests_at_start.get(row.brand_id, row.requests)
                > row.limit / 4
            ]
        closes = max((row.resets_at for row in spent), default=0.0)
        pause = min(max(closes - time.time() + 0.5, 0.0), 65.0)
        if pause > 1:
            self._say(f"Waiting {pause:.0f} s for the Brightpearl windows to close…")
        time.sleep(pause)
        self.requests_at_start = dict(
            RateBudget.objects.filter(brand__slug__in=SLUGS, system="brightpearl").values_list(
                "brand_id", "requests"
            )
        )
        return round(time.monotonic() - started, 1)

    def _wait_started(self, runs: list[int], brands: list[Brand]) -> float | None:
        """Until each backfilling brand has a run that has started (a small one may have
        ended already). Returns how long it took."""
        if not runs:
            return None
        started = time.monotonic()
        while True:
            begun = set(
                SyncRun.objects.filter(pk__in=runs, started_at__isnull=False).values_list(
                    "brand_id", flat=True
                )
            )
            if all(b.pk in begun for b in brands):
                return round(time.monotonic() - started, 2)
            if time.monotonic() - started > STARTED_WITHIN_SECONDS:
                raise CommandError("The backfills did not start within two minutes.")
            time.sleep(0.1)

    def _in_progress(self, runs: list[int], brands: list[Brand]) -> bool:
        """Whether every brand has a run of `runs` on a worker, or one that has started and
        waits for its next turn (a bulk run that yielded its worker)."""
        active = SyncRun.objects.filter(
            pk__in=runs, state=RunState.RUNNING
        ) | SyncRun.objects.filter(pk__in=runs, state=RunState.QUEUED, started_at__isnull=False)
        busy = set(active.values_list("brand_id", flat=True))
        return all(b.pk in busy for b in brands)

    def _drive(
        self, condition: str, runs: list[int], brands: list[Brand], enqueued: float
    ) -> tuple[list[Change], bool]:
        """One change a second, Ometria read every poll, until every change has shown or
        timed out and the backfills have ended. Returns the changes and whether the
        backfills had to be stopped."""
        opts = self.opts
        changes: list[Change] = []
        next_change = next_poll = next_look = time.monotonic()
        over, stopped, checked = not runs, False, 0.0
        while True:
            now = time.monotonic()
            if len(changes) < opts["changes"] and now >= next_change:
                order_id, old = self.pool.pop(0)
                running = self._in_progress(runs, brands) if runs else None
                change = Change(
                    condition=condition,
                    order_id=order_id,
                    old=old,
                    new=next_status(old),
                    t0=time.monotonic(),
                    timeout=opts["timeout"],
                    backfill_running=running,
                )
                self.watch.change(change)
                changes.append(change)
                next_change += opts["interval"]
            if now >= next_poll:
                # The changes not seen yet every poll; all of them, for a stale overwrite,
                # every STALE_LOOK_SECONDS (the push log, read at the end, misses none).
                every = now >= next_look
                self.watch.poll(changes if every else [c for c in changes if c.t1 is None])
                next_poll = now + opts["poll"]
                if every:
                    next_look = now + STALE_LOOK_SECONDS
            now = time.monotonic()
            if not over and now - checked >= 1.0:
                checked = now
                over = not SyncRun.objects.filter(pk__in=runs, state__in=IN_PROGRESS).exists()
                if not over and now - enqueued > opts["cap"]:
                    self._stop_backfills(runs)
                    over = stopped = True
            if over and len(changes) == opts["changes"] and all(c.settled(now) for c in changes):
                return changes, stopped
            wake = next_poll
            if len(changes) < opts["changes"]:
                wake = min(wake, next_change)
            time.sleep(max(wake - time.monotonic(), 0.0))

    def _stop_backfills(self, runs: list[int]) -> None:
        """Past the cap: the bulk cluster killed, the runs marked failed, the bulk queue and
        the runs' delayed hand-overs emptied, the bulk cluster started again."""
        self._say("  The backfills ran past --backfill-cap: stopping them.")
        bulk = self.clusters.members[-1]
        bulk.kill()
        SyncRun.objects.filter(pk__in=runs, state__in=IN_PROGRESS).update(
            state=RunState.FAILED,
            finished_at=timezone.now(),
            error="Stopped by bench_freshness: its condition was over.",
        )
        get_broker(bulk.queue or settings.Q_CLUSTER["name"]).purge_queue()
        Schedule.objects.filter(
            func="syncs.tasks.run_flow", args__in=[str(r) for r in runs]
        ).delete()
        bulk.start()

    # --- the figures --------------------------------------------------------------------------
    def _figures(
        self, results: dict, everything: list[Change], config: dict, opts: dict, seconds: float
    ) -> dict:
        figures: dict = {}
        for condition in CONDITIONS:
            if condition in results:
                for key in ("p95_s", "p50_s", "max_s", "n", "timed_out"):
                    figures[f"{condition}_{key}"] = results[condition][key]
        figures.update(
            stale_overwrites=sum(bool(c.stale) for c in everything),
            changes=len(everything),
            timed_out=sum(c.timed_out for c in everything),
            orders_per_brand=opts["orders"],
            workers=opts["workers"],
            bulk_queue=settings.BULK_QUEUE or None,
            limits={
                "time_scale": config["time_scale"],
                **config["limits"],
                "account_limits": config.get("account_limits") or {},
            },
            changes_per_condition=opts["changes"],
            interval_s=opts["interval"],
            poll_s=opts["poll"],
            timeout_s=opts["timeout"],
            backfill_cap_s=opts["cap"],
            fresh_windows=opts["fresh_windows"],
            polls=self.watch.polls,
            poll_mean_ms=round(1000 * self.watch.poll_seconds / max(self.watch.polls, 1), 1),
            database=settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
            commit=commit(),
            goals={f"{c}_p95_s": f"< {g:g}" for c, g in GOALS_P95_S.items()}
            | {"stale_overwrites": "0"},
            conditions=results,
            seconds=round(seconds, 1),
        )
        figures["missed"] = missed_goals(figures)
        return figures

"""`python manage.py chaos --lost-responses 0.2 --kill-workers 10`: the two-way flows under fire.

It starts a vendor sandbox in its own process, connects a brand called "chaos" to it, and
runs the BigCommerce ↔ Brightpearl flows (storefront orders in, which create sales orders
and customers in Brightpearl; order status back out) and the shipments flow (a one-off
notification) through a real qcluster, while:

- a share of every write to Brightpearl, BigCommerce and Ometria is applied and its answer
  lost;
- shoppers place new storefront orders between kills;
- the whole cluster is killed with SIGKILL (its workers die mid-batch) and restarted, as
  many times as asked.

Then, still under the lost answers, the flows must finish their work by themselves; the
back office moves some posted orders on; the faults stop; a last clean pass; and every
system is checked. The last line is one JSON object: `records` (storefront orders),
`duplicates` (records sharing a natural key in any system, made during the run), `lost`
(orders neither in Brightpearl nor in an open ticket), `echoes` (writes the console sent
back to where the change came from), `resent` beside `repeated_events` (shipment events
Ometria saw twice) and what was in doubt, and what happened (`kills`, `lost_answers`,
`human_changes`, `taken_over`). It exits non-zero if any of those does not hold. Run it on a
database of its own:

    DATABASE_URL=sqlite:////tmp/chaos.sqlite3 python manage.py migrate
    DATABASE_URL=sqlite:////tmp/chaos.sqlite3 python manage.py chaos
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Sum
from django.utils import timezone

from brands.models import Brand
from connectors.sandbox.connect import connect_to_sandbox
from exceptions.models import OPEN_STATUSES, Ticket
from syncs import services, sweeper
from syncs.flows.bigcommerce.orders_in import FLOW as ORDERS_IN
from syncs.flows.bigcommerce.status_out import FLOW as STATUS_OUT
from syncs.flows.ometria.shipments import FLOW as SHIPMENTS
from syncs.management.processes import (
    Clusters,
    SandboxProcess,
    require_migrated,
    require_own_database,
)
from syncs.mappings import brightpearl_statuses, mapping_seed_defaults
from syncs.models import (
    RecordLink,
    RecordState,
    RecordStatus,
    RunState,
    SyncRun,
    Trigger,
    ValueMap,
)
from syncs.services import flow_configure, flow_enqueue

# The two-way pair, and a one-off notification beside it (a shipment event may only go once).
FLOWS = (ORDERS_IN, STATUS_OUT, SHIPMENTS)
SLUG = "chaos"
UNLIMITED = {"rate_limit": 1_000_000, "rate_window_seconds": 1}
# Every BigCommerce order status is created as "New web order" in Brightpearl; each
# Brightpearl sales-order status has a BigCommerce status (ids from the vendors' docs).
BC_TO_BP = {str(s): "2" for s in range(1, 15)}
BP_TO_BC = {
    "1": "1", "2": "11", "3": "11", "20": "7", "21": "9", "22": "3", "23": "2",
    "4": "10", "26": "10", "5": "5", "24": "12", "25": "11",
}  # fmt: skip
# The back office's status changes, among the statuses above.
BACK_OFFICE = (21, 22, 23, 4, 26, 5)
SETTLE_SECONDS = 600
VENDOR_LIMITS = (
    "brightpearl_per_minute",
    "ometria_per_second",
    "bigcommerce_per_window",
    "salesforce_daily",
)
# A killed worker's run is taken over once its heartbeat is this old (production: 300 s).
STALE_SECONDS = 10


class Command(BaseCommand):
    help = "Lost answers and killed workers on the two-way BigCommerce ↔ Brightpearl flows."

    def add_arguments(self, parser):
        parser.add_argument(
            "--lost-responses",
            type=float,
            default=0.2,
            help="Share of writes to Brightpearl and BigCommerce applied with the answer lost.",
        )
        parser.add_argument(
            "--kill-workers", type=int, default=10, help="How many times the cluster is killed."
        )
        parser.add_argument(
            "--orders", type=int, default=40, help="New storefront orders placed during it."
        )
        parser.add_argument(
            "--seed-orders",
            type=int,
            default=2000,
            help="Orders in the seeded Brightpearl (a tenth as many storefront orders), so the "
            "first runs last long enough for kills to land in them.",
        )
        parser.add_argument(
            "--latency-ms", type=int, default=20, help="Added to every vendor call, as a WAN would."
        )
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--seed", type=int, default=1, help="For the faults and the timing.")

    def handle(
        self,
        *args,
        lost_responses,
        kill_workers,
        orders,
        seed_orders,
        latency_ms,
        workers,
        seed,
        **options,
    ):
        if not 0 <= lost_responses < 1:
            raise CommandError("--lost-responses is a share of writes, from 0 up to (not) 1.")
        require_migrated()
        require_own_database(SLUG, "the chaos command")
        # Its sweeps queue many runs: one line each from django-q would bury the figures.
        logging.getLogger("django-q").setLevel(logging.WARNING)
        # This process revives the runs the kills leave behind, as the sweeper would.
        services.RUN_STALE_SECONDS = STALE_SECONDS
        services.RUN_MAX_ATTEMPTS = 10 * (kill_workers + 5)
        rng = random.Random(seed)
        started = time.monotonic()
        self.stderr.write("Starting a sandbox…")
        sandbox = SandboxProcess(orders=seed_orders)
        cluster = Clusters(
            workers,
            RUN_STALE_SECONDS=str(STALE_SECONDS),
            RUN_MAX_ATTEMPTS=str(10 * (kill_workers + 5)),
        )
        try:
            # It checks what survives faults, not how fast the vendors' limits let it go: their
            # rate limits are off (the benchmark and the contract suite cover throttling).
            sandbox.post("config", {"limits": {k: 0 for k in VENDOR_LIMITS}})
            brand = self._brand(sandbox)
            for vendor in ("brightpearl", "bigcommerce", "ometria"):
                sandbox.post(
                    "faults",
                    {
                        "vendor": vendor,
                        "lost_write_rate": lost_responses,
                        "latency_ms": latency_ms,
                        "seed": seed,
                    },
                )
            cluster.start()
            human = self._chaos(brand, sandbox, cluster, rng, kill_workers, orders)
            # Still under lost answers, the flows must get everything through by themselves.
            self.stderr.write("Kills over; the flows finish their work under the faults…")
            self._settle(brand, cluster)
            # The back office moves on orders the console posted; their statuses go to the
            # storefront, and what the storefront then reports back must not bounce.
            self._back_office(brand, sandbox, rng, human, count=8)
            self._settle(brand, cluster)
            for vendor in ("brightpearl", "bigcommerce", "ometria"):
                sandbox.post("faults", {"vendor": vendor, "lost_write_rate": 0})
            self.stderr.write("Faults off; a last look at everything…")
            self._settle(brand, cluster)
            figures = self._measure(brand, sandbox, human)
        finally:
            cluster.stop()
            sandbox.stop()
        figures.update(
            kills=kill_workers,
            seed_orders=seed_orders,
            latency_ms=latency_ms,
            lost_responses=lost_responses,
            workers=workers,
            seconds=round(time.monotonic() - started, 1),
        )
        self.stdout.write(json.dumps(figures))
        if (
            figures["duplicates"]
            or figures["lost"]
            or figures["echoes"]
            or figures["repeated_events"] > figures["resent"]
            or figures["resent"]
            > figures["in_flight_at_kills"] + figures["events_in_unanswered_pushes"]
        ):
            raise CommandError("The flows did not hold: see the figures above.")

    # --- set-up -------------------------------------------------------------------------
    def _brand(self, sandbox: SandboxProcess) -> Brand:
        Brand.objects.filter(slug=SLUG).delete()
        brand = Brand.objects.create(name="Chaos", slug=SLUG)
        for conn in connect_to_sandbox(brand, sandbox.discovery):
            conn.settings = {**conn.settings, **UNLIMITED}
            conn.save()
        mapping_seed_defaults(
            brand=brand, statuses=brightpearl_statuses(brand=brand, refresh=True, wait=True)
        )
        for kind, values in (("bc_order_status", BC_TO_BP), ("bp_order_status_to_bc", BP_TO_BC)):
            ValueMap.objects.bulk_create(
                ValueMap(brand=brand, kind=kind, source_value=s, target_value=t)
                for s, t in values.items()
            )
        for code in FLOWS:
            # No schedule: this command queues the runs, as webhooks and schedules would.
            flow_configure(brand=brand, flow=code, enabled=True, schedule_minutes=0)
        return brand

    # --- the chaos ------------------------------------------------------------------------
    def _chaos(self, brand, sandbox, cluster, rng, kills: int, orders: int) -> Counter:
        """Orders placed, statuses changed, runs queued, the cluster killed; the back
        office's changes per storefront order are returned."""
        skus = [
            p["sku"]
            for p in sandbox.get("state/bigcommerce/variants", limit=1000)["items"]
            if p.get("sku") != sandbox.discovery.get("seed", {}).get("unknown_sku")
        ][:20]
        human: Counter = Counter()
        self.in_flight_seen: set[tuple[int, int, tuple]] = set()
        per_round = max(1, -(-orders // max(kills, 1)))
        placed = 0
        for n in range(max(kills, 1)):
            for _ in range(min(per_round, orders - placed)):
                sandbox.post(
                    "bigcommerce/orders",
                    {
                        "email": f"chaos{rng.randint(1, 25)}@example.com",
                        "first_name": "Chaos",
                        "last_name": f"Shopper {placed}",
                        "lines": [{"sku": rng.choice(skus), "quantity": rng.randint(1, 3)}],
                        "status_id": 11,
                    },
                )
                placed += 1
            self._back_office(brand, sandbox, rng, human)
            for code in FLOWS:
                flow_enqueue(brand_id=brand.pk, flow=code, trigger=Trigger.MANUAL)
            if n < kills:
                time.sleep(rng.uniform(0.2, 1.2))
                cluster.kill()
                # What the dead workers had on its way: the most a kill may make go again.
                # (A run left dead across two kills, not taken over between them, holds the
                # same batch: counted once.)
                for run_id, attempt, ids in (
                    SyncRun.objects.filter(brand=brand)
                    .exclude(in_flight=[])
                    .values_list("pk", "attempts", "in_flight")
                ):
                    self.in_flight_seen.add((run_id, attempt, tuple(ids)))
                self.stderr.write(f"  kill {n + 1} of {kills}")
                time.sleep(STALE_SECONDS + 0.5)  # the dead runs' heartbeats go stale
                cluster.start()
                sweeper.runs_sweep()
        return human

    def _back_office(self, brand, sandbox, rng, human: Counter, count: int = 2) -> None:
        """Someone in the back office moves a few posted storefront orders on."""
        posted = list(
            RecordLink.objects.filter(
                brand=brand, kind="order", system="brightpearl", written_by=ORDERS_IN
            )
            .exclude(external_id__isnull=True)
            .values_list("external_id", "entity")[:200]
        )
        for bp_id, entity in rng.sample(posted, min(count, len(posted))):
            sandbox.post(
                f"brightpearl/orders/{bp_id}/status", {"statusId": rng.choice(BACK_OFFICE)}
            )
            human[entity] += 1

    def _settle(self, brand, cluster) -> None:
        """Run both flows until a round changes nothing, with every run finished."""
        deadline = time.monotonic() + SETTLE_SECONDS
        quiet = 0
        while quiet < 2:
            if time.monotonic() > deadline:
                raise CommandError("The flows did not settle within ten minutes.")
            ids = [
                flow_enqueue(brand_id=brand.pk, flow=code, trigger=Trigger.MANUAL, full=True).pk
                for code in FLOWS
            ]
            while SyncRun.objects.filter(
                brand=brand, state__in=[RunState.QUEUED, RunState.RUNNING]
            ).exists():
                if time.monotonic() > deadline:
                    raise CommandError("The flows did not settle within ten minutes.")
                if not cluster.alive():
                    cluster.start()
                sweeper.runs_sweep()
                time.sleep(2)
            done = SyncRun.objects.filter(pk__in=ids)
            wrote = sum(r.written + r.created for r in done)
            quiet = quiet + 1 if wrote == 0 else 0

    # --- the verdict ------------------------------------------------------------------------
    def _measure(self, brand, sandbox, human: Counter) -> dict:
        bc_orders = sandbox.get("state/bigcommerce/orders", limit=100_000)["items"]
        bp_orders = sandbox.get("state/brightpearl/orders", limit=100_000, type=1)["items"]
        in_bp = {str(o.get("externalRef")) for o in bp_orders if o.get("externalRef")}
        ticketed = set(
            Ticket.objects.filter(
                brand=brand, flow=ORDERS_IN, status__in=OPEN_STATUSES
            ).values_list("source_id", flat=True)
        ) | {
            str(i)
            for snap in Ticket.objects.filter(
                brand=brand, status__in=OPEN_STATUSES, type__code="unmapped_value"
            ).values_list("snapshot", flat=True)
            for ids in (snap.get("waiting_ids") or {}).values()
            for i in (ids if isinstance(ids, list) else [])
        }
        lost = sorted(
            str(o["id"])
            for o in bc_orders
            if int(o.get("status_id", 0)) != 0
            and str(o["id"]) not in in_bp
            and str(o["id"]) not in ticketed
        )
        duplicates = sum(
            sandbox.get(f"duplicates/{vendor}", created_after_seed=1)["count"]
            for vendor in ("brightpearl", "bigcommerce")
        )
        dropped = sandbox.get(
            "state/sandbox/writes", vendor="brightpearl", method="POST", status="dropped", limit=1
        )["count"]
        # Ometria merges orders and contacts by id; an event pushed twice is a push, not a
        # record, and its docs do not say it is ignored: counted apart, beside `resent`.
        repeated = sum(
            len(g["ids"]) - 1
            for g in sandbox.get("duplicates/ometria")["groups"]
            if g.get("collection") == "repeated_events"
        )
        # Event pushes whose answer was lost: their events' outcome was unknown too.
        unanswered = sum(
            1
            for w in sandbox.get(
                "state/sandbox/writes", vendor="ometria", status="dropped", limit=100_000
            )["items"]
            for key in w.get("keys") or []
            if key.startswith("custom_event:")
        )
        runs = SyncRun.objects.filter(brand=brand)
        totals = runs.aggregate(created=Sum("created"), echoes=Sum("echoes"), resent=Sum("resent"))
        return {
            "records": len(bc_orders),
            "created": totals["created"] or 0,
            "duplicates": duplicates,
            "lost": len(lost),
            "lost_ids": lost[:20],
            "echoes": self._echoes(brand, sandbox, human),
            "echoes_suppressed": totals["echoes"] or 0,
            "shipment_events": RecordState.objects.filter(
                brand=brand, flow=SHIPMENTS, status=RecordStatus.SYNCED
            ).count(),
            "resent": totals["resent"] or 0,
            "repeated_events": repeated,
            # The bound on `resent`: what was on its way, outcome unknown, at a kill or when an
            # answer was lost.
            "in_flight_at_kills": sum(len(ids) for _, _, ids in self.in_flight_seen),
            "events_in_unanswered_pushes": unanswered,
            "lost_answers": dropped,
            "human_changes": sum(human.values()),
            "runs": runs.count(),
            # Runs a kill stopped mid-way, finished by another worker.
            "taken_over": runs.filter(attempts__gt=1).count(),
            "finished_at": timezone.now().isoformat(timespec="seconds"),
        }

    def _echoes(self, brand, sandbox, human: Counter) -> int:
        """Writes the console sent back to where a change came from: a status set in
        BigCommerce on a posted order whose Brightpearl status nobody but the console's own
        create ever set (that create coming back), and any write to a posted order in
        Brightpearl after its create (a status set in BigCommerce coming back)."""
        links = RecordLink.objects.filter(brand=brand, kind="order")
        posted = {
            entity
            for entity in links.filter(system="brightpearl", written_by=ORDERS_IN).values_list(
                "entity", flat=True
            )
        }
        storefront = dict(
            links.filter(system="bigcommerce", entity__in=posted).values_list(
                "external_id", "entity"
            )
        )
        bp_ids = set(
            links.filter(system="brightpearl", entity__in=posted).values_list(
                "external_id", flat=True
            )
        )
        writes = sandbox.get("state/sandbox/writes", status="2xx", limit=1_000_000)["items"]
        set_in_bc: Counter = Counter()
        echoes = 0
        for w in writes:
            path = w.get("path", "")
            if w.get("vendor") == "bigcommerce" and w.get("method") == "PUT":
                order_id = path.rstrip("/").rsplit("/", 1)[-1]
                if order_id in storefront:
                    set_in_bc[storefront[order_id]] += 1
            elif w.get("vendor") == "brightpearl" and w.get("method") in ("PUT", "PATCH"):
                parts = path.split("/")
                if "order" in parts and any(p in bp_ids for p in parts):
                    echoes += 1
        # A posted order the back office moved is sent to BigCommerce, perhaps more than once
        # (a write repeated after a kill): only the untouched ones tell an echo for sure.
        return echoes + sum(n for entity, n in set_in_bc.items() if not human[entity])

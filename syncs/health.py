"""Machine-readable health: is the console ready to work, and its figures for Prometheus.

`readiness()` answers /readyz: the database, the task broker, and a heartbeat of each
cluster (the default one runs the sweeper's schedule every minute; the bulk one runs the
flows' schedules). `metrics_text()` answers /metrics with, per brand and flow, the lag,
records and API calls of the last day, throttle waits and open tickets: read when a monitor
scrapes (a few aggregate queries, and two per brand for the lags).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Schedule
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from brands.models import Brand
from exceptions.models import OPEN_STATUSES, Ticket
from syncs.models import SyncRun
from syncs.overview import brands_overview
from syncs.verdict import RANK

logger = logging.getLogger("syncs")

# A cluster whose schedules are this overdue is not running.
HEARTBEAT_GRACE = timedelta(minutes=3)


def readiness() -> dict[str, Any]:
    """Each check: {"ok": bool, "detail": str}; ready when all are ok."""
    checks = {
        "database": _check(_database),
        "broker": _check(_broker),
        "cluster": _check(lambda: _overdue(Schedule.objects.filter(cluster__isnull=True))),
    }
    if settings.BULK_QUEUE:
        checks["bulk_cluster"] = _check(
            lambda: _overdue(Schedule.objects.filter(cluster=settings.BULK_QUEUE))
        )
    return {"ready": all(c["ok"] for c in checks.values()), "checks": checks}


class NotReady(Exception):
    """A check's own plain finding, fit to show to whoever calls /readyz."""


def _check(probe) -> dict[str, Any]:
    try:
        return {"ok": True, "detail": probe()}
    except NotReady as exc:
        return {"ok": False, "detail": str(exc)}
    except Exception:  # a readiness probe reports any failure, it never raises
        # The caller is not signed in: the error's text (hosts, paths) stays in the log.
        logger.exception("readiness check %s failed", getattr(probe, "__name__", "?"))
        return {"ok": False, "detail": "It failed; the server log has the details."}


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "answers"


def _broker() -> str:
    broker = get_broker()
    if not broker.ping():
        raise NotReady("The task broker does not answer.")
    return f"{type(broker).__name__} answers, {broker.queue_size() or 0} task(s) waiting"


def _overdue(schedules) -> str:
    """A cluster runs the schedules due on its queue: one long overdue means it is down."""
    late = schedules.exclude(repeats=0).filter(next_run__lt=timezone.now() - HEARTBEAT_GRACE)
    oldest = late.order_by("next_run").values_list("name", "next_run").first()
    if oldest is not None:
        raise NotReady(
            f"schedule “{oldest[0]}” was due at {oldest[1]:%H:%M:%S} and has not run: "
            "is its qcluster running?"
        )
    return "its schedules run on time"


class _ConsoleCollector:
    """Collected at scrape time from the database, never cached in this process (the web
    workers and the clusters all change it)."""

    def collect(self):
        day_ago = timezone.now() - timedelta(days=1)
        labels = ["brand", "flow"]
        lag = GaugeMetricFamily(
            "console_flow_lag_seconds", "Age of the oldest change not yet synced", labels=labels
        )
        records = GaugeMetricFamily(
            "console_flow_records_24h", "Records read by the flow's runs, last 24 h", labels=labels
        )
        written = GaugeMetricFamily(
            "console_flow_written_24h", "Records written to the target, last 24 h", labels=labels
        )
        calls = GaugeMetricFamily(
            "console_flow_api_calls_24h",
            "Vendor API calls of the flow's runs, last 24 h",
            labels=labels,
        )
        waits = GaugeMetricFamily(
            "console_flow_throttle_waits_24h",
            "Waits for a vendor's rate limit, last 24 h",
            labels=labels,
        )
        tickets = GaugeMetricFamily("console_open_tickets", "Open exception tickets", labels=labels)
        slugs = dict(Brand.objects.filter(active=True).values_list("pk", "slug"))
        runs = (
            SyncRun.objects.filter(brand_id__in=slugs, queued_at__gte=day_ago)
            .values("brand_id", "flow")
            .annotate(
                read=Sum("read"),
                written=Sum("written"),
                calls=Sum("api_calls"),
                waits=Sum("throttle_waits"),
            )
        )
        for row in runs:
            key = [slugs[row["brand_id"]], row["flow"]]
            records.add_metric(key, row["read"] or 0)
            written.add_metric(key, row["written"] or 0)
            calls.add_metric(key, row["calls"] or 0)
            waits.add_metric(key, row["waits"] or 0)
        for row in (
            Ticket.objects.filter(brand_id__in=slugs, status__in=OPEN_STATUSES)
            .values("brand_id", "flow")
            .annotate(n=Count("id"))
        ):
            tickets.add_metric([slugs[row["brand_id"]], row["flow"] or ""], row["n"])
        # The overview's own reading (a constant number of queries for every brand): the
        # same lags and verdicts a person sees, so an alert and the page never disagree.
        verdict = GaugeMetricFamily(
            "console_brand_verdict",
            "1 for the brand's verdict on the overview (down, degraded, healthy, idle), else 0",
            labels=["brand", "verdict"],
        )
        for line in brands_overview(list(Brand.objects.filter(active=True))):
            for level in RANK:
                verdict.add_metric([line.brand.slug, level], int(line.verdict.level == level))
            for flow in line.flows:
                if flow.enabled and flow.lag is not None:
                    lag.add_metric([line.brand.slug, flow.code], flow.lag.total_seconds())
        yield from (lag, records, written, calls, waits, tickets, verdict)


def metrics_text() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ConsoleCollector())
    return generate_latest(registry)

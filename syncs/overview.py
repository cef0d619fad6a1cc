"""What the overview shows of each brand: its verdict (syncs/verdict.py) and why; each
connection's health, last success, last error and allowance used; each flow's last run,
records today, lag in words and open tickets by team; the bulk work under way and how far it
has got; and what its API calls went to in the last hour. A constant number of queries for
any number of brands: the agency watches a hundred on one page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Min, OuterRef, Q, Subquery, Sum
from django.template.defaultfilters import pluralize
from django.utils import timezone

from brands.models import Brand, Team
from brands.times import duration, zone_of
from connectors.models import Connection, Health, RateBudget
from connectors.registry import REGISTRY as VENDORS
from connectors.usage import budget_usage_last_hour
from exceptions.models import OPEN_STATUSES, Ticket
from syncs.flows import REGISTRY
from syncs.history.models import FlowHour
from syncs.models import (
    FlowConfig,
    InboxState,
    RecordState,
    RecordStatus,
    RunState,
    SyncRun,
    WebhookEvent,
)
from syncs.verdict import Verdict, brand_verdict, flow_threshold, lag_words

VENDOR_NAMES = {system: cls.label for system, cls in VENDORS.items()}


@dataclass
class LagFacts:
    """What a flow has not synced yet: records held back (waiting or failed) and webhook
    events not read yet, each with its oldest, and the resulting lag."""

    lag: timedelta | None = None
    waiting: int = 0
    waiting_since: datetime | None = None
    inbox: int = 0
    inbox_since: datetime | None = None
    refused: int = 0  # of the held records, those the target refused (each has a ticket)


def lag_facts(
    brand_ids: list[int], configs: list[FlowConfig], now: datetime
) -> dict[tuple[int, str], LagFacts]:
    """Per (brand, flow), how long the oldest change not yet synced has waited: since it was
    made if it is not read yet (before the cursor, or a webhook not processed yet), since the
    console first held it back if it waits or failed. Lag None when never run. Two queries
    for any number of brands."""
    held: dict[tuple[int, str], list] = {}
    for row in (
        RecordState.objects.filter(
            brand_id__in=brand_ids, status__in=[RecordStatus.WAITING, RecordStatus.FAILED]
        )
        .order_by()
        .values("brand_id", "flow", "status")
        .annotate(n=Count("pk"), t=Min("held_since"))
    ):
        # [waiting, refused, the oldest of either]
        entry = held.setdefault((row["brand_id"], row["flow"]), [0, 0, None])
        entry[0 if row["status"] == RecordStatus.WAITING else 1] += row["n"]
        if row["t"] and (entry[2] is None or row["t"] < entry[2]):
            entry[2] = row["t"]
    # Webhook events not read yet, per vendor: only the flows reading from that vendor wait
    # on them (a stuck Mailchimp callback does not hold up the Ometria flows).
    inbox = {
        (row["brand_id"], row["connection__system"]): (row["n"], row["t"])
        for row in WebhookEvent.objects.filter(
            brand_id__in=brand_ids, state__in=[InboxState.RECEIVED, InboxState.PROCESSING]
        )
        .order_by()
        .values("brand_id", "connection__system")
        .annotate(n=Count("pk"), t=Min("received_at"))
    }
    facts: dict[tuple[int, str], LagFacts] = {}
    for config in configs:
        waiting, refused, waiting_since = held.get((config.brand_id, config.flow), (0, 0, None))
        cls = REGISTRY.get(config.flow)
        source = cls.source if cls else ""
        unread, unread_since = inbox.get((config.brand_id, source), (0, None))
        candidates = [t for t in (waiting_since, unread_since) if t]
        if config.enabled and config.cursor:
            candidates.append(config.cursor)
        lag = max(now - min(candidates), timedelta(0)) if candidates else None
        facts[(config.brand_id, config.flow)] = LagFacts(
            lag, waiting, waiting_since, unread, unread_since, refused
        )
    return facts


def flow_lags(brand_id: int, configs: list[FlowConfig], now=None) -> dict[str, timedelta | None]:
    """One brand's flows' lags (see lag_facts)."""
    facts = lag_facts([brand_id], configs, now or timezone.now())
    return {config.flow: facts[(brand_id, config.flow)].lag for config in configs}


def flow_lag(config: FlowConfig, now=None) -> timedelta | None:
    return flow_lags(config.brand_id, [config], now)[config.flow]


@dataclass
class FlowLine:
    code: str
    label: str
    description: str
    owners: list[str]
    systems: tuple[str, str]
    config: FlowConfig | None
    enabled: bool
    last_run: SyncRun | None
    lag: timedelta | None
    lag_words: str
    behind: bool
    records_today: int
    tickets: dict[str, int]  # open tickets by team code

    @property
    def open_tickets(self) -> int:
        return sum(self.tickets.values())

    @property
    def ticket_teams(self) -> list[tuple[str, str, int]]:
        return team_counts(self.tickets)


@dataclass
class ConnectionLine:
    system: str
    label: str
    status: str
    failing: bool
    failing_since: datetime | None
    error: str
    last_ok: datetime | None
    last_failure: str
    last_failure_at: datetime | None
    budget: str
    throttled_at: datetime | None


@dataclass
class BrandLine:
    brand: Brand
    verdict: Verdict
    flows: list[FlowLine]
    connections: list[ConnectionLine]
    bulk: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    tickets: dict[str, int] = field(default_factory=dict)  # open tickets by team code

    @property
    def ticket_teams(self) -> list[tuple[str, str, int]]:
        return team_counts(self.tickets)

    @property
    def live_flows(self) -> list[FlowLine]:
        return [f for f in self.flows if f.enabled]

    @property
    def idle_flows(self) -> list[FlowLine]:
        return [f for f in self.flows if not f.enabled]


TEAM_LABELS = dict(Team.choices)


def team_counts(tickets: dict[str, int]) -> list[tuple[str, str, int]]:
    """(team code, its name in lower case, open tickets), for "2 finance" and its link."""
    return [(team, TEAM_LABELS.get(team, team).lower(), n) for team, n in tickets.items()]


def brands_overview(brands: list[Brand], now: datetime | None = None) -> list[BrandLine]:
    """The overview: one line per brand, worst verdict first, with its connections, its
    flows, its bulk work and its API calls. A constant number of queries, however many
    brands (the agency's page shows them all): each kind of fact is read for every brand
    at once."""
    now = now or timezone.now()
    ids = [brand.pk for brand in brands]
    configs = list(FlowConfig.objects.filter(brand_id__in=ids).annotate(last_run_id=_LAST_RUN))
    runs = SyncRun.objects.filter(
        pk__in=FlowConfig.objects.filter(brand_id__in=ids).annotate(r=_LAST_RUN).values("r")
    ).defer("log", "in_flight", "resume")
    last_runs = {run.pk: run for run in runs}
    lags = lag_facts(ids, configs, now)
    today = records_today(brands, now)
    tickets = _open_tickets(ids)
    connections = _connections(ids, now)
    progress = bulk_progress(brand_ids=ids)
    calls = api_calls_last_hour(brand_ids=ids)
    by_brand: dict[int, dict[str, FlowConfig]] = {}
    for config in configs:
        by_brand.setdefault(config.brand_id, {})[config.flow] = config
    lines = []
    for brand in brands:
        flows = []
        for code, cls in REGISTRY.items():
            config = by_brand.get(brand.pk, {}).get(code)
            enabled = bool(config and config.enabled)
            facts = lags.get((brand.pk, code), LagFacts())
            threshold = flow_threshold(
                brand.lag_alert_minutes, config.schedule_minutes if config else None
            )
            flows.append(
                FlowLine(
                    code=code,
                    label=cls.label,
                    description=cls.description,
                    # Who owns each field that travels both ways (a conflict follows the owner).
                    owners=[
                        f"{name} by {VENDOR_NAMES.get(system, system)}"
                        for name, system in cls.owners.items()
                    ],
                    systems=(cls.source, cls.target),
                    config=config,
                    enabled=enabled,
                    last_run=last_runs.get(config.last_run_id) if config else None,
                    lag=facts.lag,
                    lag_words=lag_words(
                        noun=cls.noun,
                        lag=facts.lag,
                        threshold=threshold,
                        waiting=facts.waiting,
                        refused=facts.refused,
                        waiting_since=facts.waiting_since,
                        inbox=facts.inbox,
                        inbox_since=facts.inbox_since,
                        now=now,
                        ran=bool(config and config.last_run_id),
                    )
                    if enabled
                    else "",
                    behind=enabled and facts.lag is not None and facts.lag > threshold,
                    records_today=today.get((brand.pk, code), 0),
                    tickets=tickets.get((brand.pk, code), {}),
                )
            )
        brand_connections = connections.get(brand.pk, [])
        team_totals: dict[str, int] = {}
        for (brand_id, _flow), teams in tickets.items():
            if brand_id == brand.pk:
                for team, n in teams.items():
                    team_totals[team] = team_totals.get(team, 0) + n
        lines.append(
            BrandLine(
                brand=brand,
                verdict=brand_verdict(brand, flows, brand_connections, now),
                flows=flows,
                connections=brand_connections,
                bulk=progress.get(brand.pk, []),
                calls=calls.get(brand.pk, []),
                tickets=dict(sorted(team_totals.items())),
            )
        )
    lines.sort(key=lambda line: (line.verdict.rank, line.brand.name.lower()))
    return lines


# Each flow's latest run, found through the run_latest index, one look-up per flow.
_LAST_RUN = Subquery(
    SyncRun.objects.filter(brand_id=OuterRef("brand_id"), flow=OuterRef("flow"))
    .order_by("-queued_at", "-pk")
    .values("pk")[:1]
)


def records_today(brands: list[Brand], now: datetime) -> dict[tuple[int, str], int]:
    """Per (brand, flow), records written since midnight in the brand's time zone, from the
    hours already counted (syncs/history). One query: brands that share a time zone share
    a midnight, and each group is one condition."""
    by_zone: dict[str, list[int]] = {}
    for brand in brands:
        by_zone.setdefault(brand.timezone, []).append(brand.pk)
    condition = Q(pk__in=[])
    for zone, ids in by_zone.items():
        midnight = now.astimezone(zone_of(zone)).replace(hour=0, minute=0, second=0, microsecond=0)
        # Hours are whole UTC hours: a zone half an hour off UTC counts from the hour before.
        start = midnight.astimezone(UTC).replace(minute=0)
        condition |= Q(brand_id__in=ids, hour__gte=start)
    rows = (
        FlowHour.objects.filter(condition)
        .exclude(flow="")
        .order_by()
        .values("brand_id", "flow")
        .annotate(n=Sum("written"))
    )
    return {(row["brand_id"], row["flow"]): row["n"] or 0 for row in rows}


def _open_tickets(brand_ids: list[int]) -> dict[tuple[int, str], dict[str, int]]:
    """Per (brand, flow), open tickets by team code. One query."""
    counts: dict[tuple[int, str], dict[str, int]] = {}
    rows = (
        Ticket.objects.filter(brand_id__in=brand_ids, status__in=OPEN_STATUSES)
        .order_by()
        .values("brand_id", "flow", "team")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        teams = counts.setdefault((row["brand_id"], row["flow"]), {})
        teams[row["team"]] = teams.get(row["team"], 0) + row["n"]
    return counts


def _connections(brand_ids: list[int], now: datetime) -> dict[int, list[ConnectionLine]]:
    """Per brand, each connection's health, last success and failure, and how much of the
    vendor's allowance is spent in the window under way. Two queries."""
    budgets = {
        (b.brand_id, b.system): b
        for b in RateBudget.objects.filter(brand_id__in=brand_ids).only(
            "brand_id",
            "system",
            "limit",
            "window_seconds",
            "remaining",
            "resets_at",
            "throttled_at",
        )
    }
    lines: dict[int, list[ConnectionLine]] = {}
    connections = (
        Connection.objects.filter(brand_id__in=brand_ids)
        .defer("credentials_token", "settings")
        .order_by("brand_id", "system")
    )
    for c in connections:
        budget = budgets.get((c.brand_id, c.system))
        throttled = (
            datetime.fromtimestamp(budget.throttled_at, tz=UTC)
            if budget and budget.throttled_at
            else None
        )
        failing = c.status == Health.FAILING
        lines.setdefault(c.brand_id, []).append(
            ConnectionLine(
                system=c.system,
                label=VENDOR_NAMES.get(c.system, c.system),
                status=c.get_status_display(),
                failing=failing,
                failing_since=c.last_checked if failing else None,
                error=c.last_error,
                last_ok=c.last_ok,
                last_failure=c.last_failure or c.last_error,
                last_failure_at=c.last_failure_at or (c.last_checked if failing else None),
                budget=_budget_words(budget, now) if budget else "",
                throttled_at=throttled,
            )
        )
    return lines


def _budget_words(budget: RateBudget, now: datetime) -> str:
    """ "120 of 200 a minute used": the window under way (none used once it has reset). A
    vendor whose calls are spaced evenly (Ometria) has no window to count: its pace."""
    vendor = VENDORS.get(budget.system)
    if vendor is not None and getattr(vendor, "smooth_rate", False):
        return f"Paced at {budget.limit:,} calls {_per(budget.window_seconds)}"
    used = budget.limit - budget.remaining if budget.resets_at > now.timestamp() else 0
    used = min(max(used, 0), budget.limit)
    return f"{used:,} of {budget.limit:,} {_per(budget.window_seconds)} used"


def _per(seconds: float) -> str:
    named = {1: "a second", 60: "a minute", 3600: "an hour", 86400: "a day"}
    return named.get(int(seconds), f"per {duration(timedelta(seconds=seconds))}")


def bulk_progress(*, brand_ids: list[int]) -> dict[int, list[str]]:
    """Per brand, one line per bulk run queued or running (unscoped: a full sync or catching
    up), oldest first: "Order lifecycle: full sync, 12,400 of 100,000 orders". One query."""
    runs = (
        SyncRun.objects.filter(
            brand_id__in=brand_ids, scope=[], state__in=[RunState.QUEUED, RunState.RUNNING]
        )
        .only("brand_id", "flow", "full", "state", "read", "total")
        .order_by("brand_id", "queued_at", "pk")
    )
    lines: dict[int, list[str]] = {}
    for run in runs:
        cls = REGISTRY.get(run.flow)
        label, noun = (cls.label, cls.noun) if cls else (run.flow, "records")
        what = "full sync" if run.full else "catching up"
        if run.state == RunState.QUEUED and not run.read:
            done = "waiting to start"
        elif run.total is not None:
            # The source's total can fall short of what a run reads (records added since).
            done = f"{run.read:,} of {max(run.total, run.read):,} {noun}"
        else:
            done = f"{run.read:,} {noun} so far"
        lines.setdefault(run.brand_id, []).append(f"{label}: {what}, {done}")
    return lines


def api_calls_last_hour(*, brand_ids: list[int]) -> dict[int, list[str]]:
    """Per brand, one line per vendor it called in the last hour, split between events
    (webhooks, retries, pages) and bulk work: "Brightpearl, last hour: 120 calls for
    events, 3,400 for bulk work". One query."""
    return {
        brand_id: [
            f"{VENDOR_NAMES.get(row.system, row.system)}, last hour: "
            f"{row.events:,} call{pluralize(row.events)} for events, "
            f"{row.bulk:,} for bulk work"
            for row in rows
        ]
        for brand_id, rows in budget_usage_last_hour(brand_ids=brand_ids).items()
    }

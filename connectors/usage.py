"""What a brand's vendor allowance was spent on: events or bulk work, per five minutes.

Each take from the shared budget counts itself on the RateBudget row it writes anyway (the
five minutes under way), so counting costs no statement of its own. When the next five
minutes begin, the first take moves the finished counts to a BudgetUsage row: one write per
brand and vendor every five minutes, inside that take's transaction. The overview sums both,
the finished periods and the one under way, in one query for every brand on the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from connectors.models import BudgetUsage, RateBudget, System

# Five-minute periods: "the last hour" on the overview is the periods that started in the
# last hour, plus the one under way an hour ago (60 to 65 minutes). Finer would cost rows;
# hourly would make "the last hour" mean anything from one hour to two.
PERIOD_SECONDS = 300
# Nothing shows more than the last hour; two days are kept for a look in the admin.
KEEP = timedelta(days=2)
USAGE_FIELDS = ["usage_period", "usage_events", "usage_bulk"]


def _period_start(epoch: float) -> float:
    return epoch - epoch % PERIOD_SECONDS


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def budget_usage_count(row: RateBudget, *, at: float, priority: bool) -> list[str]:
    """Count one take (at `at`, epoch seconds) as an event's or bulk work's on the locked
    budget row, and return the row's fields to save with the take.

    Call inside the take's transaction, with the row locked: every taker of this brand's
    budget for this vendor queues on that lock, so a period is moved to BudgetUsage once.
    """
    period = _period_start(at)
    # Only forward: a machine whose clock is a little behind counts into the newer period.
    if period > row.usage_period:
        if row.usage_events or row.usage_bulk:
            _keep(row)
        row.usage_period, row.usage_events, row.usage_bulk = period, 0, 0
    if priority:
        row.usage_events += 1
    else:
        row.usage_bulk += 1
    return USAGE_FIELDS


def _keep(row: RateBudget) -> None:
    """Move the row's finished period to BudgetUsage, and drop the pair's old periods."""
    period = _moment(row.usage_period)
    counts = {"events": row.usage_events, "bulk": row.usage_bulk}
    rows = BudgetUsage.objects.filter(brand_id=row.brand_id, system=row.system, period=period)
    added = {k: F(k) + v for k, v in counts.items()}
    if not rows.update(**added):
        try:
            with transaction.atomic():  # a savepoint: a row made meanwhile is added to
                BudgetUsage.objects.create(
                    brand_id=row.brand_id, system=row.system, period=period, **counts
                )
        except IntegrityError:
            rows.update(**added)
    BudgetUsage.objects.filter(
        brand_id=row.brand_id, system=row.system, period__lt=period - KEEP
    ).delete()


@dataclass(frozen=True)
class UsageSplit:
    system: str
    events: int
    bulk: int


def budget_usage_last_hour(
    *, brand_ids: list[int], now: datetime | None = None
) -> dict[int, list[UsageSplit]]:
    """Per brand, each vendor's requests in the last hour: for events and for bulk work.

    One query for any number of brands (the finished periods and the ones under way, in one
    UNION); vendors in alphabetical order of their code, those with no calls left out.
    """
    now = now or timezone.now()
    since = _period_start((now - timedelta(hours=1)).timestamp())
    # (no ORDER BY inside a UNION: the models' default orderings are cleared)
    finished = (
        BudgetUsage.objects.filter(brand_id__in=brand_ids, period__gte=_moment(since))
        .order_by()
        .values_list("brand_id", "system", "events", "bulk")
    )
    under_way = (
        RateBudget.objects.filter(brand_id__in=brand_ids, usage_period__gte=since)
        .order_by()
        .values_list("brand_id", "system", "usage_events", "usage_bulk")
    )
    sums: dict[tuple[int, str], list[int]] = {}
    for brand_id, system, events, bulk in finished.union(under_way, all=True):
        total = sums.setdefault((brand_id, system), [0, 0])
        total[0] += events
        total[1] += bulk
    split: dict[int, list[UsageSplit]] = {}
    for (brand_id, system), (events, bulk) in sorted(sums.items()):
        if events or bulk:
            split.setdefault(brand_id, []).append(UsageSplit(system, events, bulk))
    return split


# A vendor whose allowance is counted per day (Salesforce's daily API requests) rather than per
# minute: its use is a figure people plan by, shown beside the brand's connections.
DAILY_WINDOW_SECONDS = 86_400.0


@dataclass(frozen=True)
class DailyAllowance:
    """A vendor's daily allocation and what is used of it, as the vendor last reported it
    (Salesforce: every answer's `Sforce-Limit-Info: api-usage=used/limit`), counting this
    console's calls still in flight."""

    system: str
    used: int
    limit: int
    as_of: datetime
    # Of those, the calls this console made (its flows' polling and writes) in the same 24
    # hours: what its schedules cost against an allocation other apps share.
    ours: int = 0

    @property
    def label(self) -> str:
        return str(System(self.system).label)

    @property
    def percent(self) -> int:
        return round(100 * self.used / self.limit) if self.limit else 0

    @property
    def words(self) -> str:
        words = (
            f"{self.used:,} of {self.limit:,} API calls used in the last 24 hours ({self.percent}%)"
        )
        return f"{words}, {self.ours:,} of them by this console" if self.ours else words


def daily_allowances(*, brand_id: int) -> dict[str, DailyAllowance]:
    """Each vendor of the brand with a daily allocation: calls used against it, by system."""
    rows = RateBudget.objects.filter(brand_id=brand_id, window_seconds__gte=DAILY_WINDOW_SECONDS)
    return {
        row.system: DailyAllowance(
            system=row.system,
            used=max(row.limit - max(row.remaining, 0), 0),
            limit=row.limit,
            as_of=row.updated,
            ours=console_calls_last_day(row),
        )
        for row in rows
        if row.limit
    }


def console_calls_last_day(row: RateBudget, now: datetime | None = None) -> int:
    """The calls this console made to the budget's vendor in the last 24 hours: the finished
    5-minute periods kept (two days of them) and the one under way on the budget row."""
    now = now or timezone.now()
    since = _period_start((now - timedelta(days=1)).timestamp())
    finished = BudgetUsage.objects.filter(
        brand_id=row.brand_id, system=row.system, period__gte=_moment(since)
    ).aggregate(events=Sum("events"), bulk=Sum("bulk"))
    total = (finished["events"] or 0) + (finished["bulk"] or 0)
    if row.usage_period and row.usage_period >= since:
        total += row.usage_events + row.usage_bulk
    return total

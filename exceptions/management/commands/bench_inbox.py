"""Time the inbox's first page with many tickets in the database.

    python manage.py bench_inbox --tickets 100000

Creates the tickets once (in two bench brands of its own, with an ops user in both), then
loads the inbox through the whole Django stack (URLs, middleware, session, view, template)
with the test client, and prints one JSON line:

    {"tickets": 100000, "first_page_ms": 41.2, "queries": 7}

It never touches the other brands' tickets. Use a database of its own, e.g.
DATABASE_URL=sqlite:////tmp/bench_inbox.sqlite3 (after `migrate`).
"""

from __future__ import annotations

import json
import random
import statistics
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from brands.models import Brand, Membership, Team
from exceptions.models import ExceptionType, Ticket, TicketStatus

BENCH_BRANDS = [("bench-alpha", "Bench Alpha"), ("bench-bravo", "Bench Bravo")]
BENCH_USER = "bench_ops"
BENCH_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
OTHER_PEOPLE = [("bench_finance", Team.FINANCE), ("bench_marketing", Team.MARKETING)]
# Most tickets of a long-lived install are closed; a good share is still open.
STATUS_WEIGHTS = [
    (TicketStatus.RESOLVED, 50),
    (TicketStatus.OPEN, 30),
    (TicketStatus.IN_PROGRESS, 10),
    (TicketStatus.IGNORED, 10),
]


class Command(BaseCommand):
    help = "Fill the database with N tickets (once) and time the inbox's first page."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tickets", type=int, default=100_000, help="How many tickets.")
        parser.add_argument("--loads", type=int, default=9, help="Timed loads (the median).")
        parser.add_argument(
            "--query",
            default="",
            help="Another view of the inbox to time, as a query string (e.g. 'team=&status=' "
            "for every ticket of both brands). Default: the page the ops user lands on.",
        )

    def handle(self, *args, tickets: int, loads: int, query: str, **options) -> None:
        if tickets < 0 or loads < 1:
            raise CommandError("--tickets must be 0 or more and --loads 1 or more.")
        brands, user = self._people()
        total = self._fill(brands, tickets)
        url = reverse("exceptions:inbox") + (f"?{query}" if query else "")
        client = Client()
        client.force_login(user)
        # The client's host name, whatever ALLOWED_HOSTS this install has; and the plain
        # static storage, so a bench needs no collectstatic (a manifest lookup is a dict
        # lookup: it changes nothing to the timings).
        with override_settings(ALLOWED_HOSTS=["testserver"], STORAGES=BENCH_STORAGES):
            warm = client.get(url, secure=True)
            if warm.status_code != 200:
                raise CommandError(f"The inbox answered {warm.status_code}, not 200.")
            timings = []
            for _ in range(loads):
                started = time.perf_counter()
                client.get(url, secure=True)
                timings.append((time.perf_counter() - started) * 1000)
            with CaptureQueriesContext(connection) as queries:
                client.get(url, secure=True)
        self.stdout.write(
            json.dumps(
                {
                    "tickets": total,
                    "first_page_ms": round(statistics.median(timings), 1),
                    "queries": len(queries),
                }
            )
        )

    def _people(self) -> tuple[list[Brand], object]:
        brands = [
            Brand.objects.get_or_create(slug=slug, defaults={"name": name})[0]
            for slug, name in BENCH_BRANDS
        ]
        User = get_user_model()
        user, _ = User.objects.get_or_create(username=BENCH_USER)
        for brand in brands:
            Membership.objects.get_or_create(user=user, brand=brand, team=Team.OPERATIONS)
            for username, team in OTHER_PEOPLE:
                other, _ = User.objects.get_or_create(username=username)
                Membership.objects.get_or_create(user=other, brand=brand, team=team)
        return brands, user

    def _fill(self, brands: list[Brand], wanted: int) -> int:
        existing = Ticket.objects.filter(brand__in=brands).count()
        missing = wanted - existing
        if missing <= 0:
            return existing
        types = list(ExceptionType.objects.order_by("code"))
        if not types:
            raise CommandError("No exception types: run `python manage.py migrate` first.")
        people = list(get_user_model().objects.filter(username__startswith="bench_"))
        statuses = [s for s, _ in STATUS_WEIGHTS]
        weights = [w for _, w in STATUS_WEIGHTS]
        teams = [t for t, _ in Team.choices]
        now = timezone.now()
        rnd = random.Random(existing)  # the same tickets for the same counts, run to run
        started = time.perf_counter()
        first_seen = Ticket._meta.get_field("first_seen")
        # first_seen is stamped on insert; the bench spreads it over months instead, for
        # realistic age filters. Only this command does that, and only for its own rows.
        first_seen.auto_now_add = False
        try:
            with transaction.atomic():
                batch: list[Ticket] = []
                for i in range(existing, wanted):
                    brand = brands[i % len(brands)]
                    ex_type = types[rnd.randrange(len(types))]
                    status = rnd.choices(statuses, weights)[0]
                    last_seen = now - timedelta(seconds=rnd.randrange(90 * 86400))
                    team = ex_type.owner_team if rnd.random() < 0.9 else rnd.choice(teams)
                    assignee = rnd.choice(people) if status == TicketStatus.IN_PROGRESS else None
                    record = 100_000 + i
                    batch.append(
                        Ticket(
                            brand=brand,
                            type=ex_type,
                            flow="order_lifecycle",
                            title=f"{ex_type.title}: order {record}",
                            source_system="brightpearl",
                            source_id=str(record),
                            snapshot={"order_id": record, "status_name": "Bench"},
                            error_code="BENCH",
                            error_message=f"Bench ticket {i}.",
                            fingerprint=f"bench:{brand.pk}:{i}",
                            occurrences=rnd.randint(1, 40),
                            first_seen=last_seen - timedelta(seconds=rnd.randrange(30 * 86400)),
                            last_seen=last_seen,
                            status=status,
                            team=team,
                            assignee=assignee,
                            resolved_at=last_seen if status == TicketStatus.RESOLVED else None,
                        )
                    )
                    if len(batch) >= 5000:
                        Ticket.objects.bulk_create(batch)
                        batch = []
                if batch:
                    Ticket.objects.bulk_create(batch)
        finally:
            first_seen.auto_now_add = True
        if connection.vendor == "postgresql":
            # What autovacuum would soon do (VACUUM cannot run inside a transaction, as in
            # the tests: ANALYZE then). SQLite is left as a real install has it (Django never
            # runs ANALYZE there), so the bench sees its planner as it is.
            vacuum = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            with connection.cursor() as cursor:
                cursor.execute(f"{vacuum} exceptions_ticket")
        self.stderr.write(
            f"Created {missing} tickets in {time.perf_counter() - started:.1f} s.", ending="\n"
        )
        return wanted

"""`make demo` shows every team's work: after the demo's set-up and its first syncs (run here
as the task cluster would run them), each demo user's inbox has tickets of their own team,
raised by the flows meeting the sandbox's data and scenes, and the degraded brand's runs
waited on its throttled Brightpearl."""

from __future__ import annotations

import time

import pytest
from django.db.models import Sum
from django.urls import reverse

from brands.models import Brand, Team
from connectors.models import RateBudget
from console.demo import DEGRADED, DEMO_PASSWORD, DEMO_USERS, demo_go_live, demo_setup
from console.demo_salesforce_in import CUSTOMERS, NEW_CUSTOMERS
from exceptions.models import OPEN_STATUSES, Ticket
from syncs.models import RecordLink, RunState, SyncRun
from syncs.services import flow_run
from syncs.sweeper import runs_sweep
from tests.contract.scenarios import items

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_cache"),
    pytest.mark.slow,
]


def run_queued() -> None:
    """What the task clusters do: every queued run, oldest first, until none is left."""
    for _ in range(10):
        queued = list(
            SyncRun.objects.filter(state=RunState.QUEUED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not queued:
            return
        for run_id in queued:
            flow_run(run_id=run_id)


@pytest.fixture
def quiet_sandbox(sandbox, settings):
    # Webhooks go nowhere (the test runs the syncs itself); a Brightpearl "minute" lasts a
    # fifth of a second, so the degraded brand's waits are short.
    settings.CONSOLE_PUBLIC_URL = "http://127.0.0.1:9"
    sandbox.configure(time_scale=300)
    return sandbox


@pytest.mark.longest
def test_every_team_has_work_and_one_brand_is_degraded(client, quiet_sandbox):
    brand = demo_setup()
    staged = demo_go_live(brand, quiet_sandbox.discovery())
    run_queued()
    # The sweeper's minute: Ometria's late rejections (it checks a pushed contact after
    # answering) reach their records.
    time.sleep(0.3)
    runs_sweep()

    assert len(staged) == 4
    teams = {Team.OPERATIONS, Team.MARKETING, Team.FINANCE, Team.ECOMMERCE}
    assert teams <= {t for user_teams in DEMO_USERS.values() for t in user_teams}
    open_by_team = {
        team: set(
            Ticket.objects.filter(brand=brand, team=team, status__in=OPEN_STATUSES).values_list(
                "type__code", flat=True
            )
        )
        for team in teams
    }
    # Each from a flow meeting the data: never a ticket written by the demo.
    assert "unmapped_status" in open_by_team[Team.MARKETING]
    assert "duplicate_contact" in open_by_team[Team.OPERATIONS]
    assert "order_total_mismatch" in open_by_team[Team.FINANCE]
    # The seed's Klarna order posts; its payment waits for finance to map the method.
    assert "unmapped_value" in open_by_team[Team.FINANCE]
    # The catalogue is ecommerce's: an order held by an unknown SKU is theirs to release.
    assert {"unmapped_sku", "unmapped_value", "async_rejection"} <= open_by_team[Team.ECOMMERCE]
    assert Ticket.objects.filter(brand=brand, type__code="order_total_mismatch").count() == 2
    # Salesforce both ways: sales' orders posted to Brightpearl, the customers they made
    # created there, Brightpearl's customers upserted as Accounts.
    sf_orders = {o["Id"] for o in items(quiet_sandbox, "salesforce", "Order")}
    bp_orders = items(quiet_sandbox, "brightpearl", "orders", type=1)
    assert sum(o.get("externalRef") in sf_orders for o in bp_orders) >= CUSTOMERS
    assert RecordLink.objects.filter(
        brand=brand, kind="contact", system="brightpearl", written_by="salesforce_accounts_in"
    ).count() == len(NEW_CUSTOMERS)
    assert len(items(quiet_sandbox, "salesforce", "Account")) > CUSTOMERS + len(NEW_CUSTOMERS)
    assert all(Ticket.objects.filter(brand=brand).values_list("flow", flat=True))

    for username, user_teams in DEMO_USERS.items():
        if set(user_teams) & teams:
            assert client.login(username=username, password=DEMO_PASSWORD)
            inbox = client.get(reverse("exceptions:inbox"))  # opens on "my teams", still to do
            assert inbox.context["total"] >= 1, username
            assert {t.team for t in inbox.context["tickets"]} <= set(user_teams), username
            client.logout()

    # A throttled vendor: the degraded brand's runs waited on its Brightpearl allowance.
    degraded = Brand.objects.get(slug=DEGRADED["slug"])
    budget = RateBudget.objects.get(brand=degraded, system="brightpearl")
    assert budget.throttle_waits > 0
    runs = SyncRun.objects.filter(brand=degraded)
    assert runs.aggregate(n=Sum("throttle_waits"))["n"] > 0
    assert not runs.exclude(state=RunState.SUCCEEDED).exclude(state=RunState.PARTIAL).exists()
    # One vendor of one brand: the demo brand's Brightpearl never waited.
    assert RateBudget.objects.get(brand=brand, system="brightpearl").throttle_waits == 0


def test_the_demo_set_up_is_repeatable_and_stages_nothing_twice(quiet_sandbox):
    first = demo_go_live(demo_setup(), quiet_sandbox.discovery())
    queued = SyncRun.objects.count()
    again = demo_go_live(demo_setup(), quiet_sandbox.discovery())
    assert len(first) == 4
    assert again == [f"{DEGRADED['name']}'s Brightpearl allows 8 requests a minute"]
    assert Brand.objects.filter(slug__in=["demo", DEGRADED["slug"]]).count() == 2
    # The first full syncs are queued once.
    assert SyncRun.objects.count() == queued

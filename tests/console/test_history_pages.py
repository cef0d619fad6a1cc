"""The history pages: a brand's and a flow's runs, charts, drift and silence, behind the
tenant wall, filterable, paginated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from syncs.history.marks import hour_floor
from syncs.history.models import DriftCheck
from syncs.models import FlowConfig, RunState
from tests.conftest import make_user
from tests.exceptions.conftest import raise_ticket
from tests.syncs.history.helpers import finished_run, hour_row

pytestmark = pytest.mark.django_db


def a_run(brand, minutes_ago=10, **fields):
    at = timezone.now() - timedelta(minutes=minutes_ago)
    return finished_run(brand, started=at, finished=at + timedelta(seconds=75), **fields)


def runs_listed(response) -> list[int]:
    return [run.pk for run in response.context["runs"]]


# --- the tenant wall ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/brands/bravo/",
        "/brands/bravo/runs/",
        "/brands/bravo/flows/order_lifecycle/",
        "/brands/bravo/history.json",
    ],
)
def test_another_brands_pages_are_not_found(client, ops_user, brand_b, path):
    a_run(brand_b, log="10:00:00 Started (schedule, changes).")
    client.force_login(ops_user)
    assert client.get(path).status_code == 404


def test_signed_out_people_are_sent_to_sign_in(client, brand_a):
    for path in ("/brands/", "/brands/acme/", "/brands/acme/runs/", "/brands/acme/history.json"):
        assert client.get(path)["Location"].startswith("/login/")


def test_the_picker_lists_only_my_brands_and_skips_itself_for_one(
    client, ops_user, brand_a, brand_b
):
    client.force_login(ops_user)
    assert client.get("/brands/")["Location"] == "/brands/acme/"
    both = make_user("two_brands", brand_a, "operations")
    from brands.models import Membership

    Membership.objects.create(user=both, brand=brand_b, team="operations")
    third = type(brand_a).objects.create(name="Charlie Candles", slug="charlie")
    client.force_login(both)
    page = client.get("/brands/").content.decode()
    assert "/brands/acme/" in page and "/brands/bravo/" in page and third.slug not in page


def test_an_unknown_flow_is_not_found(client, ops_user):
    client.force_login(ops_user)
    assert client.get("/brands/acme/flows/nothing/").status_code == 404
    assert client.get("/brands/acme/history.json?flow=nothing").status_code == 404


# --- the brand page ----------------------------------------------------------------------
def test_the_brand_page_says_what_happened_in_words(client, ops_user, brand_a):
    FlowConfig.objects.create(brand=brand_a, flow="order_lifecycle", enabled=True)
    hour_row(
        brand_a,
        hour_floor(timezone.now()),
        written=12,
        waiting=2,
        tickets_opened=3,
        lag_seconds_max=600,
    )
    run = a_run(
        brand_a,
        read=40,
        written=12,
        log="10:00:00 Started (schedule, changes).\n10:00:02 Finished.",
    )
    silent = raise_ticket(
        brand_a,
        "silent_flow",
        source_system="console",
        source_id="silence:order_lifecycle",
        title="Order lifecycle → Ometria: 0 orders in 2 h; usually 40",
    )
    client.force_login(ops_user)
    response = client.get("/brands/acme/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Acme Apparel: history" in page
    assert "12 records sent, 2 held back" in page and "3 tickets opened" in page
    assert "the longest any change waited was 10 min" in page
    assert 'data-chart-url="/brands/acme/history.json?span=24h"' in page
    assert (
        "/static/vendor/chartjs/chart.umd.min.js" in page and "/static/console/history.js" in page
    )
    assert "<script>" not in page, "no inline script: a CSP is coming"
    assert "/brands/acme/flows/order_lifecycle/" in page
    assert f"/exceptions/{silent.pk}/" in page
    assert f'id="run-{run.pk}"' in page and "<summary>Log</summary>" in page
    assert "10:00:02 Finished." in page
    assert "took 1 min" in page
    assert "had to be sent although the source had not reported it changed" in page


def test_the_period_can_be_chosen_and_an_unknown_one_falls_back(client, ops_user, brand_a):
    client.force_login(ops_user)
    page = client.get("/brands/acme/?span=7d").content.decode()
    assert 'data-chart-url="/brands/acme/history.json?span=7d"' in page
    assert "<strong>Last 7 days:</strong>" in page
    page = client.get("/brands/acme/?span=1y").content.decode()
    assert "<strong>Last 24 hours:</strong>" in page


def test_the_drift_report_lists_each_check(client, ops_user, brand_a):
    now = timezone.now()
    check_run = a_run(brand_a, full=True, read=500, written=3)
    ticket = raise_ticket(
        brand_a,
        "drift_found",
        source_system="console",
        source_id="drift:order_lifecycle",
        title="3 orders differed",
    )
    DriftCheck.objects.create(
        run=check_run,
        brand=brand_a,
        flow="order_lifecycle",
        target="ometria",
        checked_at=now,
        compared=500,
        sent=3,
        drifted=3,
        ids=["1001", "1002", "1003"],
        ticket_id=ticket.pk,
    )
    first = a_run(brand_a, flow="customers", full=True, read=80, written=80)
    DriftCheck.objects.create(
        run=first,
        brand=brand_a,
        flow="customers",
        target="ometria",
        checked_at=now,
        compared=80,
        sent=80,
        first_load=True,
    )
    client.force_login(ops_user)
    page = client.get("/brands/acme/").content.decode()
    assert "3 differed</span> of 500 orders compared with Ometria" in page
    assert "1001, 1002, 1003" in page and f"ticket #{ticket.pk}" in page
    assert "first load (80 read), nothing to compare yet." in page
    flow_page = client.get("/brands/acme/flows/customers/").content.decode()
    assert "first load" in flow_page and "1001, 1002" not in flow_page


# --- the runs and their filters ---------------------------------------------------------
def test_the_runs_page_lists_runs_with_their_counts(client, ops_user, brand_a, brand_b):
    run = a_run(
        brand_a,
        read=120,
        written=7,
        unchanged=100,
        waiting=3,
        failed=1,
        created=2,
        echoes=4,
        stale=5,
        api_calls=9,
        throttle_waits=2,
        state=RunState.PARTIAL,
        error="",
        log="10:00 Started.",
    )
    a_run(brand_b)
    client.force_login(ops_user)
    response = client.get("/brands/acme/runs/")
    assert runs_listed(response) == [run.pk]
    page = response.content.decode()
    for words in (
        "<dt>Read</dt><dd>120</dd>",
        "<dt>Written</dt><dd>7</dd>",
        "<dd>100</dd>",
        "Echoes</dt><dd>4</dd>",
        "Stale</dt><dd>5</dd>",
        "9 API calls",
        "2 throttle waits",
        "Finished with exceptions",
    ):
        assert words in page


def test_runs_filter_by_flow_state_trigger_and_kind(client, ops_user, brand_a):
    orders = a_run(brand_a, flow="order_lifecycle", trigger="schedule")
    failed = a_run(brand_a, flow="customers", state=RunState.FAILED, trigger="manual")
    hook = a_run(brand_a, flow="order_lifecycle", trigger="webhook", scope=["1001"])
    check = a_run(brand_a, flow="customers", trigger="schedule", full=True)
    client.force_login(ops_user)
    get = lambda query: runs_listed(client.get(f"/brands/acme/runs/?{query}"))  # noqa: E731
    assert set(get("flow=order_lifecycle")) == {orders.pk, hook.pk}
    assert get("state=failed") == [failed.pk]
    assert get("trigger=webhook") == [hook.pk]
    assert get("kind=check") == [check.pk]
    assert get("kind=records") == [hook.pk]
    assert set(get("kind=changes")) == {orders.pk, failed.pk}


def test_days_are_the_brands_own_days(client, ops_user, brand_a):
    # 23:30 UTC on 10 June is 00:30 on 11 June in London.
    late = finished_run(
        brand_a,
        started=datetime(2025, 6, 10, 23, 30, tzinfo=UTC),
        finished=datetime(2025, 6, 10, 23, 31, tzinfo=UTC),
    )
    client.force_login(ops_user)
    get = lambda query: runs_listed(client.get(f"/brands/acme/runs/?{query}"))  # noqa: E731
    assert get("since=2025-06-11&until=2025-06-11") == [late.pk]
    assert get("until=2025-06-10") == []


def test_a_filter_that_makes_no_sense_says_which_and_how_to_fix_it(client, ops_user, brand_a):
    a_run(brand_a)
    client.force_login(ops_user)
    page = client.get("/brands/acme/runs/?since=2025-06-12&until=2025-06-01").content.decode()
    assert "To (day, included): “To” is before “From”: choose a later day" in page
    page = client.get("/brands/acme/runs/?state=exploded").content.decode()
    assert "State: Select a valid choice." in page


def test_runs_are_paginated_newest_first(client, ops_user, brand_a):
    runs = [a_run(brand_a, minutes_ago=100 - n) for n in range(30)]
    client.force_login(ops_user)
    first = client.get("/brands/acme/runs/")
    assert runs_listed(first) == [r.pk for r in reversed(runs)][:25]
    assert "Page 1 of 2" in first.content.decode()
    assert (
        runs_listed(client.get("/brands/acme/runs/?page=2")) == [r.pk for r in reversed(runs)][25:]
    )


def test_the_runs_page_costs_the_same_for_ten_runs_or_thirty(
    client, ops_user, brand_a, django_assert_max_num_queries
):
    for n in range(30):
        a_run(brand_a, minutes_ago=n, log="line\n" * 50)
    client.force_login(ops_user)
    with django_assert_max_num_queries(8):
        client.get("/brands/acme/runs/")


def test_the_brand_page_costs_a_few_queries_however_much_history(
    client, ops_user, brand_a, django_assert_max_num_queries
):
    now = hour_floor(timezone.now())
    for n in range(24 * 30):
        hour_row(brand_a, now - timedelta(hours=n), written=n)
    for n in range(20):
        a_run(brand_a, minutes_ago=n)
    client.force_login(ops_user)
    with django_assert_max_num_queries(10):
        assert client.get("/brands/acme/?span=30d").status_code == 200


def test_the_flow_page_lists_only_its_runs_without_a_flow_filter(client, ops_user, brand_a):
    mine = a_run(brand_a, flow="customers")
    a_run(brand_a, flow="order_lifecycle")
    client.force_login(ops_user)
    response = client.get("/brands/acme/flows/customers/?state=succeeded")
    assert runs_listed(response) == [mine.pk]
    assert "flow" not in response.context["filterset"].form.fields
    page = response.content.decode()
    assert "Customers → Ometria at Acme Apparel" in page
    assert 'data-chart-url="/brands/acme/history.json?span=24h&amp;flow=customers"' in page


# --- the charts' JSON --------------------------------------------------------------------
def test_the_json_has_a_point_per_hour_and_says_its_period(client, ops_user, brand_a):
    hour_row(brand_a, hour_floor(timezone.now()), written=5, lag_seconds_max=90)
    client.force_login(ops_user)
    data = client.get("/brands/acme/history.json?span=7d").json()
    assert data["span"] == "7d" and len(data["labels"]) == 168
    assert data["series"]["written"][-1] == 5 and data["series"]["lag_minutes"][-1] == 1.5
    assert data["timezone"] == "Europe/London"
    answer = client.get("/brands/acme/history.json?span=forever")
    assert answer.status_code == 400 and "use one of 24h, 7d, 30d" in answer.json()["error"]

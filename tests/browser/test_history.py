"""The history pages in a browser: the charts render with data (from the JSON, drawn by the
vendored Chart.js) under the strict Content-Security-Policy, a run's log opens, and at
390 px nothing scrolls sideways."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from syncs.history.marks import hour_floor
from syncs.history.models import DriftCheck
from syncs.models import FlowConfig
from tests.browser.test_csp import watch
from tests.syncs.history.helpers import finished_run, hour_row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOG = "10:00:00 Started (schedule, full).\n10:00:09 Finished: 120 read, 3 written."


@pytest.fixture
def history(brand_a, ops_user):
    """A day of a flow's hours, a daily check that corrected three orders, and its run."""
    FlowConfig.objects.create(brand=brand_a, flow="order_lifecycle", enabled=True)
    now = timezone.now()
    this_hour = hour_floor(now)
    for n in range(24):
        hour_row(
            brand_a,
            this_hour - timedelta(hours=n),
            written=10 + n,
            waiting=n % 3,
            lag_seconds_max=60 * (n % 5),
            tickets_opened=n % 2,
            tickets_closed=n % 3,
        )
    run = finished_run(
        brand_a,
        started=now - timedelta(hours=2),
        finished=now - timedelta(hours=2) + timedelta(seconds=9),
        full=True,
        read=120,
        written=3,
        log=LOG,
    )
    DriftCheck.objects.create(
        run=run,
        brand=brand_a,
        flow="order_lifecycle",
        target="ometria",
        checked_at=run.finished_at,
        compared=120,
        sent=3,
        drifted=3,
        ids=["1001", "1002", "1003"],
    )
    return run


CHARTS = ("chart-records", "chart-lag", "chart-tickets", "chart-drift")


def test_the_charts_render_with_data(page, sign_in, history, ops_user):
    problems = watch(page)  # what the browser refused (the CSP) or failed to run
    sign_in(ops_user.username)
    response = page.goto("/brands/acme/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector("section.charts[data-loaded='true']")
    data = page.evaluate("fetch('/brands/acme/history.json').then((r) => r.json())")
    assert len(data["labels"]) == 24 and sum(data["series"]["written"]) > 0
    assert sum(v for v in data["series"]["lag_minutes"] if v) > 0
    assert data["drift"]["datasets"][0]["data"] == [3]
    for chart_id in CHARTS:
        canvas = page.locator(f"#{chart_id}")
        assert canvas.is_visible()
        box = canvas.bounding_box()
        assert box["width"] > 100 and box["height"] > 100
        drawn = page.evaluate(
            """(id) => {
              const chart = Chart.getChart(document.getElementById(id));
              return chart.data.datasets.map((d) => d.data.filter((v) => v).length);
            }""",
            chart_id,
        )
        assert any(drawn), f"{chart_id} has no points drawn"
        assert int(canvas.get_attribute("data-points")) == (1 if chart_id == "chart-drift" else 24)
    assert "updated" in page.locator("[data-chart-status]").inner_text()
    assert problems == [], problems


def test_a_period_of_thirty_days_draws_a_point_a_day(page, sign_in, history, ops_user):
    sign_in(ops_user.username)
    page.goto("/brands/acme/flows/order_lifecycle/")
    page.get_by_role("link", name="Last 30 days").click()
    page.wait_for_selector("section.charts[data-loaded='true']")
    points = int(page.locator("#chart-records").get_attribute("data-points"))
    assert 30 <= points <= 31


def test_at_390_px_nothing_scrolls_sideways_and_a_runs_log_opens(page, sign_in, history, ops_user):
    page.set_viewport_size({"width": 390, "height": 800})
    sign_in(ops_user.username)
    for path in ("/brands/acme/", "/brands/acme/runs/", "/brands/acme/flows/order_lifecycle/"):
        page.goto(path)
        if path != "/brands/acme/runs/":
            page.wait_for_selector("section.charts[data-loaded='true']")
        width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width <= inner, f"{path} at 390 px is {width} px wide"
    page.goto("/brands/acme/runs/")
    log = page.locator(f"#run-{history.pk} details")
    assert not log.locator("pre").is_visible()
    log.locator("summary").click()
    assert "Finished: 120 read, 3 written." in log.locator("pre").inner_text()

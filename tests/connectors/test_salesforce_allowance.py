"""Salesforce's daily API allocation (issue 15, "Change detection": "show the calls used per day
against Sforce-Limit-Info"): read from every answer, kept on the brand's budget, shown beside
the brand's connections and on its history page; REQUEST_LIMIT_EXCEEDED read back as a throttle
that is not retried."""

from __future__ import annotations

import re

import httpx
import pytest
from django.urls import reverse

from connectors.errors import ThrottledError
from connectors.models import Connection, RateBudget
from connectors.registry import connector_for
from connectors.salesforce.auth import ACCESS_TOKEN
from connectors.sandbox.connect import connect_to_sandbox
from connectors.usage import daily_allowances
from tests.console.test_onboarding_permissions import brand_admin, live
from tests.sandbox.conftest import salesforce as other_app

__all__ = ["brand_admin", "live"]  # fixtures, used by name

pytestmark = pytest.mark.django_db

LIMIT_EXCEEDED = [
    {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
]


def sf(brand) -> Connection:
    return Connection.objects.create(
        brand=brand,
        system="salesforce",
        base_url="https://acme.my.salesforce.com",
        credentials={"client_id": "3MVG9.key", "client_secret": "S3CRET", ACCESS_TOKEN: "T0KEN"},
        settings={},
    )


def test_every_answers_sforce_limit_info_is_the_days_use(brand_a):
    conn = sf(brand_a)
    usage = iter(["api-usage=4210/15000", "api-usage=4213/15000"])

    def org(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={"limits": "/services/data/v61.0/limits"},
            headers={"Sforce-Limit-Info": next(usage)},
        )

    with connector_for(conn, transport=httpx.MockTransport(org)) as api:
        api.check()
        api.check()
    allowance = daily_allowances(brand_id=brand_a.pk)["salesforce"]
    assert (allowance.used, allowance.limit) == (4213, 15000)
    # The org's count (every app of it), and the console's own two calls among them.
    assert allowance.words == (
        "4,213 of 15,000 API calls used in the last 24 hours (28%), 2 of them by this console"
    )
    assert daily_allowances(brand_id=brand_a.pk).keys() == {"salesforce"}


def test_request_limit_exceeded_is_a_throttle_not_retried(brand_a):
    conn = sf(brand_a)
    calls = []

    def org(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(403, json=LIMIT_EXCEEDED)

    with connector_for(conn, transport=httpx.MockTransport(org)) as api:
        with pytest.raises(ThrottledError) as raised:
            api.check()
    assert len(calls) == 1, "a spent daily allocation is not retried now"
    assert raised.value.retryable is False and raised.value.code == "REQUEST_LIMIT_EXCEEDED"
    assert "daily API allocation is used up" in raised.value.plain
    assert "TotalRequests Limit exceeded." in raised.value.plain
    assert RateBudget.objects.get(brand=brand_a, system="salesforce").remaining == 0


@pytest.mark.django_db(transaction=True)
def test_the_sandbox_counts_the_day_and_refuses_past_it(sandbox, brand_a):
    sandbox.configure(limits={"salesforce_daily": 3})
    conn = next(
        c for c in connect_to_sandbox(brand_a, sandbox.discovery()) if c.system == "salesforce"
    )
    # Priority (event) work: bulk work keeps the last 100 calls of a day back for events, and
    # this day has 3.
    with connector_for(conn, priority=True) as api:
        api.check()
        api.check()
    allowance = daily_allowances(brand_id=brand_a.pk)["salesforce"]
    assert (allowance.used, allowance.limit) == (2, 3)
    # Another app of the org spends the last call of the day: the console learns it from
    # Salesforce's refusal, which it does not retry.
    assert other_app(sandbox).get("/limits").headers["Sforce-Limit-Info"] == "api-usage=3/3"
    with connector_for(conn, priority=True) as api, pytest.raises(ThrottledError) as raised:
        api.check()
    assert raised.value.code == "REQUEST_LIMIT_EXCEEDED" and raised.value.status == 403
    assert daily_allowances(brand_id=brand_a.pk)["salesforce"].used == 3


def test_the_history_page_shows_the_days_use(client, ops_user, brand_a):
    RateBudget.objects.create(
        brand=brand_a, system="salesforce", limit=15000, window_seconds=86400, remaining=10787
    )
    RateBudget.objects.create(
        brand=brand_a, system="brightpearl", limit=200, window_seconds=60, remaining=150
    )
    client.force_login(ops_user)
    page = client.get("/brands/acme/").content.decode()
    assert "Salesforce's daily API allowance:" in page
    assert "4,213 of 15,000 API calls used in the last 24 hours (28%)" in page
    assert 'data-allowance="brightpearl"' not in page, "a per-minute limit is not a daily figure"


def test_the_brand_settings_page_shows_it_beside_the_connection(client, live, brand_admin):
    brand = live.brand
    Connection.objects.create(
        brand=brand,
        system="salesforce",
        base_url="https://live.my.salesforce.com",
        credentials={"client_id": "3MVG9.key", "client_secret": "S3CRET"},
    )
    RateBudget.objects.create(
        brand=brand, system="salesforce", limit=15000, window_seconds=86400, remaining=14000
    )
    client.force_login(brand_admin)
    page = client.get(reverse("onboarding:settings", args=[live.pk])).content.decode()
    row = re.search(r'<th scope="row">Salesforce</th>.*?</tr>', page, re.S).group(0)
    assert "1,000 of 15,000 API calls used in the last 24 hours (7%)" in row
    ometria = re.search(r'<th scope="row">Ometria</th>.*?</tr>', page, re.S).group(0)
    assert "data-allowance" not in ometria

"""The connectors against the vendor sandbox over real HTTP: batching, budgets, faults, auth."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest
from django.conf import settings

from connectors.errors import AuthError
from connectors.models import Connection
from connectors.registry import connector_for
from connectors.sandbox.connect import connect_to_sandbox
from connectors.services import connection_test
from tests.fixtures.processes import console_env

pytestmark = pytest.mark.django_db(transaction=True)


def connections(brand, sandbox, **settings_by_system) -> dict[str, Connection]:
    conns = {c.system: c for c in connect_to_sandbox(brand, sandbox.discovery())}
    for system, extra in settings_by_system.items():
        conns[system].settings = {**conns[system].settings, **extra}
        conns[system].save()
    return conns


def stat(sandbox, vendor: str, key: str, method: str | None = None) -> int:
    vendor_stats = sandbox.stats()[vendor]
    return vendor_stats["by_method"].get(method, 0) if method else vendor_stats[key]


def test_every_connection_tests_green_on_the_sandbox(sandbox, brand_a):
    for conn in connections(brand_a, sandbox).values():
        ok, message = connection_test(connection=conn)
        assert ok, f"{conn.system}: {message}"
        conn.refresh_from_db()
        assert conn.status == "ok" and conn.last_checked is not None


def test_fetching_20000_orders_uses_exactly_100_gets(sandbox, brand_a):
    sandbox.reset("demo", orders=20_000)
    conn = connections(brand_a, sandbox)["brightpearl"]
    sandbox.reset_stats()
    first = sandbox.seed_facts()["demo"]["brightpearl"]["order_ids"][0]
    with connector_for(conn) as bp:
        orders = list(bp.orders(range(first, first + 20_000)))
    assert len(orders) == 20_000
    assert len({o["id"] for o in orders}) == 20_000
    assert stat(sandbox, "brightpearl", "", "GET") == 100
    assert stat(sandbox, "brightpearl", "requests") == 100


def test_pushing_10000_ometria_records_uses_exactly_100_pushes_without_a_429(sandbox, brand_a):
    # A 20x clock: Ometria's 8 pushes a second become 8 every 50 ms, on both sides.
    sandbox.configure(time_scale=20)
    conn = connections(brand_a, sandbox, ometria={"rate_window_seconds": 1 / 20})["ometria"]
    sandbox.reset_stats()
    records = [
        {"@type": "contact", "id": f"bulk-{i}", "email": f"bulk{i}@example.com"}
        for i in range(10_000)
    ]
    with connector_for(conn) as om:
        result = om.push(records)
    assert len(result.ok) == 10_000 and not result.failed
    assert stat(sandbox, "ometria", "", "POST") == 100
    assert stat(sandbox, "ometria", "throttled") == 0
    assert sandbox.state("ometria", "contacts", id="bulk-9999")["count"] == 1


def test_a_bulk_fetch_under_a_200_a_minute_limit_never_fails(sandbox, brand_a):
    # A 10x clock: the minute lasts 6 s, longer than 250 calls take here even on a slow
    # machine, so the 200 must run out inside one window and the client must wait.
    sandbox.configure(time_scale=10)
    conn = connections(brand_a, sandbox)["brightpearl"]
    sandbox.reset_stats()
    with connector_for(conn) as bp:
        for _ in range(250):
            assert bp.order_statuses()
    stats = sandbox.stats()["brightpearl"]
    assert stats["requests"] == 250
    assert stats["throttled"] == 0
    assert stats["max_in_window"] <= 200
    assert bp.stats.throttle_waits >= 1, "the budget made the client wait rather than bounce"


def test_with_events_about_a_bulk_fetch_spreads_its_calls_and_events_go_straight_through(
    sandbox, brand_a
):
    # A 5x clock: Brightpearl's minute lasts 12 s, on both sides; a paced call's slot comes
    # every 66 ms.
    sandbox.configure(time_scale=5)
    conn = connections(brand_a, sandbox, brightpearl={"rate_window_seconds": 12})["brightpearl"]
    events = connector_for(conn, priority=True)
    events.order_statuses()  # an event: from now on bulk work paces itself
    started = time.monotonic()
    with connector_for(conn) as bulk:
        for i in range(60):
            assert bulk.order_statuses()
            if i % 10 == 9:
                events.order_statuses()
    seconds = time.monotonic() - started
    events.close()
    # 66 calls of the window's 200: bulk's burst of 10 at once, then one every 12/181 s
    # (3.3 s in all), where unpaced they take a fraction of that. No event waited.
    assert seconds >= 2.4, seconds
    # The budget held bulk back for its slots. How many of the 50 waited depends on the
    # machine: a call that outlasts its 66 ms (PostgreSQL under the whole suite on every core:
    # a third of them) finds the next slot already due, and that call goes at once. The slots
    # themselves are checked on a fake clock in tests/connectors/test_budget.py.
    assert bulk.stats.throttle_waits >= 1, bulk.stats
    assert events.stats.throttle_waits == 0
    assert sandbox.stats()["brightpearl"]["throttled"] == 0


def test_calls_complete_through_20_percent_5xx_and_lost_responses(sandbox, brand_a):
    conns = connections(brand_a, sandbox)
    sandbox.set_faults("brightpearl", error_rate=0.2, lost_response_rate=0.2)
    sandbox.set_faults("ometria", error_rate=0.2, lost_response_rate=0.2)
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    first, last = facts["order_ids"]
    with connector_for(conns["brightpearl"], max_backoff=0.05) as bp:
        orders = list(bp.orders(range(first, last + 1)))
        for _ in range(20):
            assert bp.order_statuses()
    assert len(orders) == last - first + 1
    records = [
        {"@type": "contact", "id": f"f-{i}", "email": f"f{i}@example.com"} for i in range(1000)
    ]
    with connector_for(conns["ometria"], max_backoff=0.05) as om:
        result = om.push(records)
    assert len(result.ok) == 1000
    faults = sandbox.stats()["brightpearl"]["faults"]
    assert sum(faults.values()) > 0, "faults were injected"
    assert bp.stats.retries > 0 and om.stats.retries > 0
    assert sandbox.state("ometria", "contacts", id="f-999")["count"] == 1


def test_an_auth_failure_fails_fast_after_one_request(sandbox, brand_a):
    conn = connections(brand_a, sandbox)["brightpearl"]
    conn.credentials = {"app_ref": conn.credentials["app_ref"], "account_token": "wrong-token-123"}
    conn.save()
    sandbox.reset_stats()
    with connector_for(conn) as bp, pytest.raises(AuthError) as info:
        bp.order_statuses()
    assert stat(sandbox, "brightpearl", "requests") == 1
    assert "wrong-token-123" not in str(info.value) + info.value.vendor_message
    ok, message = connection_test(connection=conn)
    assert not ok and "did not accept the saved credentials" in message


def test_mailchimp_upsert_keeps_consent_with_mailchimp(sandbox, brand_a):
    conn = connections(brand_a, sandbox)["mailchimp"]
    unsubscribed = sandbox.seed_facts()["demo"]["mailchimp"]["unsubscribed_emails"][0]
    members = [
        {
            "email_address": unsubscribed,
            "merge_fields": {"FNAME": "Still"},
            "status_if_new": "subscribed",
        },
        {
            "email_address": "brand.new@example.com",
            "merge_fields": {"FNAME": "New"},
            "status_if_new": "subscribed",
        },
    ]
    with connector_for(conn) as mc:
        result = mc.upsert_members(members)
    assert sorted(result.ok) == sorted([unsubscribed.lower(), "brand.new@example.com"])
    found = {
        m["email_address"]: m for m in sandbox.state("mailchimp", "members", limit=1000)["items"]
    }
    assert found[unsubscribed]["status"] == "unsubscribed", "a push never re-subscribes anyone"
    assert found["brand.new@example.com"]["status"] == "subscribed"


def _worker_script(conn_id: int, calls: int) -> str:
    return textwrap.dedent(
        f"""
        import django
        django.setup()
        from connectors.models import Connection
        from connectors.registry import connector_for
        conn = Connection.objects.get(pk={conn_id})
        with connector_for(conn) as bp:
            for _ in range({calls}):
                bp.order_statuses()
        print(bp.stats.calls, bp.stats.throttle_waits)
        """
    )


def test_two_processes_share_one_brand_budget(sandbox, brand_a):
    """Two real processes spend one brand's Brightpearl allowance and stay under it together."""
    sandbox.configure(time_scale=60)
    conn = connections(brand_a, sandbox)["brightpearl"]
    sandbox.reset_stats()
    env = console_env()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _worker_script(conn.pk, 250)],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=240) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-2000:]
    stats = sandbox.stats()["brightpearl"]
    assert stats["requests"] == 500
    assert stats["throttled"] == 0, "together they never went over the limit"
    assert stats["max_in_window"] <= 200


def test_the_admin_tests_a_connection_by_button_and_by_action(client, admin_user, sandbox, brand_a):
    from django.urls import reverse

    conns = connections(brand_a, sandbox)
    client.force_login(admin_user)
    bp = conns["brightpearl"]
    page = client.get(reverse("admin:connectors_connection_change", args=[bp.pk])).content.decode()
    assert "Test connection" in page
    response = client.post(reverse("admin:connectors_connection_test", args=[bp.pk]), follow=True)
    assert "Signed in to Brightpearl account demo" in response.content.decode()
    bp.refresh_from_db()
    assert bp.status == "ok" and bp.last_checked is not None

    om = conns["ometria"]
    om.credentials = {"api_key": "wrong"}
    om.save()
    response = client.post(
        reverse("admin:connectors_connection_changelist"),
        {"action": "test_connections", "_selected_action": [bp.pk, om.pk]},
        follow=True,
    )
    text = response.content.decode()
    assert "Signed in to Brightpearl" in text
    assert "did not accept the saved credentials" in text
    om.refresh_from_db()
    assert om.status == "failing" and "did not accept" in om.last_error

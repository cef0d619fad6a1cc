"""/healthz, /readyz and /metrics, as a load balancer and Prometheus would call them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from exceptions.services import ticket_raise
from syncs.models import FlowConfig, SyncRun
from syncs.services import flow_configure

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_signing_in(client):
    reply = client.get("/healthz")
    assert reply.status_code == 200 and reply.content == b"ok\n"


def test_readyz_is_ready_when_both_clusters_run_their_schedules(client, brand_a):
    flow_configure(brand=brand_a, flow="order_lifecycle", enabled=True)
    reply = client.get("/readyz")
    body = reply.json()
    assert reply.status_code == 200, body
    assert body["ready"] and set(body["checks"]) == {
        "database",
        "broker",
        "cluster",
        "bulk_cluster",
    }


def test_readyz_says_which_cluster_is_down(client, brand_a):
    config = flow_configure(brand=brand_a, flow="order_lifecycle", enabled=True)
    Schedule.objects.filter(pk=config.schedule_id).update(
        next_run=timezone.now() - timedelta(minutes=10)
    )
    reply = client.get("/readyz")
    body = reply.json()
    assert reply.status_code == 503 and not body["ready"]
    assert body["checks"]["cluster"]["ok"], "the sweeper's cluster runs"
    assert not body["checks"]["bulk_cluster"]["ok"]
    assert "acme:order_lifecycle" in body["checks"]["bulk_cluster"]["detail"]


def test_metrics_are_off_without_a_token_and_refuse_a_wrong_one(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    settings.METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    assert client.get("/metrics").status_code == 401


def test_metrics_give_each_brand_and_flows_figures(client, settings, brand_a):
    settings.METRICS_TOKEN = "s3cret-token"
    FlowConfig.objects.create(
        brand=brand_a,
        flow="order_lifecycle",
        enabled=True,
        cursor=timezone.now() - timedelta(minutes=5),
    )
    SyncRun.objects.create(
        brand=brand_a, flow="order_lifecycle", trigger="schedule", read=120, written=7, api_calls=4
    )
    ticket_raise(
        brand=brand_a.pk,
        type_code="record_missing",
        flow="order_lifecycle",
        title="Order 1 is gone",
        source_system="brightpearl",
        source_id="1",
    )
    reply = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")
    text = reply.content.decode()
    assert reply.status_code == 200 and reply["Content-Type"].startswith("text/plain")
    labels = '{brand="acme",flow="order_lifecycle"}'
    assert f"console_flow_records_24h{labels} 120.0" in text
    assert f"console_flow_written_24h{labels} 7.0" in text
    assert f"console_flow_api_calls_24h{labels} 4.0" in text
    assert f"console_open_tickets{labels} 1.0" in text
    lag = next(line for line in text.splitlines() if line.startswith("console_flow_lag_seconds{"))
    assert 290 <= float(lag.rsplit(" ", 1)[1]) <= 400
    # The overview's verdict, one series per level: an alert on 'down' matches the page
    # (this brand has no connection for its switched-on flow: Down).
    assert 'console_brand_verdict{brand="acme",verdict="down"} 1.0' in text
    assert 'console_brand_verdict{brand="acme",verdict="healthy"} 0.0' in text


def test_readyz_keeps_an_errors_text_for_the_log(client, monkeypatch):
    """Whoever calls /readyz is not signed in: a database error's text (hosts, paths) is
    not shown, only that it failed."""
    from syncs import health

    def broken():
        raise OSError("could not connect to db.internal:5432 as console_user")

    monkeypatch.setattr(health, "_database", broken)
    body = client.get("/readyz").json()
    assert not body["checks"]["database"]["ok"]
    assert "db.internal" not in str(body) and "server log" in body["checks"]["database"]["detail"]

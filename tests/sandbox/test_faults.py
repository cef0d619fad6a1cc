"""Faults on demand: errors, lost answers, broken bodies, latency, storms and outages."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.sandbox.conftest import bigcommerce, brightpearl, control, mailchimp, ometria, salesforce


def test_error_rate_answers_each_vendors_own_500(sandbox):
    sf = salesforce(sandbox)  # the token endpoint is part of the vendor too: get it first
    for vendor in ("brightpearl", "ometria", "mailchimp", "bigcommerce", "salesforce"):
        sandbox.set_faults(vendor, error_rate=1.0)
    bp = brightpearl(sandbox).get("/order-service/order-status")
    assert bp.status_code == 500 and bp.json()["errors"][0]["code"] == "CMNU-003"
    om = ometria(sandbox).post("/v2/push", json=[])
    assert om.status_code == 500 and om.json()["status"] == "ERROR"
    mc_client, _ = mailchimp(sandbox)
    mc = mc_client.get("/ping")
    assert mc.status_code == 500 and mc.headers["content-type"] == "application/problem+json"
    bc = bigcommerce(sandbox).get("/v2/orders")
    assert bc.status_code == 500 and bc.json()[0]["status"] == 500
    assert sf.get("/limits").json()[0]["errorCode"] == "UNKNOWN_EXCEPTION"
    assert sandbox.stats()["brightpearl"]["faults"] == {"error": 1}


def test_a_lost_response_applies_the_write_then_closes_the_connection(sandbox):
    sandbox.set_faults("ometria", lost_response_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        ometria(sandbox).post(
            "/v2/push", json=[{"@type": "contact", "id": "lost-1", "email": "l@x.io"}]
        )
    assert sandbox.state("ometria", "contacts", id="lost-1")["count"] == 1
    assert sandbox.stats()["ometria"]["faults"] == {"lost_response": 1}


def test_a_malformed_body_is_truncated_json_with_200(sandbox):
    sandbox.set_faults("brightpearl", malformed_rate=1.0)
    answer = brightpearl(sandbox).get("/order-service/order-status")
    assert answer.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.text)


def test_latency_is_added(sandbox):
    sandbox.set_faults("bigcommerce", latency_ms=150)
    started = time.monotonic()
    assert bigcommerce(sandbox).get("/v2/orders/count").status_code == 200
    assert time.monotonic() - started >= 0.15
    assert sandbox.stats()["bigcommerce"]["faults"] == {"latency": 1}


def test_a_throttle_storm_answers_every_request_with_the_throttle_response(sandbox):
    control(sandbox).post("/faults", json={"vendor": "brightpearl", "throttle_storm_seconds": 30})
    client = brightpearl(sandbox)
    answers = [client.get("/order-service/order-status") for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 503]
    assert answers[0].json()["response"].startswith("You have sent too many requests")
    control(sandbox).delete("/faults")
    assert client.get("/order-service/order-status").status_code == 200


def test_an_outage_is_a_gateway_page_or_a_reset_connection(sandbox):
    sandbox.set_faults("mailchimp", outage_seconds=30)
    client, _ = mailchimp(sandbox)
    down = client.get("/ping")
    assert down.status_code == 503 and down.headers["content-type"] == "text/html"
    sandbox.set_faults("mailchimp", outage_mode="reset")
    with pytest.raises(httpx.TransportError):
        client.get("/ping")
    sandbox.clear_faults()
    assert client.get("/ping").status_code == 200


def test_the_same_plan_replays_the_same_faults(sandbox):
    client = brightpearl(sandbox)

    def run() -> list[int]:
        sandbox.set_faults("brightpearl", error_rate=0.5, seed=7)
        return [client.get("/order-service/order-status").status_code for _ in range(20)]

    first = run()
    assert set(first) == {200, 500}
    assert run() == first


def test_faults_via_the_control_api_and_listing_them(sandbox):
    api = control(sandbox)
    plan = api.post("/faults", json={"vendor": "salesforce", "error_rate": 0.2, "latency_ms": 5})
    assert plan.json()["salesforce"]["error_rate"] == 0.2
    assert api.get("/faults").json()["salesforce"]["latency_ms"] == 5
    assert api.post("/faults", json={"vendor": "nope"}).status_code == 400
    assert api.delete("/faults/salesforce").json() == {}

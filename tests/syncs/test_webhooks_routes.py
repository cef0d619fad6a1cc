"""/hooks/<vendor>/<secret>/ is the one entry point, and the drain sends each vendor's events
to the flows that read from that vendor."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.urls import reverse

from connectors.models import Connection
from syncs.models import FlowConfig, SyncRun, WebhookEvent
from syncs.webhooks import webhooks_drain
from tests.syncs.test_webhooks import everything_exists

pytestmark = pytest.mark.django_db


def connection(brand, system: str, **settings) -> Connection:
    return Connection.objects.create(
        brand=brand, system=system, base_url=f"https://{system}.example.com", settings=settings
    )


@pytest.mark.parametrize(
    ("vendor", "reason"),
    [
        ("ometria", "This console takes no webhooks from “ometria”."),
        ("shopify", "This console takes no webhooks from “shopify”."),
        ("salesforce", "the console reads Salesforce's changes on a schedule instead"),
    ],
)
def test_a_vendor_that_sends_no_webhooks_here_is_404_with_the_reason(
    client, brand_a, vendor, reason, django_capture_on_commit_callbacks
):
    secret = connection(brand_a, "salesforce").webhook_secret
    with django_capture_on_commit_callbacks() as callbacks:
        answer = client.post(
            reverse("webhook", args=[vendor, secret]), data="{}", content_type="application/json"
        )
    assert answer.status_code == 404
    assert answer.json()["status"] == "refused" and reason in answer.json()["reason"]
    assert not WebhookEvent.objects.exists() and not callbacks


def test_the_brightpearl_address_keeps_its_shape(client, brand_a):
    """Hooks already registered at Brightpearl point at /hooks/brightpearl/<secret>/."""
    bp = connection(brand_a, "brightpearl", account="acme")
    body = {"accountCode": "acme", "id": "7", "fullEvent": "order.modified.order-status"}
    answer = client.post(
        f"/hooks/brightpearl/{bp.webhook_secret}/",
        data=json.dumps(body),
        content_type="application/json",
    )
    assert answer.status_code == 200 and answer.json()["status"] == "accepted"
    assert reverse("webhook", args=["brightpearl", "s"]) == "/hooks/brightpearl/s/"


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_brightpearl_takes_posts_only(client, brand_a, method):
    bp = connection(brand_a, "brightpearl")
    answer = getattr(client, method)(reverse("webhook", args=["brightpearl", bp.webhook_secret]))
    assert answer.status_code == 405 and "Brightpearl's POSTs only" in answer.json()["reason"]
    assert not WebhookEvent.objects.exists()


def store(conn: Connection, key: str, event: str, ids: list) -> WebhookEvent:
    return WebhookEvent.objects.create(
        connection=conn, brand=conn.brand, dedupe_key=key, event=event, resource_ids=ids, body={}
    )


def test_each_event_goes_to_the_flows_that_read_from_its_own_vendor(brand_a, vendor_flows):
    brand_a.active = True
    brand_a.save()
    for code in ("order_lifecycle", "test_storefront_orders", "test_consent"):
        FlowConfig.objects.create(brand=brand_a, flow=code, enabled=True)
    bp, bc, mc = (connection(brand_a, s) for s in ("brightpearl", "bigcommerce", "mailchimp"))
    store(bp, "bp", "order.modified.order-status", [10])
    store(bc, "bc1", "store/order/created", [250])
    store(bc, "bc2", "store/order/statusUpdated", [251])
    # Not declared by the storefront flow (its wildcard is store/order/*).
    store(bc, "bc3", "store/sku/inventory/updated", [9])
    store(mc, "mc1", "unsubscribe", ["ann@example.com"])
    store(mc, "mc2", "profile", ["bob@example.com"])
    with (
        mock.patch("syncs.services.flow_run", side_effect=lambda run_id, **kw: None),
        everything_exists(),
    ):
        by_vendor = {c.system: webhooks_drain(connection_id=c.pk) for c in (bp, bc, mc)}
    assert {s: [(r.flow, r.scope) for r in runs] for s, runs in by_vendor.items()} == {
        "brightpearl": [("order_lifecycle", ["10"])],
        "bigcommerce": [("test_storefront_orders", ["250", "251"])],
        "mailchimp": [("test_consent", ["ann@example.com"])],
    }
    states = dict(WebhookEvent.objects.values_list("dedupe_key", "state"))
    assert states == {
        "bp": "processed",
        "bc1": "processed",
        "bc2": "processed",
        "bc3": "ignored",
        "mc1": "processed",
        "mc2": "ignored",
    }


def test_a_switched_off_flow_gets_no_events(brand_a, vendor_flows):
    brand_a.active = True
    brand_a.save()
    FlowConfig.objects.create(brand=brand_a, flow="test_storefront_orders", enabled=False)
    bc = connection(brand_a, "bigcommerce")
    store(bc, "bc", "store/order/created", [250])
    assert webhooks_drain(connection_id=bc.pk) == []
    assert WebhookEvent.objects.get().state == "ignored"
    assert not SyncRun.objects.exists()


def test_the_admin_lists_events_by_vendor(client, admin_user, brand_a):
    store(connection(brand_a, "bigcommerce"), "bc", "store/order/created", [250])
    store(connection(brand_a, "mailchimp"), "mc", "unsubscribe", ["a@example.com"])
    client.force_login(admin_user)
    changelist = reverse("admin:syncs_webhookevent_changelist")
    page = client.get(changelist, {"connection__system": "bigcommerce"}).content.decode()
    assert "store/order/created" in page and "BigCommerce" in page
    rows = page.split("<tbody>")[1].split("</tbody>")[0]
    assert "store/order/created" in rows and "unsubscribe" not in rows

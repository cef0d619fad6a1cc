"""webhooks_register on the sandbox: each vendor the brand's flows read from holds exactly the
hooks they need, pointing at this console, and its deliveries come back in through
/hooks/<vendor>/<secret>/ as one stored event each."""

from __future__ import annotations

import time

import pytest

from brands.models import AuditEvent
from connectors.bigcommerce.webhooks import SECRET_HEADER, header_token
from connectors.brightpearl.events import DOCUMENTED_EVENTS
from connectors.errors import ConfigurationError, ConnectorError
from connectors.models import Connection
from connectors.registry import connector_for
from syncs.flows import REGISTRY, bigcommerce
from syncs.flows.base import Flow
from syncs.models import FlowConfig, WebhookEvent
from syncs.webhooks import webhook_url, webhooks_register
from tests.fixtures import loopback

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hooked_brand(live_brand, vendor_flows, live_server, settings):
    """live_brand with the test storefront and consent flows on, and this test's live
    console as the address the vendors call back (Mailchimp checks it with a GET)."""
    settings.CONSOLE_PUBLIC_URL = live_server.url
    # The real BigCommerce flows are off: these tests follow the test flows' own events.
    FlowConfig.objects.filter(
        brand=live_brand, flow__in=[f.code for f in bigcommerce.FLOWS]
    ).update(enabled=False)
    for code in vendor_flows:
        FlowConfig.objects.update_or_create(brand=live_brand, flow=code, defaults={"enabled": True})
    return live_brand


def conn(brand, system: str) -> Connection:
    return Connection.objects.get(brand=brand, system=system)


def bc_hooks(brand) -> list[dict]:
    with connector_for(conn(brand, "bigcommerce")) as bc:
        return bc.http.json("GET", "/v3/hooks")["data"]


def mc_hooks(brand) -> list[dict]:
    with connector_for(conn(brand, "mailchimp")) as mc:
        return mc.http.json("GET", f"{mc.list_path}/webhooks")["webhooks"]


def test_every_vendor_the_flows_read_from_holds_their_hooks(sandbox, hooked_brand):
    events = webhooks_register(brand=hooked_brand)
    webhooks_register(brand=hooked_brand)  # twice: nothing doubles

    assert {"store/order/*", "unsubscribe", "cleaned", "order.modified.order-status"} <= set(events)
    bc_url = webhook_url(conn(hooked_brand, "bigcommerce"))
    [hook] = bc_hooks(hooked_brand)
    assert (hook["scope"], hook["destination"], hook["is_active"]) == (
        "store/order/*",
        bc_url,
        True,
    )
    assert hook["headers"] == {SECRET_HEADER: header_token(conn(hooked_brand, "bigcommerce"))}

    [mc_hook] = mc_hooks(hooked_brand)
    assert mc_hook["url"] == webhook_url(conn(hooked_brand, "mailchimp"))
    assert {k for k, v in mc_hook["events"].items() if v} == {"subscribe", "unsubscribe", "cleaned"}
    # The console's own API writes must not come back as webhooks.
    assert mc_hook["sources"] == {"user": True, "admin": True, "api": False}

    # Salesforce and Ometria are never asked; one audit entry per vendor registered.
    summaries = sorted(
        AuditEvent.objects.filter(action="webhooks.registered").values_list("summary", flat=True)
    )
    assert [s.split(":")[0] for s in summaries] == ["BigCommerce"] * 2 + ["Brightpearl"] * 2 + [
        "Mailchimp"
    ] * 2


def test_hooks_no_longer_wanted_or_out_of_date_are_removed_and_drift_is_repaired(
    sandbox, hooked_brand, settings
):
    webhooks_register(brand=hooked_brand)
    bc, mc = conn(hooked_brand, "bigcommerce"), conn(hooked_brand, "mailchimp")
    base = settings.CONSOLE_PUBLIC_URL
    with connector_for(bc) as api:
        [hook] = api.http.json("GET", "/v3/hooks")["data"]
        # BigCommerce deactivated it after failed deliveries, and someone edited its header.
        api.http.json(
            "PUT", f"/v3/hooks/{hook['id']}", json_body={"is_active": False, "headers": {}}
        )
        # A console rebuilt with a new secret left this one; another app has its own.
        for destination in (f"{base}/hooks/bigcommerce/old/", "https://erp.example.com/bc"):
            api.http.json(
                "POST",
                "/v3/hooks",
                json_body={"scope": "store/order/created", "destination": destination},
            )
    # Every flow that reads Mailchimp's events is switched off.
    readers = [code for code, cls in REGISTRY.items() if cls.source == "mailchimp"]
    FlowConfig.objects.filter(brand=hooked_brand, flow__in=readers).update(enabled=False)

    webhooks_register(brand=hooked_brand)

    hooks = sorted(bc_hooks(hooked_brand), key=lambda h: h["destination"])
    assert [(h["destination"], h["is_active"]) for h in hooks] == sorted(
        [(webhook_url(bc), True), ("https://erp.example.com/bc", True)]
    )
    ours = next(h for h in hooks if h["destination"] == webhook_url(bc))
    # The same hook, its header and is_active put back (not a second hook).
    assert ours["id"] == hook["id"]
    assert ours["headers"] == {SECRET_HEADER: header_token(bc)}
    # No flow wants Mailchimp's events any more: this console's hook is gone.
    assert not [h for h in mc_hooks(hooked_brand) if h["url"] == webhook_url(mc)]


def test_one_vendors_refusal_does_not_stop_the_others(sandbox, hooked_brand, settings):
    """Mailchimp cannot be reached (a wrong address): BigCommerce is registered all the same,
    and the refusal is raised at the end for the caller to show."""
    mc = conn(hooked_brand, "mailchimp")
    mc.base_url = sandbox.url + "/nowhere"
    mc.save()
    with pytest.raises(ConnectorError) as refused:
        webhooks_register(brand=hooked_brand)
    assert refused.value.vendor == "mailchimp"
    assert [h["scope"] for h in bc_hooks(hooked_brand)] == ["store/order/*"]
    assert not AuditEvent.objects.filter(
        action="webhooks.registered", summary__startswith="Mailchimp"
    ).exists()


def test_a_storefront_order_delivered_twice_is_stored_once_with_a_checked_signature(
    sandbox, hooked_brand
):
    bc = conn(hooked_brand, "bigcommerce")
    # With the app's client secret the console checks the sandbox's signature too.
    bc.credentials = {
        **bc.credentials,
        "client_secret": sandbox.discovery()["bigcommerce"]["client_secret"],
    }
    bc.save()
    webhooks_register(brand=hooked_brand)
    with connector_for(bc) as api:
        sku = api.http.json("GET", "/v3/catalog/variants", params={"limit": 1})["data"][0]["sku"]
    order = loopback.post(
        f"{sandbox.url}/_sandbox/bigcommerce/orders",
        json={"lines": [{"sku": sku, "quantity": 1}], "email": "a@example.com", "deliveries": 2},
    ).json()
    assert sandbox.wait_for_deliveries(10)
    log = sandbox.deliveries(vendor="bigcommerce")
    assert [d["status"] for d in log] == [200, 200], log
    [event] = WebhookEvent.objects.filter(connection=bc)
    assert (event.event, event.resource_ids) == ("store/order/created", [order["id"]])


def test_a_signature_made_with_another_secret_is_refused_and_bigcommerce_retries(
    sandbox, hooked_brand
):
    bc = conn(hooked_brand, "bigcommerce")
    bc.credentials = {**bc.credentials, "client_secret": "not-the-apps-secret"}
    bc.save()
    webhooks_register(brand=hooked_brand)
    order_id = sandbox.seed_facts()["demo"]["bigcommerce"]["unknown_sku_order_id"]
    loopback.post(
        f"{sandbox.url}/_sandbox/bigcommerce/orders/{order_id}/status", json={"status_id": 5}
    ).raise_for_status()
    log: list[dict] = []
    for _ in range(100):  # the first attempt; its retries come a minute later
        log = sandbox.deliveries(vendor="bigcommerce")
        if log:
            break
        time.sleep(0.05)
    assert log and log[0]["status"] == 401
    assert not WebhookEvent.objects.exists()


def test_an_unsubscribe_delivered_twice_is_stored_once(sandbox, hooked_brand):
    webhooks_register(brand=hooked_brand)
    email = sandbox.discovery()["seed"]["demo"]["mailchimp"]["not_in_brightpearl_email"]
    loopback.post(
        f"{sandbox.url}/_sandbox/mailchimp/unsubscribe", json={"email": email, "deliveries": 2}
    ).raise_for_status()
    assert sandbox.wait_for_deliveries(10)
    assert [d["status"] for d in sandbox.deliveries(vendor="mailchimp")] == [200, 200]
    [event] = WebhookEvent.objects.filter(connection=conn(hooked_brand, "mailchimp"))
    assert (event.event, event.resource_ids) == ("unsubscribe", [email.lower()])


def bp_hooks(brand) -> list[dict]:
    with connector_for(conn(brand, "brightpearl")) as bp:
        return bp.webhooks()


def test_every_brightpearl_event_a_flow_declares_is_on_brightpearls_list():
    """help.brightpearl.com, "Subscribable resource events", and the Webhook GET/POST examples:
    a name not there may be stored by Brightpearl and never called."""
    declared = {
        (cls.code, event)
        for cls in REGISTRY.values()
        if cls.source == "brightpearl"
        for event in cls.webhook_events
    }
    assert declared, "the order, status and shipment flows read Brightpearl by webhook"
    assert [d for d in declared if d[1] not in DOCUMENTED_EVENTS] == []


def test_the_brightpearl_hooks_registered_are_the_documented_ones(sandbox, hooked_brand):
    webhooks_register(brand=hooked_brand)
    hooks = bp_hooks(hooked_brand)
    assert {h["subscribeTo"] for h in hooks} == {
        "order.modified.order-status",
        "sales-order.created",
        "goods-out-note.modified.shipped",
        # Stock → Salesforce (the brand has Salesforce connected).
        "product.modified.on-hand-modified",
    }
    assert all(h["subscribeTo"] in DOCUMENTED_EVENTS for h in hooks)
    assert all(h["idSetAccepted"] and h["qualityOfService"] == 1 for h in hooks)


class ContactsByWebhookForTests(Flow):
    code = "test_contact_events"
    label = "Contacts by webhook (test only)"
    source = "brightpearl"
    target = "ometria"
    webhook_events = ("contact.modified",)


def test_an_event_brightpearl_does_not_document_fails_registration_loudly(
    sandbox, hooked_brand, monkeypatch
):
    webhooks_register(brand=hooked_brand)
    before = bp_hooks(hooked_brand)
    monkeypatch.setitem(REGISTRY, ContactsByWebhookForTests.code, ContactsByWebhookForTests)
    FlowConfig.objects.create(brand=hooked_brand, flow=ContactsByWebhookForTests.code, enabled=True)

    with pytest.raises(ConfigurationError) as refused:
        webhooks_register(brand=hooked_brand)

    assert refused.value.vendor == "brightpearl"
    assert "“contact.modified”" in str(refused.value)
    assert "nothing was registered" in str(refused.value)
    assert bp_hooks(hooked_brand) == before, "nothing registered, nothing removed"
    # The other vendors were registered all the same.
    assert [h["scope"] for h in bc_hooks(hooked_brand)] == ["store/order/*"]

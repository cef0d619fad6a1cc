"""The four ways a storefront order reaches Brightpearl, each through the same flow: the
`store/order/created` and `store/order/updated` webhooks, the hourly sweep by
`min_date_modified`, the nightly reconciliation (a full run once a day), and the manual import
(tests/console/test_order_import.py covers the page and the command)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.urls import reverse

from connectors.bigcommerce.client import BigCommerce
from connectors.bigcommerce.webhooks import SECRET_HEADER, header_token
from connectors.models import Connection
from syncs.flows.bigcommerce.orders_in import StorefrontOrdersFlow
from syncs.models import FlowConfig, RecordLink, SyncRun
from syncs.services import flow_run_now, flow_scheduled
from syncs.webhooks import webhooks_drain
from tests.contract.scenarios import BC_TO_BP, value_maps
from tests.fixtures import loopback
from tests.sandbox.conftest import PAYLOADS

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_cache")]
FLOW = "storefront_orders"


def place(sandbox, email: str) -> str:
    """A shopper places an order in the storefront (the sandbox fires its webhooks too)."""
    answer = loopback.post(
        f"{sandbox.url}/_sandbox/bigcommerce/orders",
        json={"lines": [{"sku": _a_sku(sandbox), "quantity": 1}], "email": email},
    )
    answer.raise_for_status()
    return str(answer.json()["id"])


def _a_sku(sandbox) -> str:
    from tests.contract.scenarios import items

    return str(items(sandbox, "bigcommerce", "order_products", id="101")[0][0]["sku"])


def posted(brand, order_id: str) -> bool:
    entity = RecordLink.objects.filter(
        brand=brand, kind="order", system="bigcommerce", external_id=order_id
    ).values("entity")
    return (
        RecordLink.objects.filter(
            brand=brand, kind="order", system="brightpearl", entity__in=entity
        )
        .exclude(external_id="")
        .exists()
    )


@pytest.fixture
def orders_on(live_brand):
    value_maps(live_brand, "bc_order_status", BC_TO_BP)
    FlowConfig.objects.update_or_create(
        brand=live_brand, flow=FLOW, defaults={"enabled": True, "schedule_minutes": 60}
    )
    return live_brand


def test_the_flow_listens_to_order_created_and_updated_and_sweeps_hourly():
    assert {"store/order/created", "store/order/updated"} <= set(
        StorefrontOrdersFlow.webhook_events
    )
    assert StorefrontOrdersFlow.default_schedule_minutes == 60


@pytest.mark.parametrize("scope", ["store/order/created", "store/order/updated"])
def test_a_webhook_posts_the_order_it_names(client, sandbox, orders_on, scope):
    order_id = place(sandbox, f"hook.{scope.rsplit('/', 1)[-1]}@example.com")
    conn = Connection.objects.get(brand=orders_on, system="bigcommerce")
    body = json.loads((PAYLOADS / "store_order_created.json").read_text())
    body.update(scope=scope, data={"type": "order", "id": int(order_id)}, hash=f"h-{scope}")
    body["producer"] = f"stores/{conn.settings.get('store_hash', '')}"
    body.pop("store_id")
    answer = client.post(
        reverse("webhook", args=["bigcommerce", conn.webhook_secret]),
        data=json.dumps(body),
        content_type="application/json",
        headers={SECRET_HEADER: header_token(conn)},
    )
    assert answer.status_code in (200, 202, 204), answer.content

    runs = webhooks_drain(connection_id=conn.pk)

    assert [r.flow for r in runs if r.flow == FLOW] == [FLOW]
    run = next(r for r in runs if r.flow == FLOW)
    run.refresh_from_db()
    assert run.scope == [order_id] and run.created == 1
    assert posted(orders_on, order_id)


def test_the_sweep_asks_for_orders_modified_since_the_last_run(sandbox, orders_on, monkeypatch):
    first = flow_run_now(brand=orders_on, flow=FLOW, full=True)
    asked: list[datetime] = []
    listed = BigCommerce.orders_modified_since

    def recording(self, since):
        asked.append(since)
        return listed(self, since)

    monkeypatch.setattr(BigCommerce, "orders_modified_since", recording)
    order_id = place(sandbox, "sweep@example.com")

    sweep = flow_run_now(brand=orders_on, flow=FLOW)

    assert not sweep.full and sweep.created == 1 and posted(orders_on, order_id)
    # min_date_modified is where the last run left off (less the engine's overlap), not the
    # beginning of time: the sweep reads what changed, not every order again.
    assert asked and first.started_at - timedelta(hours=1) < asked[0] <= first.started_at


def test_the_schedule_reconciles_in_full_once_a_day(sandbox, orders_on):
    config = FlowConfig.objects.get(brand=orders_on, flow=FLOW)

    nightly = flow_scheduled(config_id=config.pk)
    hourly = flow_scheduled(config_id=config.pk)

    assert SyncRun.objects.get(pk=nightly.pk).full is True
    assert SyncRun.objects.get(pk=hourly.pk).full is False

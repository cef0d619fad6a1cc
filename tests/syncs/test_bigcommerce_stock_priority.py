"""Stock in a flash sale: the SKUs on sale in BigCommerce and those on an order of the last
minutes are sent in the first adjustment calls of a run, ahead of every other changed SKU."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from connectors.bigcommerce.client import BigCommerce
from connectors.models import Connection
from connectors.registry import connector_for
from syncs.flows.bigcommerce.stock_priority import SALE_KEY, SALE_MINUTES
from syncs.services import flow_run_now
from tests.fixtures import loopback
from tests.syncs.stock_helpers import (
    FLOW,
    brightpearl_on_hand,
    brightpearl_skus,
    map_warehouses,
    set_stock,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_cache")]


def test_skus_on_sale_or_just_ordered_go_in_the_first_calls(sandbox, live_brand, monkeypatch):
    map_warehouses(live_brand)
    assert flow_run_now(brand=live_brand, flow=FLOW, full=True).state == "succeeded"
    on_hand = brightpearl_on_hand(sandbox)
    # Stock-tracked products only (the seed's gift wrap has no stock to send).
    skus = {pid: sku for pid, sku in brightpearl_skus(sandbox).items() if pid in on_hand}
    products = sorted(on_hand)

    # A product on sale in BigCommerce: its variant gets a sale price.
    on_sale_pid = products[-1]
    bc_conn = Connection.objects.get(brand=live_brand, system="bigcommerce")
    with connector_for(bc_conn) as bc:
        [variant] = bc.http.json("GET", "/v3/catalog/variants", params={"sku": skus[on_sale_pid]})[
            "data"
        ]
        bc.update_variants([{"id": variant["id"], "sale_price": 1.0}])
    # A sweep reads the sale list again once it is SALE_MINUTES old: that long has passed.
    bc_conn.refresh_from_db()
    kept = bc_conn.settings[SALE_KEY]
    assert kept["skus"] == []
    aged = datetime.fromisoformat(kept["read_at"]) - timedelta(minutes=SALE_MINUTES)
    bc_conn.settings = {**bc_conn.settings, SALE_KEY: {**kept, "read_at": aged.isoformat()}}
    bc_conn.save()
    assert flow_run_now(brand=live_brand, flow=FLOW).state == "succeeded"
    bc_conn.refresh_from_db()
    assert bc_conn.settings[SALE_KEY]["skus"] == [skus[on_sale_pid]]
    # An order changed just now in Brightpearl: its products were just ordered.
    bp_conn = Connection.objects.get(brand=live_brand, system="brightpearl")
    with connector_for(bp_conn) as bp:
        order = next(iter(bp.orders([10001])))
    ordered = {int(r["productId"]) for r in order["orderRows"].values() if r.get("productId")}
    loopback.post(
        f"{sandbox.url}/_sandbox/brightpearl/orders/10001/status", json={"statusId": 2}
    ).raise_for_status()
    hot = {skus[pid] for pid in ordered} | {skus[on_sale_pid]}
    assert len(hot) < len(products)

    # Every product's stock moves (an event for all of them, the hot ones named last).
    for pid in products:
        warehouse = next(iter(on_hand[pid]), 1)
        set_stock(sandbox, pid, warehouse, on_hand[pid].get(warehouse, 0) + 3)
    calls: list[list[str]] = []
    adjust = BigCommerce._adjust

    def recording(self, batch, reason, result):
        calls.append([str(item["sku"]) for item in batch])
        return adjust(self, batch, reason, result)

    monkeypatch.setattr(BigCommerce, "_adjust", recording)
    monkeypatch.setattr(BigCommerce, "batch_size", 3)
    scope = [str(p) for p in sorted(products, key=lambda p: skus[p] in hot)]
    run = flow_run_now(brand=live_brand, flow=FLOW, scope=scope, trigger="webhook")

    assert run.state == "succeeded", run.log
    sent = [sku for call in calls for sku in call]
    assert set(sent) == set(skus.values())
    # The hot SKUs fill the first calls; nothing else goes before the last of them.
    assert set(sent[: len(hot)]) == hot, (sent, hot)
    # The first call is all hot SKUs, or holds every one of them.
    assert set(calls[0]) <= hot or hot <= set(calls[0])

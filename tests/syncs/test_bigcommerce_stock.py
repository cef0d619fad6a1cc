"""Stock out to BigCommerce: available per warehouse → level per location, less the safety
stock, never below 0; only differences go; one bad SKU never sinks its call; bundles have
their scarcest component's level."""

from __future__ import annotations

import pytest

from exceptions.models import OPEN_STATUSES, Ticket
from syncs.models import RecordState, RecordStatus
from syncs.services import flow_run_now
from tests.syncs.stock_helpers import (
    FLOW,
    add_products,
    brightpearl_on_hand,
    brightpearl_skus,
    map_warehouses,
    set_safety_stock,
    set_stock,
    storefront_levels,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_cache")]


def puts(sandbox) -> int:
    return sandbox.stats().get("bigcommerce", {}).get("by_method", {}).get("PUT", 0)


def expected(sandbox, safety: int) -> dict[tuple[str, int], int]:
    skus = brightpearl_skus(sandbox)
    return {
        (skus[pid], 1): max(0, sum(levels.values()) - safety)
        for pid, levels in brightpearl_on_hand(sandbox).items()
    }


def test_every_sku_gets_its_warehouses_stock_less_the_safety_stock(sandbox, live_brand):
    map_warehouses(live_brand)
    set_safety_stock(live_brand, 5)
    sandbox.reset_stats()

    run = flow_run_now(brand=live_brand, flow=FLOW, full=True)

    assert run.state == "succeeded", run.log
    want = expected(sandbox, 5)
    got = storefront_levels(sandbox)
    assert want and all(got[key] == units for key, units in want.items())
    assert any(units == 0 for units in want.values()) or min(want.values()) >= 0
    # 40 products at one location: one call.
    assert puts(sandbox) == 1
    assert run.written == len(want)


def test_only_what_changed_goes_again(sandbox, live_brand):
    map_warehouses(live_brand)
    flow_run_now(brand=live_brand, flow=FLOW, full=True)
    sandbox.reset_stats()

    again = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert again.written == 0 and puts(sandbox) == 0, again.log

    pid = sorted(brightpearl_on_hand(sandbox))[0]
    set_stock(sandbox, pid, 2, 77)
    event = flow_run_now(brand=live_brand, flow=FLOW, scope=[str(pid)], trigger="webhook")
    assert event.written == 1 and puts(sandbox) == 1, event.log
    writes = sandbox.writes(vendor="bigcommerce", limit=10)["items"]
    assert writes and all(len(w.get("keys") or []) <= 1 for w in writes)
    sku = brightpearl_skus(sandbox)[pid]
    assert storefront_levels(sandbox)[(sku, 1)] == sum(brightpearl_on_hand(sandbox)[pid].values())


def test_one_unknown_sku_does_not_sink_its_call(sandbox, live_brand):
    map_warehouses(live_brand)
    [stray] = add_products(
        sandbox, [{"sku": "NOT-IN-STORE", "stock": {"1": 9}, "in_bigcommerce": False}]
    )
    sandbox.reset_stats()

    run = flow_run_now(brand=live_brand, flow=FLOW, full=True)

    got = storefront_levels(sandbox)
    want = expected(sandbox, 0)
    del want[("NOT-IN-STORE", 1)]
    assert all(got[key] == units for key, units in want.items())
    assert run.written == len(want) and run.failed == 1, run.log
    # The refused call named the SKU: set aside, the rest sent again at once.
    assert puts(sandbox) == 2
    [ticket] = Ticket.objects.filter(brand=live_brand, flow=FLOW, status__in=OPEN_STATUSES)
    assert ticket.type.code == "stock_level_refused" and ticket.team == "operations"
    assert ticket.source_id == str(stray) and "NOT-IN-STORE" in ticket.title
    state = RecordState.objects.get(brand=live_brand, flow=FLOW, source_id=str(stray))
    assert state.status == RecordStatus.FAILED
    # Not sent again until it changes (or its ticket is retried).
    sandbox.reset_stats()
    flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert puts(sandbox) == 0
    assert Ticket.objects.get(pk=ticket.pk).occurrences == 1


def test_a_bundle_has_its_scarcest_components_level(sandbox, live_brand):
    map_warehouses(live_brand)
    set_safety_stock(live_brand, 1)
    cup, saucer = add_products(
        sandbox,
        [{"sku": "CUP", "stock": {"1": 10, "2": 4}}, {"sku": "SAUCER", "stock": {"2": 5}}],
    )
    add_products(
        sandbox,
        [
            {
                "sku": "TEA-SET",
                "bundle": [
                    {"productId": cup, "productQuantity": 2},
                    {"productId": saucer, "productQuantity": 2},
                ],
            }
        ],
    )

    flow_run_now(brand=live_brand, flow=FLOW, full=True)
    got = storefront_levels(sandbox)
    # Cups make 7 sets, saucers 2: two sets, less the safety stock of 1.
    assert got[("CUP", 1)] == 13 and got[("SAUCER", 1)] == 4
    assert got[("TEA-SET", 1)] == 1

    # A saucer sold: its event moves the bundle too.
    set_stock(sandbox, saucer, 2, 1)
    run = flow_run_now(brand=live_brand, flow=FLOW, scope=[str(saucer)], trigger="webhook")
    got = storefront_levels(sandbox)
    assert got[("SAUCER", 1)] == 0 and got[("TEA-SET", 1)] == 0, run.log


def test_stock_in_an_unmapped_warehouse_waits_then_goes(sandbox, live_brand):
    map_warehouses(live_brand, {"1": "1"})
    run = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    # Every demo product has stock in warehouse 2 or none there.
    assert run.waiting > 0, run.log
    ticket = Ticket.objects.get(
        brand=live_brand, type__code="unmapped_value", status__in=OPEN_STATUSES
    )
    assert ticket.team == "operations"
    map_warehouses(live_brand)
    flow_run_now(brand=live_brand, flow=FLOW, full=False)
    assert not RecordState.objects.filter(
        brand=live_brand, flow=FLOW, status=RecordStatus.WAITING
    ).exists()
    got = storefront_levels(sandbox)
    assert all(got[key] == units for key, units in expected(sandbox, 0).items())


def test_a_safety_stock_that_is_not_a_number_fails_the_run_plainly(sandbox, live_brand):
    map_warehouses(live_brand)
    set_safety_stock(live_brand, "ten")
    run = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert run.state == "failed"
    assert "safety stock is “ten”" in run.error


def test_the_sweep_reads_the_products_of_orders_changed_since_its_last_run(sandbox, live_brand):
    """An order moves stock (Brightpearl allocates it): the 15-minute sweep reads the products
    of orders changed since its last run, so a lost stock event is made good within minutes."""
    from tests.contract.scenarios import BC_TO_BP, value_maps
    from tests.fixtures import loopback

    map_warehouses(live_brand)
    value_maps(live_brand, "bc_order_status", BC_TO_BP)
    flow_run_now(brand=live_brand, flow=FLOW, full=True)
    pid = 1005
    sku = brightpearl_skus(sandbox)[pid]
    loopback.post(
        f"{sandbox.url}/_sandbox/bigcommerce/orders",
        json={
            "lines": [{"sku": sku, "quantity": 2}],
            "email": "new.buyer@example.com",
            "first_name": "New",
            "last_name": "Buyer",
            "status_id": 11,
        },
    ).raise_for_status()
    flow_run_now(brand=live_brand, flow="storefront_orders", full=True)
    # The back office allocates the order's stock; its event never reaches the console.
    set_stock(sandbox, pid, 1, 0)
    set_stock(sandbox, pid, 2, 1)

    sweep = flow_run_now(brand=live_brand, flow=FLOW)

    assert not sweep.full and sweep.written >= 1, sweep.log
    assert storefront_levels(sandbox)[(sku, 1)] == 1


def test_a_new_safety_stock_reaches_every_sku_at_the_next_sweep(sandbox, live_brand):
    """Raised before a flash sale, it must not wait for the nightly push."""
    map_warehouses(live_brand)
    flow_run_now(brand=live_brand, flow=FLOW, full=True)
    quiet = flow_run_now(brand=live_brand, flow=FLOW)
    assert quiet.read == 0, quiet.log

    set_safety_stock(live_brand, 4)
    sweep = flow_run_now(brand=live_brand, flow=FLOW)
    got = storefront_levels(sandbox)
    assert all(got[key] == units for key, units in expected(sandbox, 4).items()), sweep.log
    assert "every product is read" in sweep.log
    # Applied: the next sweep reads only what changed again.
    assert flow_run_now(brand=live_brand, flow=FLOW).read == 0

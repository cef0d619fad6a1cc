"""A randomised run of the stock flow: whatever Brightpearl's stock does, and whichever way the
change reaches the flow (its event, the nightly full push) with answers lost on the way, the
storefront never shows more of a SKU than Brightpearl has available less the safety stock.
Checked after every step; at the end every level is exactly that."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exceptions.models import Ticket
from syncs.models import RecordLink, RecordState, RecordStatus, SyncRun
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

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_cache"),
    pytest.mark.slow,
]

# Seeded products 1001-1040; the steps move the first few (and so the bundle made of two).
PRODUCTS = list(range(1001, 1009))
BUNDLE = {1001: 2, 1002: 1}

step = st.tuples(
    st.sampled_from(PRODUCTS),
    st.sampled_from([1, 2]),
    st.integers(min_value=0, max_value=30),
    st.sampled_from(["event", "event", "nightly"]),
    st.booleans(),  # answers lost on the way
)


def allowed(sandbox, safety: int, bundle_id: int, stray: int) -> dict[tuple[str, int], int]:
    """The most each SKU may show at location 1: available less the safety stock, at least 0."""
    on_hand = brightpearl_on_hand(sandbox)
    skus = brightpearl_skus(sandbox)
    most = {
        (skus[pid], 1): max(0, sum(levels.values()) - safety)
        for pid, levels in on_hand.items()
        if pid != stray
    }
    sets = min(sum(on_hand[pid].values()) // qty for pid, qty in BUNDLE.items())
    most[(skus[bundle_id], 1)] = max(0, sets - safety)
    return most


def over(sandbox, most: dict[tuple[str, int], int]) -> dict:
    shown = storefront_levels(sandbox)
    return {key: (shown[key], limit) for key, limit in most.items() if shown.get(key, 0) > limit}


def sync(brand, sandbox, product_id: int, trigger: str, lossy: bool) -> None:
    if lossy:
        sandbox.set_faults("bigcommerce", lost_write_rate=0.5, seed=product_id)
    for _ in range(4):
        if trigger == "event":
            flow_run_now(brand=brand, flow=FLOW, scope=[str(product_id)], trigger="webhook")
        else:
            flow_run_now(brand=brand, flow=FLOW, full=True)
        if not RecordState.objects.filter(
            brand=brand, flow=FLOW, status=RecordStatus.FAILED, detail__regex="no_outcome|transient"
        ).exists():
            break
    sandbox.clear_faults()


@pytest.mark.longest
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(safety=st.integers(min_value=0, max_value=6), steps=st.lists(step, min_size=1, max_size=8))
def test_the_storefront_never_shows_more_than_brightpearl_has_less_safety_stock(
    sandbox, live_brand, safety, steps
):
    sandbox.reset("demo")
    for model in (RecordState, RecordLink, SyncRun, Ticket):
        model.objects.filter(brand=live_brand).delete()
    map_warehouses(live_brand)
    set_safety_stock(live_brand, safety)
    [bundle_id] = add_products(
        sandbox,
        [
            {
                "sku": "GIFT-SET",
                "bundle": [{"productId": p, "productQuantity": q} for p, q in BUNDLE.items()],
            }
        ],
    )
    # A product the storefront does not sell: refused, ticketed, and never in the way.
    [stray] = add_products(
        sandbox, [{"sku": "NOT-SOLD", "stock": {"1": 4}, "in_bigcommerce": False}]
    )

    flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert not over(sandbox, allowed(sandbox, safety, bundle_id, stray))

    for product_id, warehouse, on_hand, trigger, lossy in steps:
        set_stock(sandbox, product_id, warehouse, on_hand)
        sync(live_brand, sandbox, product_id, trigger, lossy)
        above = over(sandbox, allowed(sandbox, safety, bundle_id, stray))
        assert not above, f"after {product_id}@{warehouse}={on_hand} ({trigger}): {above}"

    # And once the nightly push has run, every level is exactly what is available.
    flow_run_now(brand=live_brand, flow=FLOW, full=True)
    most = allowed(sandbox, safety, bundle_id, stray)
    shown = storefront_levels(sandbox)
    assert {k: shown[k] for k in most} == most
    assert Ticket.objects.filter(brand=live_brand, type__code="stock_level_refused").count() == 1

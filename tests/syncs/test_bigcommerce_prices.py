"""Prices out to BigCommerce: each price field from the price list chosen for it, only the
prices the storefront shows otherwise, 50 variants a call; one refused variant never sinks
its call; a field with no price list, or a product with no price on it, is left alone."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.sandbox.seed.prices import seed_prices
from exceptions.models import OPEN_STATUSES, Ticket
from syncs.flows import REGISTRY
from syncs.models import RunState, ValueMap
from syncs.services import flow_run_now
from tests.contract.scenarios import items, value_maps
from tests.fixtures import loopback
from tests.sandbox.conftest import bigcommerce
from tests.syncs.stock_helpers import add_products

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_cache")]

FLOW = "bigcommerce_prices"
FIELDS = ("price", "sale_price", "retail_price")
# The seed's price lists: Retail (1) as price, Sale (3) as sale price, RRP (2) as MSRP.
PRICE_LISTS = {"price": "1", "sale_price": "3", "retail_price": "2"}


def puts(sandbox) -> int:
    return sandbox.stats().get("bigcommerce", {}).get("by_method", {}).get("PUT", 0)


def storefront(sandbox) -> dict[str, dict]:
    return {v["sku"]: v for v in items(sandbox, "bigcommerce", "variants")}


def brightpearl_prices(sandbox) -> dict[str, dict[int, Decimal]]:
    """{sku: {price list: price}} as the sandbox's Brightpearl holds them."""
    return {
        p["priceLists"][0]["sku"]: {
            int(pl["priceListId"]): Decimal(pl["quantityPrice"]["1"]) for pl in p["priceLists"]
        }
        for p in items(sandbox, "brightpearl", "product_prices")
        if p["priceLists"]
    }


def money(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def test_every_field_gets_its_price_lists_price_and_only_differences_go(sandbox, live_brand):
    value_maps(live_brand, "bc_price_list", PRICE_LISTS)
    before = storefront(sandbox)
    sandbox.reset_stats()

    run = flow_run_now(brand=live_brand, flow=FLOW, full=True)

    assert run.state == RunState.SUCCEEDED, run.log
    after = storefront(sandbox)
    wanted = brightpearl_prices(sandbox)
    lists = {f: int(PRICE_LISTS[f]) for f in FIELDS}
    both = [sku for sku in wanted if sku in after]
    assert len(both) == 40  # the gift wrapping is not on the storefront
    for sku in both:
        for field, list_id in lists.items():
            if list_id in wanted[sku]:
                assert money(after[sku][field]) == wanted[sku][list_id], (sku, field)
            else:
                # No price on the Sale list: the storefront's sale price is left as it was.
                assert after[sku][field] == before[sku][field], (sku, field)
    # 40 variants differ (none showed an MSRP): one call of at most 50.
    assert puts(sandbox) == 1
    assert run.written == 40

    sandbox.reset_stats()
    again = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert again.written == 0 and puts(sandbox) == 0, again.log


def test_only_the_fields_that_differ_are_sent(sandbox, live_brand):
    """The seed's Retail list holds the storefront's own price, except one product in seven."""
    value_maps(live_brand, "bc_price_list", {"price": "1"})
    sandbox.reset_stats()

    run = flow_run_now(brand=live_brand, flow=FLOW, full=True)

    products = items(sandbox, "brightpearl", "products")
    risen = sum(1 for n in range(40) if seed_prices(Decimal("10"), n)[1] != Decimal("10"))
    assert run.written == risen == 6, run.log
    sent = [
        w
        for w in sandbox.writes(vendor="bigcommerce", limit=1000)["items"]
        if w.get("method") == "PUT"
    ]
    assert len(sent) == 1 and len(products) == 41


def test_a_price_changed_in_bigcommerce_by_hand_is_put_back(sandbox, live_brand):
    value_maps(live_brand, "bc_price_list", {"price": "1"})
    flow_run_now(brand=live_brand, flow=FLOW, full=True)
    variant = next(iter(storefront(sandbox).values()))
    want = variant["price"]
    client = bigcommerce(sandbox)
    client.put(
        "/v3/catalog/variants", json=[{"id": variant["id"], "price": 1.0}]
    ).raise_for_status()

    run = flow_run_now(brand=live_brand, flow=FLOW, full=True)

    assert run.written == 1, run.log
    assert storefront(sandbox)[variant["sku"]]["price"] == want


def test_a_refused_variant_is_set_aside_the_rest_written_one_ticket(sandbox, live_brand):
    value_maps(live_brand, "bc_price_list", {"price": "1"})
    # 60 new products priced at 5.00 on the storefront; one has a negative Brightpearl price,
    # which BigCommerce refuses (minimum 0): its whole call of 50 is refused.
    specs = [
        {"sku": f"NEW-{n:03d}", "prices": {"1": "-1.00" if n == 7 else f"{20 + n}.00"},
         "bigcommerce_price": "5.00"}
        for n in range(60)
    ]  # fmt: skip
    add_products(sandbox, specs)
    sandbox.reset_stats()

    run = flow_run_now(brand=live_brand, flow=FLOW, full=True)

    assert run.state == RunState.PARTIAL, run.log
    shown = storefront(sandbox)
    assert shown["NEW-007"]["price"] == 5.0
    assert all(shown[f"NEW-{n:03d}"]["price"] == 20 + n for n in range(60) if n != 7)
    tickets = Ticket.objects.filter(brand=live_brand, status__in=OPEN_STATUSES, flow=FLOW)
    (ticket,) = tickets
    assert ticket.type.code == "price_refused" and ticket.team == "ecommerce"
    assert "NEW-007" in ticket.title and "price must be 0 or more" in ticket.error_message
    # The refused call names its variant: set aside, the other 49 sent again at once.
    assert run.failed == 1 and run.written == 65

    # Fixed in Brightpearl: the next run writes it and the ticket resolves itself.
    pid = next(
        p["id"]
        for p in items(sandbox, "brightpearl", "products")
        if p["identity"]["sku"] == "NEW-007"
    )
    loopback.post(
        f"{sandbox.url}/_sandbox/brightpearl/products/{pid}/price",
        json={"priceListId": 1, "price": "27.00"},
    ).raise_for_status()
    flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert storefront(sandbox)["NEW-007"]["price"] == 27.0
    ticket.refresh_from_db()
    assert ticket.status == "resolved"


def test_until_the_price_field_has_a_list_every_product_waits_with_one_ticket(sandbox, live_brand):
    # An MSRP list alone: the storefront's own price has none, so nothing is guessed or sent.
    value_maps(live_brand, "bc_price_list", {"retail_price": "2"})
    run = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert run.waiting == 40 and run.written == 0 and puts(sandbox) == 0, run.log
    (ticket,) = Ticket.objects.filter(brand=live_brand, status__in=OPEN_STATUSES)
    assert ticket.type.code == "unmapped_value" and ticket.team == "ecommerce"
    assert ticket.snapshot["value"] == "price" and ticket.snapshot["waiting_count"] == 40

    value_maps(live_brand, "bc_price_list", {"price": "1"})
    again = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert again.waiting == 0 and again.written == 40, again.log
    ticket.refresh_from_db()
    assert ticket.status == "resolved"


def test_the_flow_runs_nightly():
    assert REGISTRY[FLOW].default_schedule_minutes == 24 * 60


# --- ecommerce chooses the price lists in the browser ----------------------------------------------
def test_ecommerce_chooses_each_fields_price_list_on_the_value_maps_page(
    client, sandbox, live_brand, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from brands.models import Team
    from tests.conftest import make_user
    from tests.syncs.test_mapping_views import payload_of

    erin = make_user("erin_ecommerce", live_brand, Team.ECOMMERCE)
    client.force_login(erin)
    tab = reverse("mappings:values", args=[live_brand.slug, "bc_price_list"])
    page = client.get(tab).content.decode()
    assert "Price fields ← price lists" in page
    # Brightpearl's selling price lists are offered by name; the cost list is not.
    # Its currency and whether it includes tax, as the storefront must show the same.
    assert '<option value="1" >Retail (GBP, incl. tax) (1)</option>' in page
    assert "RRP (GBP, incl. tax) (2)" in page and "Sale (GBP, incl. tax) (3)" in page
    assert "Cost" not in page

    preview_url = reverse("mappings:value_preview", args=[live_brand.slug, "bc_price_list"])
    for source, target in (("msrp", "2"), ("price", "9")):
        refused = client.post(preview_url, {"new-source": source, "new-target": target})
        assert "Preview: what saving would do" not in refused.content.decode(), source

    preview = client.post(preview_url, {"new-source": "price", "new-target": "1"})
    assert "Preview: what saving would do" in preview.content.decode()
    save_url = reverse("mappings:value_save", args=[live_brand.slug, "bc_price_list"])
    with django_capture_on_commit_callbacks(execute=False):
        client.post(save_url, {"payload": payload_of(preview)})
    mapping = ValueMap.objects.get(brand=live_brand, kind="bc_price_list")
    assert (mapping.source_value, mapping.target_value, mapping.updated_by) == ("price", "1", erin)
    # The Retail list: the six prices risen in Brightpearl reach the storefront.
    run = flow_run_now(brand=live_brand, flow=FLOW, full=True)
    assert run.state == RunState.SUCCEEDED and run.written == 6, run.log


def test_a_retry_looks_its_few_skus_up_and_a_large_scope_lists_the_catalogue(
    sandbox, live_brand, monkeypatch
):
    from syncs.flows.bigcommerce import prices_out

    monkeypatch.setattr(prices_out, "SKU_LOOKUPS", 10)
    value_maps(live_brand, "bc_price_list", {"price": "1"})
    products = [p["id"] for p in items(sandbox, "brightpearl", "products")]

    def variant_gets(scope: list[str]) -> int:
        sandbox.reset_stats()
        flow_run_now(brand=live_brand, flow=FLOW, scope=scope, trigger="retry")
        return sandbox.stats()["bigcommerce"]["by_method"].get("GET", 0)

    # Two products: a GET each, by SKU. All 41 (over 10): one listing (41 fit a page).
    assert variant_gets([str(p) for p in products[:2]]) == 2
    assert variant_gets([str(p) for p in products]) == 1

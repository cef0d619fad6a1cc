"""BigCommerce on the sandbox: auth, the 30-second quota and its headers, orders, stock limits."""

from __future__ import annotations

import time

from tests.fixtures import loopback
from tests.sandbox.conftest import bigcommerce

RATE_HEADERS = (
    "x-rate-limit-requests-left",
    "x-rate-limit-requests-quota",
    "x-rate-limit-time-reset-ms",
    "x-rate-limit-time-window-ms",
)


def test_a_bad_token_gets_401_with_rate_headers(sandbox):
    entry = sandbox.discovery()["bigcommerce"]
    base = f"{entry['base_url']}/stores/{entry['store_hash']}"
    v2 = loopback.get(base + "/v2/orders", headers={"X-Auth-Token": "nope"})
    assert v2.status_code == 401
    assert v2.json()[0]["status"] == 401
    assert all(h in v2.headers for h in RATE_HEADERS)
    v3 = loopback.get(base + "/v3/hooks")
    assert v3.status_code == 401 and v3.json()["status"] == 401


def test_every_answer_carries_the_rate_headers(sandbox):
    answer = bigcommerce(sandbox).get("/v2/orders", params={"limit": 5})
    assert answer.status_code == 200
    assert answer.headers["x-rate-limit-requests-quota"] == "150"
    assert answer.headers["x-rate-limit-requests-left"] == "149"
    assert answer.headers["x-rate-limit-time-window-ms"] == "30000"


def test_over_the_quota_answers_429_until_the_window_resets(sandbox):
    sandbox.configure(time_scale=30, limits={"bigcommerce_per_window": 2})  # a 1 s window
    client = bigcommerce(sandbox)
    for _ in range(20):
        answer = client.get("/v2/orders", params={"limit": 1})
        if answer.status_code == 429:
            break
    assert answer.status_code == 429
    assert answer.headers["x-rate-limit-requests-left"] == "0"
    assert answer.headers["x-rate-limit-time-window-ms"] == "1000"
    time.sleep(int(answer.headers["x-rate-limit-time-reset-ms"]) / 1000 + 0.05)
    assert client.get("/v2/orders", params={"limit": 1}).status_code == 200


def test_orders_by_date_modified_with_products_and_addresses(sandbox):
    facts = sandbox.seed_facts()["demo"]["bigcommerce"]
    client = bigcommerce(sandbox)
    orders = client.get(
        "/v2/orders", params={"min_date_modified": "2025-01-01", "limit": 250}
    ).json()
    assert [o["id"] for o in orders] == list(
        range(facts["order_ids"][0], facts["order_ids"][1] + 1)
    )
    assert client.get("/v2/orders", params={"min_date_modified": "2031-01-01"}).status_code == 204
    unknown = facts["unknown_sku_order_id"]
    products = client.get(f"/v2/orders/{unknown}/products").json()
    assert facts["unknown_sku"] in [p["sku"] for p in products]
    addresses = client.get(f"/v2/orders/{unknown}/shipping_addresses").json()
    assert addresses[0]["order_id"] == unknown
    assert client.get("/v2/orders/999999").status_code == 404


def test_a_linked_order_total_differs_from_brightpearls(sandbox):
    facts = sandbox.seed_facts()["demo"]
    bc_id = facts["bigcommerce"]["total_mismatch_order_id"]
    bp_id = facts["bigcommerce"]["total_mismatch_brightpearl_order_id"]
    storefront = bigcommerce(sandbox).get(f"/v2/orders/{bc_id}").json()
    brightpearl = sandbox.state("brightpearl", "orders", id=bp_id)["items"][0]
    assert brightpearl["externalRef"] == str(bc_id)
    assert storefront["total_inc_tax"] != brightpearl["totalValue"]["total"] + "00"
    other_bc, other_bp = next(
        (int(b), p) for b, p in facts["bigcommerce"]["linked_orders"].items() if int(b) != bc_id
    )
    same = bigcommerce(sandbox).get(f"/v2/orders/{other_bc}").json()
    twin = sandbox.state("brightpearl", "orders", id=other_bp)["items"][0]
    assert float(same["total_inc_tax"]) == float(twin["totalValue"]["total"])


def test_status_updates_and_shipments(sandbox):
    client = bigcommerce(sandbox)
    order_id = sandbox.seed_facts()["demo"]["bigcommerce"]["unknown_sku_order_id"]
    updated = client.put(f"/v2/orders/{order_id}", json={"status_id": 9})
    assert updated.json()["status"] == "Awaiting Shipment"
    products = client.get(f"/v2/orders/{order_id}/products").json()
    shipment = client.post(f"/v2/orders/{order_id}/shipments", json={
        "order_address_id": products[0]["order_address_id"], "tracking_number": "TRK1",
        "shipping_provider": "royalmail",
        "items": [{"order_product_id": products[0]["id"], "quantity": products[0]["quantity"]}],
    })  # fmt: skip
    assert shipment.status_code == 201
    assert shipment.json()["tracking_number"] == "TRK1"
    listed = client.get(f"/v2/orders/{order_id}/shipments").json()
    assert [s["id"] for s in listed] == [shipment.json()["id"]]
    order = client.get(f"/v2/orders/{order_id}").json()
    assert order["status_id"] in (2, 3)


def test_absolute_inventory_adjustments_cap_at_2000_items(sandbox):
    client = bigcommerce(sandbox)
    sku = client.get("/v3/catalog/variants", params={"limit": 1}).json()["data"][0]["sku"]
    ok = client.put("/v3/inventory/adjustments/absolute",
                    json={"reason": "sync", "items": [{"location_id": 1, "sku": sku, "quantity": 7}]})  # fmt: skip
    assert ok.status_code == 200 and "transaction_id" in ok.json()
    variant = client.get("/v3/catalog/variants", params={"sku": sku}).json()["data"][0]
    assert variant["inventory_level"] == 7
    items = [{"location_id": 1, "sku": sku, "quantity": 1}] * 2001
    too_many = client.put(
        "/v3/inventory/adjustments/absolute", json={"reason": "x", "items": items}
    )
    assert too_many.status_code == 422
    assert too_many.headers["content-type"] == "application/problem+json"
    unknown = client.put("/v3/inventory/adjustments/absolute",
                         json={"items": [{"location_id": 1, "sku": "NOPE", "quantity": 1}]})  # fmt: skip
    assert unknown.status_code == 422
    assert sandbox.state("bigcommerce", "inventory", lookup=sku)["items"][0]["quantity"] == 7


def test_variant_batches_cap_at_50(sandbox):
    client = bigcommerce(sandbox)
    variants = client.get("/v3/catalog/variants", params={"limit": 2}).json()["data"]
    ok = client.put("/v3/catalog/variants", json=[{"id": v["id"], "price": 9.5} for v in variants])
    assert ok.status_code == 200 and all(v["price"] == 9.5 for v in ok.json()["data"])
    too_many = client.put("/v3/catalog/variants", json=[{"id": variants[0]["id"]}] * 51)
    assert too_many.status_code == 413
    assert "maximum items allowed in the array is 50" in too_many.json()["title"]


def test_hooks_register_list_and_delete(sandbox):
    client = bigcommerce(sandbox)
    made = client.post("/v3/hooks", json={"scope": "store/order/created",
                                          "destination": "https://example.com/hook",
                                          "is_active": True, "headers": {"X-Secret": "s"}})  # fmt: skip
    hook = made.json()["data"]
    assert {"id", "client_id", "store_hash", "scope", "destination", "headers", "is_active",
            "created_at", "updated_at"} <= set(hook)  # fmt: skip
    assert [h["id"] for h in client.get("/v3/hooks").json()["data"]] == [hook["id"]]
    assert client.delete(f"/v3/hooks/{hook['id']}").status_code == 200
    assert client.get(f"/v3/hooks/{hook['id']}").status_code == 404

"""The control API, discovery, the seed's determinism and special cases, and the command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from connectors.sandbox.server import App
from tests.fixtures import loopback
from tests.sandbox.conftest import bigcommerce, brightpearl, control, mailchimp, ometria

MANAGE = Path(__file__).resolve().parents[2] / "manage.py"


def test_discovery_gives_each_vendor_in_the_form_a_connector_needs(sandbox):
    found = loopback.get(sandbox.url + "/_sandbox/").json()
    assert found == sandbox.discovery()
    assert found["brightpearl"]["base_url"] == sandbox.url + "/brightpearl"
    assert set(found["brightpearl"]["headers"]) == {
        "brightpearl-app-ref",
        "brightpearl-account-token",
    }
    assert set(found["ometria"]["headers"]) == {"X-Ometria-Auth"}
    assert found["mailchimp"]["api_key"].endswith("-us1") and found["mailchimp"]["list_id"]
    assert found["bigcommerce"]["store_hash"] and "X-Auth-Token" in found["bigcommerce"]["headers"]
    assert {"client_id", "client_secret"} <= set(found["salesforce"])
    assert set(found["accounts"]) == {"demo", "second"}
    assert found["accounts"]["demo"]["brightpearl"] == found["brightpearl"]
    assert found["seed"]["demo"]["brightpearl"]["unknown_status_id"] == 25


def test_the_second_brand_has_its_own_data(sandbox):
    second = brightpearl(sandbox, "second")
    orders = second.get("/order-service/order-search").json()["response"]["metaData"]
    assert orders["resultsAvailable"] >= 20
    statuses = {s["name"] for s in second.get("/order-service/order-status").json()["response"]}
    assert "Awaiting gift wrap" not in statuses


def test_a_new_brand_gets_empty_accounts_at_every_vendor(sandbox):
    made = control(sandbox).post("/accounts", json={"brand": "third"}).json()
    assert set(made) == {"brightpearl", "ometria", "mailchimp", "bigcommerce", "salesforce"}
    client = brightpearl(sandbox, "third")
    assert client.get("/order-service/order-search").json()["response"]["results"] == []
    assert client.get("/order-service/order-status").status_code == 200
    mc, list_id = mailchimp(sandbox, "third")
    assert mc.get(f"/lists/{list_id}/members").json()["total_items"] == 0


def test_state_lists_filter_and_page(sandbox):
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    api = control(sandbox)
    fraud = api.get("/state/brightpearl/orders", params={"status": 24, "limit": 2}).json()
    assert fraud["count"] == facts["orders_by_status"]["24"] and len(fraud["items"]) == 2
    one = api.get(f"/state/brightpearl/contacts/{facts['vip_contact_id']}").json()
    assert one["contactId"] == facts["vip_contact_id"]
    assert api.get("/state/brightpearl/contacts/999999").status_code == 404
    assert api.get("/state/brightpearl/nope").status_code == 404
    second = api.get("/state/brightpearl/orders", params={"account": "second"}).json()
    assert second["account"] == "second" and second["count"] >= 20


def test_config_round_trips(sandbox):
    api = control(sandbox)
    config = api.post(
        "/config", json={"time_scale": 60, "limits": {"ometria_per_second": None}}
    ).json()
    assert config["time_scale"] == 60 and config["limits"]["ometria_per_second"] is None
    assert api.get("/config").json() == config
    assert api.post("/config", json={"limits": {"nope": 1}}).status_code == 400
    own = {"second": {"brightpearl_per_minute": 10, "ometria_per_second": 0}}
    config = api.post("/config", json={"account_limits": own}).json()
    # 0 is unlimited, as in `limits`.
    assert config["account_limits"] == {
        "second": {"brightpearl_per_minute": 10, "ometria_per_second": None}
    }
    bad = api.post("/config", json={"account_limits": {"second": {"nope": 1}}})
    assert bad.status_code == 400 and "nope" in bad.text
    sandbox.reset()
    assert api.get("/config").json()["limits"]["ometria_per_second"] == 8
    assert api.get("/config").json()["account_limits"] == {}


def test_stats_count_requests_and_reset(sandbox):
    brightpearl(sandbox).get("/order-service/order-status")
    api = control(sandbox)
    assert api.get("/stats").json()["brightpearl"]["requests"] == 1
    assert api.post("/stats/reset").json()["brightpearl"]["requests"] == 0


def test_reset_over_http_and_a_seed_of_none(sandbox):
    api = control(sandbox)
    empty = api.post("/reset", json={"seed": "none"}).json()
    assert empty["seed"]["kind"] == "none"
    client = brightpearl(sandbox)
    assert client.get("/order-service/order-search").json()["response"]["results"] == []
    assert client.get("/order-service/order-status").json()["response"]  # config data stays
    scaled = api.post("/reset", json={"seed": "demo", "orders": 1200}).json()["seed"]["demo"]
    assert scaled["brightpearl"]["order_ids"] == [10001, 11200]
    assert scaled["brightpearl"]["contact_ids"] == [201, 600]


def test_the_second_brand_can_be_seeded_with_orders_of_its_own(sandbox):
    """Two brands of a size (bench_freshness): the second brand's orders scale like the demo's,
    in its own account, and the demo brand's data is the same as without."""
    api = control(sandbox)
    plain = api.post("/reset", json={"seed": "demo", "orders": 300}).json()["seed"]
    both = api.post("/reset", json={"seed": "demo", "orders": 300, "second_orders": 900}).json()
    second = both["seed"]["second"]["brightpearl"]
    assert second["order_ids"] == [20001, 20900]
    assert second["contact_ids"] == [301, 600]
    assert both["seed"]["demo"] == plain["demo"]
    assert plain["second"]["brightpearl"]["order_ids"] == [20001, 20020]  # the default
    orders = sandbox.state("brightpearl", "orders", account="second", type=1, limit=1)
    assert orders["count"] == 900 and second["sales_credit_ids"]
    assert sandbox.state("brightpearl", "orders", id="20900", account="demo")["count"] == 0
    # Every order status of the second brand has orders, so a status can be changed to any.
    assert set(second["orders_by_status"]) >= {"2", "4", "20", "21", "23"}


def dump(path: Path) -> list[tuple]:
    app = App(path)
    app.reset("demo", 150)
    with app.store.transaction():
        rows = (
            app.store.conn()
            .execute(
                "SELECT vendor, account, kind, id, row, data FROM records ORDER BY vendor, account, kind, id"
            )
            .fetchall()
        )
    app.close()
    return rows


def test_the_same_seed_gives_the_same_data(tmp_path):
    assert dump(tmp_path / "one.sqlite3") == dump(tmp_path / "two.sqlite3")


def test_the_seed_holds_every_special_case(sandbox):
    facts = sandbox.seed_facts()["demo"]
    bp = facts["brightpearl"]
    state = sandbox.state
    # Every sales-order status has orders, custom ones included.
    assert set(bp["orders_by_status"]) == {
        "1",
        "2",
        "3",
        "4",
        "5",
        "20",
        "21",
        "22",
        "23",
        "24",
        "25",
        "26",
    }
    emails = {c["contactId"]: c["communication"]["emails"]["PRI"]["email"]
              for c in state("brightpearl", "contacts", id="201,202,203")["items"]}  # fmt: skip
    assert emails[201] == emails[202] == bp["duplicate_email"]
    assert emails[bp["bad_email_contact_id"]] == bp["bad_email"]
    notes = state("brightpearl", "goods_out_notes", parent=bp["partial_shipment"]["order_id"])[
        "items"
    ]
    assert sorted(n["status"]["shipped"] for n in notes) == [False, True]
    for credit in state("brightpearl", "sales_credits", limit=1000)["items"]:
        parent = state("brightpearl", "orders", id=credit["parentId"])["items"][0]
        assert parent["shippingStatusCode"] == "ASS"
    products = {p["identity"]["sku"] for p in state("brightpearl", "products", limit=1000)["items"]}
    bc = facts["bigcommerce"]
    unknown = state("bigcommerce", "order_products", id=bc["unknown_sku_order_id"])["items"][0]
    assert bc["unknown_sku"] in {p["sku"] for p in unknown} and bc["unknown_sku"] not in products
    availability = state("brightpearl", "availability", id="1001")["items"][0]
    assert set(availability["warehouses"]) == {"1", "2"}
    mc = facts["mailchimp"]
    members = state("mailchimp", "members", status="unsubscribed", limit=1000)["items"]
    assert len(members) >= 5 and mc["compliance_email"]
    tagged = state("brightpearl", "contacts", id=str(bp["wholesale_contact_id"]))["items"][0]
    assert tagged["customerGroup"]["name"] == "Wholesale"


def test_the_command_serves_the_sandbox(tmp_path):
    env = {**os.environ, "DEBUG": "1", "SANDBOX_DB": str(tmp_path / "cmd.sqlite3")}
    proc = subprocess.Popen(
        [sys.executable, str(MANAGE), "sandbox", "--port", "0", "--seed", "demo", "--orders", "40",
         "--fault", "ometria:latency_ms=1", "brightpearl:lost_write_rate=0.25,seed=3"],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        first = proc.stdout.readline()
        summary = proc.stdout.readline()
        url = first.split()[3].rstrip("/")
        assert "40 Brightpearl orders" in summary
        found = loopback.get(url + "/_sandbox/", timeout=10).json()
        assert found["brightpearl"]["account"] == "demo"
        assert found["seed"]["demo"]["brightpearl"]["order_ids"] == [10001, 10040]
        faults = loopback.get(url + "/_sandbox/faults").json()
        assert faults["ometria"]["latency_ms"] == 1
        assert faults["brightpearl"]["lost_write_rate"] == 0.25
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_revoked_credentials_get_each_vendors_own_refusal_until_restored(sandbox):
    # Clients made with the credentials as the console saved them, before the revoke.
    mc, list_id = mailchimp(sandbox)
    calls = {
        "brightpearl": (brightpearl(sandbox), "/order-service/order-status"),
        "ometria": (ometria(sandbox), "/v2/push/_errors"),
        "mailchimp": (mc, f"/lists/{list_id}"),
        "bigcommerce": (bigcommerce(sandbox), "/v2/orders?limit=1"),
    }
    for vendor, (client, path) in calls.items():
        assert client.get(path).status_code == 200, vendor
        answer = control(sandbox).post(f"/accounts/{vendor}/demo/revoke").json()
        assert answer["revoked"] is True
        assert client.get(path).status_code == 401, vendor
        assert control(sandbox).post(f"/accounts/{vendor}/demo/restore").json()["revoked"] is False
        assert client.get(path).status_code == 200, vendor
    # The shortcut does the same, and says whether anything changed.
    assert sandbox.revoke("ometria") is True and sandbox.revoke("ometria") is False
    assert calls["ometria"][0].get("/v2/push/_errors").status_code == 401
    assert sandbox.restore("ometria") is True
    assert calls["ometria"][0].get("/v2/push/_errors").status_code == 200
    assert control(sandbox).post("/accounts/nobody/demo/revoke").status_code == 404

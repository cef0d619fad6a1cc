"""Brightpearl on the sandbox: auth, id-set limits, throttling and shapes, against the recordings."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.fixtures import loopback
from tests.sandbox.conftest import assert_shape, brightpearl, payload

JSON_UTF8 = "application/json;charset=UTF-8"


def test_orders_have_the_recorded_shape(sandbox):
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    order_id = facts["first_order_by_status"]["26"]  # completed: invoiced, shipped and closed
    answer = brightpearl(sandbox).get(f"/order-service/order/{order_id}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == JSON_UTF8
    assert_shape(answer.json(), payload("brightpearl_order_get_response.json"))
    order = answer.json()["response"][0]
    assert order["id"] == order_id
    assert order["orderStatus"] == {"orderStatusId": 26, "name": "Completed"}


def test_a_get_of_200_orders_by_id_set_answers_them_all(sandbox):
    low = sandbox.seed_facts()["demo"]["brightpearl"]["order_ids"][0]
    orders = brightpearl(sandbox).get(f"/order-service/order/{low}-{low + 199}").json()["response"]
    assert [o["id"] for o in orders] == list(range(low, low + 200))


def test_an_oversized_id_set_is_refused_with_brightpearls_error_structure(sandbox):
    client = brightpearl(sandbox)
    too_many = client.get("/order-service/order/1-201")
    assert too_many.status_code == 413
    assert_shape(too_many.json(), payload("brightpearl_errors_structure_examples.json"))
    assert client.get("/contact-service/contact/1,2,3-201").status_code == 413
    # Accepted: 200, or 404 when none of the ids exists (no product or note has these ids).
    assert client.get("/product-service/product/1-200").status_code in (200, 404)
    # Goods-out notes take up to 500.
    assert client.get("/warehouse-service/order/*/goods-note/goods-out/1-500").status_code in (
        200,
        404,
    )
    assert client.get("/warehouse-service/order/*/goods-note/goods-out/1-501").status_code == 413


def test_options_splits_an_id_set_into_acceptable_chunks_of_existing_ids(sandbox):
    low, high = sandbox.seed_facts()["demo"]["brightpearl"]["order_ids"]
    answer = brightpearl(sandbox).request("OPTIONS", f"/order-service/order/{low}-{high}")
    uris = answer.json()["response"]["getUris"]
    assert uris[0] == f"/order/{low}-{low + 199}"
    assert uris[1] == f"/order/{low + 200}-{high}"
    contacts = brightpearl(sandbox).request("OPTIONS", "/contact-service/contact/201,203,5000")
    assert contacts.json() == {"response": {"getUris": ["/contact/201,203"]}}


def test_bad_or_missing_credentials_get_401_with_throttle_headers(sandbox):
    entry = sandbox.discovery()["brightpearl"]
    url = f"{entry['base_url']}/public-api/{entry['account']}/order-service/order/1"
    wrong = loopback.get(url, headers={**entry["headers"], "brightpearl-account-token": "INVALID"})
    assert wrong.status_code == 401
    assert wrong.json() == {"response": "Invalid instance token: INVALID"}
    assert "brightpearl-requests-remaining" in wrong.headers
    assert "brightpearl-next-throttle-period" in wrong.headers
    missing = loopback.get(url)
    assert missing.status_code == 401
    assert missing.json()["response"].startswith("Not authenticated")


def test_oauth_style_headers_are_accepted(sandbox):
    entry = sandbox.discovery()["brightpearl"]
    url = f"{entry['base_url']}/public-api/{entry['account']}/order-service/order-status"
    assert loopback.get(url, headers=entry["oauth"]).status_code == 200


def test_one_accounts_credentials_do_not_open_another_account(sandbox):
    demo = sandbox.discovery()["accounts"]["demo"]["brightpearl"]
    second = sandbox.discovery()["accounts"]["second"]["brightpearl"]
    url = f"{second['base_url']}/public-api/{second['account']}/order-service/order-status"
    assert loopback.get(url, headers=demo["headers"]).status_code == 401
    assert loopback.get(url, headers=second["headers"]).status_code == 200


def test_every_answer_spends_the_accounts_budget_and_says_so(sandbox):
    client = brightpearl(sandbox)
    first = client.get("/order-service/order-status")
    second = client.get("/order-service/order-status")
    assert int(first.headers["brightpearl-requests-remaining"]) == 199
    assert int(second.headers["brightpearl-requests-remaining"]) == 198
    assert 0 < int(second.headers["brightpearl-next-throttle-period"]) <= 60_000


def test_over_the_limit_answers_503_until_the_period_resets(sandbox):
    # A "minute" of 1 s and a budget of 2 requests.
    sandbox.configure(time_scale=60, limits={"brightpearl_per_minute": 2})
    client = brightpearl(sandbox)
    for _ in range(20):
        answer = client.get("/order-service/order-status")
        if answer.status_code == 503:
            break
    assert answer.status_code == 503
    assert answer.json() == {
        "response": "You have sent too many requests. Please wait before sending another request"
    }
    assert answer.headers["brightpearl-requests-remaining"] == "0"
    wait_ms = int(answer.headers["brightpearl-next-throttle-period"])
    assert wait_ms <= 1000  # scaled: a minute lasts one second
    time.sleep(wait_ms / 1000 + 0.05)
    after = client.get("/order-service/order-status")
    assert after.status_code == 200
    assert after.headers["brightpearl-requests-remaining"] == "1"
    assert sandbox.stats()["brightpearl"]["throttled"] >= 1


def test_each_windows_requests_are_kept_answered_and_refused(sandbox):
    """GET /_sandbox/windows/brightpearl: how much of each rate window was spent (a bench
    reads it to say how close it came to the limit)."""
    sandbox.configure(time_scale=60, limits={"brightpearl_per_minute": 3})
    sandbox.reset_stats()
    client = brightpearl(sandbox)
    codes = [client.get("/order-service/order-status").status_code for _ in range(5)]
    assert codes == [200, 200, 200, 503, 503]
    time.sleep(1.05)  # the scaled minute ends; the next request opens a new window
    assert client.get("/order-service/order-status").status_code == 200
    windows = loopback.get(f"{sandbox.url}/_sandbox/windows/brightpearl").json()["items"]
    demo = [w for w in windows if w["account"] == windows[-1]["account"]]
    closed, current = demo[-2], demo[-1]
    assert (closed["answered"], closed["refused"], closed["limit"]) == (3, 2, 3)
    assert closed["closes_at"] - closed["opened_at"] == pytest.approx(1.0)
    assert (current["answered"], current["refused"], current["open"]) == (1, 0, True)
    assert current["opened_at"] >= closed["closes_at"]
    # A stats reset forgets the closed windows.
    loopback.post(f"{sandbox.url}/_sandbox/stats/reset").raise_for_status()
    after = loopback.get(f"{sandbox.url}/_sandbox/windows/brightpearl").json()["items"]
    assert [w["answered"] for w in after if w["account"] == current["account"]] == [1]
    assert loopback.get(f"{sandbox.url}/_sandbox/windows/nobody").status_code == 404


def test_one_accounts_own_limit_throttles_that_account_alone(sandbox):
    # The second brand's allowance is 3 requests a "minute" (1 s); the demo brand keeps 200.
    sandbox.configure(time_scale=60, account_limits={"second": {"brightpearl_per_minute": 3}})
    second, demo = brightpearl(sandbox, "second"), brightpearl(sandbox)
    answers = [second.get("/order-service/order-status") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 503]
    assert answers[0].headers["brightpearl-requests-remaining"] == "2"
    mine = demo.get("/order-service/order-status")
    assert mine.status_code == 200
    assert mine.headers["brightpearl-requests-remaining"] == "199"
    # null puts the account back on the sandbox-wide limit.
    sandbox.configure(account_limits={"second": {"brightpearl_per_minute": None}})
    time.sleep(1.05)
    assert (
        second.get("/order-service/order-status").headers["brightpearl-requests-remaining"] == "199"
    )


def test_a_client_under_the_limit_shows_in_the_stats(sandbox):
    client = brightpearl(sandbox)
    for _ in range(3):
        client.get("/order-service/order-status")
    stats = sandbox.stats()["brightpearl"]
    assert stats["max_in_window"] == 3
    assert stats["by_method"] == {"GET": 3}
    assert stats["throttled"] == 0


def test_order_search_pages_by_updated_on_with_the_recorded_columns(sandbox):
    client = brightpearl(sandbox)
    first = client.get(
        "/order-service/order-search",
        params={"updatedOn": "2025-02-01T00:00:00+00:00/", "pageSize": 50, "firstResult": 1},
    ).json()
    meta = first["response"]["metaData"]
    columns = [c["name"] for c in meta["columns"]]
    assert columns[:4] == ["orderId", "orderTypeId", "contactId", "orderStatusId"]
    assert "updatedOn" in columns and "externalRef" in columns
    assert meta["resultsReturned"] == 50 and meta["firstResult"] == 1 and meta["lastResult"] == 50
    assert meta["morePagesAvailable"] is True
    updated = columns.index("updatedOn")
    assert all(row[updated] >= "2025-02-01" for row in first["response"]["results"])
    second = client.get(
        "/order-service/order-search",
        params={"updatedOn": "2025-02-01T00:00:00+00:00/", "pageSize": 50, "firstResult": 51},
    ).json()
    first_ids = {r[0] for r in first["response"]["results"]}
    assert not first_ids & {r[0] for r in second["response"]["results"]}
    assert "orderStatusNames" in first["reference"]


def test_order_search_filters_by_status_contact_and_type(sandbox):
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    client = brightpearl(sandbox)
    fraud = client.get("/order-service/order-search", params={"orderStatusId": 24}).json()
    assert fraud["response"]["metaData"]["resultsAvailable"] == facts["orders_by_status"]["24"]
    credits = client.get("/order-service/order-search", params={"orderTypeId": 3}).json()
    rows = credits["response"]["results"]
    assert sorted(r[0] for r in rows) == facts["sales_credit_ids"]
    assert {r[10] for r in rows} == set(facts["credited_order_ids"])  # parentOrderId


def test_search_pages_follow_writes_between_requests(sandbox):
    # The sandbox remembers search totals and where pages end; a write must make it forget.
    client = brightpearl(sandbox)
    search = {"orderStatusId": 26, "orderTypeId": 1}

    def page(first: int, size: int = 5) -> dict:
        params = {**search, "pageSize": size, "firstResult": first}
        return client.get("/order-service/order-search", params=params).json()["response"]

    everything = [r[0] for r in page(1, 500)["results"]]
    assert len(everything) > 20
    assert [r[0] for r in page(1)["results"]] == everything[:5]
    assert [r[0] for r in page(6)["results"]] == everything[5:10]
    assert [r[0] for r in page(6)["results"]] == everything[5:10]  # asked again
    # The first order leaves the search: every later page moves up by one.
    answer = client.put(f"/order-service/order/{everything[0]}/status", json={"orderStatusId": 2})
    assert answer.status_code == 200
    after = page(11)
    assert [r[0] for r in after["results"]] == everything[11:16]
    assert after["metaData"]["resultsAvailable"] == len(everything) - 1
    # And comes back: it is first again, and the total with it.
    client.put(f"/order-service/order/{everything[0]}/status", json={"orderStatusId": 26})
    assert [r[0] for r in page(1)["results"]] == everything[:5]
    assert [r[0] for r in page(11)["results"]] == everything[10:15]
    assert page(16)["metaData"]["resultsAvailable"] == len(everything)


def test_search_pages_at_any_first_result_match_one_full_page(sandbox):
    client = brightpearl(sandbox)
    for search in ({}, {"orderTypeId": 1}, {"sort": "updatedOn.DESC"}):
        full = client.get("/order-service/order-search", params={**search, "pageSize": 500}).json()[
            "response"
        ]["results"]
        total = len(full)
        # Forwards in pages, then odd offsets and backwards (jumps the sandbox has not seen).
        starts = [*range(1, total + 1, 37), 2, 3, total, total - 1, *range(total, 0, -41)]
        for first in starts:
            answer = client.get(
                "/order-service/order-search",
                params={**search, "pageSize": 37, "firstResult": first},
            ).json()["response"]
            assert answer["results"] == full[first - 1 : first - 1 + 37], (search, first)
            assert answer["metaData"]["resultsAvailable"] == total


def test_a_bad_filter_answers_500_cmnc_018_like_the_recording(sandbox):
    answer = brightpearl(sandbox).get("/order-service/order-search?orderStatusId=BAD%20PARAM")
    assert answer.status_code == 500
    assert answer.json() == {
        "errors": [
            {
                "code": "CMNC-018",
                "message": "The filter orderStatusId=BAD PARAM cannot be parsed as: INTEGER",
            }
        ]
    }


def test_order_statuses_include_the_custom_ones(sandbox):
    statuses = brightpearl(sandbox).get("/order-service/order-status").json()["response"]
    names = {s["name"]: s for s in statuses}
    assert {"Fraud hold", "Awaiting gift wrap", "Cancelled"} <= set(names)
    assert set(names["Fraud hold"]) >= {
        "statusId", "name", "orderTypeCode", "sortOrder", "disabled", "visible", "color", "state"
    }  # fmt: skip


def test_setting_a_status_moves_updated_on(sandbox):
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    order_id = facts["first_order_by_status"]["2"]
    client = brightpearl(sandbox)
    before = client.get(f"/order-service/order/{order_id}").json()["response"][0]
    answer = client.put(f"/order-service/order/{order_id}/status", json={"orderStatusId": 24})
    assert answer.status_code == 200 and answer.json() == {}
    after = client.get(f"/order-service/order/{order_id}").json()["response"][0]
    assert after["orderStatus"] == {"orderStatusId": 24, "name": "Fraud hold"}
    assert after["updatedOn"] > before["updatedOn"]


def test_goods_out_notes_have_the_recorded_shape_and_partial_shipments(sandbox):
    partial = sandbox.seed_facts()["demo"]["brightpearl"]["partial_shipment"]
    client = brightpearl(sandbox)
    notes = client.get(f"/warehouse-service/order/{partial['order_id']}/goods-note/goods-out/")
    response = notes.json()["response"]
    assert len(response) >= 2
    shipped = str(partial["shipped_note_ids"][0])
    assert_shape({"response": {shipped: response[shipped]}},
                 payload("brightpearl_goods_out_note_get_response.json"))  # fmt: skip
    assert response[shipped]["status"]["shipped"] is True
    unshipped = str(partial["unshipped_note_ids"][0])
    assert response[unshipped]["status"]["shipped"] is False
    by_id = client.get(f"/warehouse-service/order/*/goods-note/goods-out/{shipped}").json()
    assert list(by_id["response"]) == [shipped]


def test_goods_out_search_finds_notes_shipped_since_a_time(sandbox):
    client = brightpearl(sandbox)
    found = client.get(
        "/warehouse-service/goods-note/goods-out-search",
        params={"shipped": "true", "shippedOn": "2025-03-01/", "pageSize": 500},
    ).json()["response"]
    names = [c["name"] for c in found["metaData"]["columns"]]
    shipped_on = names.index("shippedOn")
    assert found["results"] and all(r[shipped_on] >= "2025-03-01" for r in found["results"])


def test_sales_credits_link_to_order_and_contact_and_partial_hits_are_207(sandbox):
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    credit_id = facts["sales_credit_ids"][0]
    client = brightpearl(sandbox)
    credit = client.get(f"/order-service/sales-credit/{credit_id}").json()["response"][0]
    assert credit["parentId"] == facts["credited_order_ids"][0]
    order = client.get(f"/order-service/order/{credit['parentId']}").json()["response"][0]
    assert credit["customer"]["id"] == order["parties"]["customer"]["contactId"]
    assert {"productId", "sku", "quantity", "net", "tax", "total"} <= set(credit["rows"][0])
    partial = client.get(f"/order-service/sales-credit/{credit_id},999999")
    assert partial.status_code == 207
    assert [c["id"] for c in partial.json()["response"]] == [credit_id]


def test_a_credit_on_an_uninvoiced_order_is_refused(sandbox):
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    client = brightpearl(sandbox)
    refused = client.post(
        "/order-service/sales-credit", json={"parentId": facts["uninvoiced_order_id"]}
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "ORDC-031"
    ok = client.post(
        "/order-service/sales-credit", json={"parentId": facts["credited_order_ids"][0]}
    )
    assert ok.status_code == 200 and isinstance(ok.json()["response"], int)


def _credit_both_ways(client: httpx.Client, credit_id: int) -> tuple[dict, dict]:
    """The credit as the sales-credit resource and as its SC order."""
    credit = client.get(f"/order-service/sales-credit/{credit_id}").json()["response"][0]
    order = client.get(f"/order-service/order/{credit_id}").json()["response"][0]
    assert order["orderTypeCode"] == "SC"
    return credit, order


def test_the_seed_has_completed_and_open_credits_alike_in_both_views(sandbox):
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    done, still_open = facts["completed_credit_ids"], facts["open_credit_ids"]
    assert sorted(done + still_open) == facts["sales_credit_ids"]
    assert abs(len(done) - len(still_open)) <= 1 and done and still_open
    assert facts["credit_complete_status_id"] == facts["statuses"]["Credit complete"] == 11
    client = brightpearl(sandbox)
    for credit_id in (done[0], done[-1], still_open[0]):
        credit, order = _credit_both_ways(client, credit_id)
        wanted = 11 if credit_id in done else 10
        assert credit["statusId"] == order["orderStatus"]["orderStatusId"] == wanted
        assert credit["updatedOn"] == order["updatedOn"]
        assert credit["createdOn"] == order["createdOn"]
        # A completed credit changed after it was raised; an open one never did.
        assert (credit["updatedOn"] > credit["createdOn"]) is (credit_id in done)
    search = client.get(
        "/order-service/order-search", params={"orderTypeId": 3, "orderStatusId": 11}
    ).json()["response"]["results"]
    assert sorted(r[0] for r in search) == done


def test_a_credit_status_change_updates_the_credit_and_its_order_alike(sandbox):
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    first, second = facts["open_credit_ids"][:2]
    client = brightpearl(sandbox)
    before, _ = _credit_both_ways(client, first)
    # The back office completes one credit (control API) ...
    changed = loopback.post(
        f"{sandbox.url}/_sandbox/brightpearl/orders/{first}/status", json={"statusId": 11}
    )
    assert changed.status_code == 200
    credit, order = _credit_both_ways(client, first)
    assert credit["statusId"] == order["orderStatus"]["orderStatusId"] == 11
    assert credit["updatedOn"] == order["updatedOn"] > before["updatedOn"]
    # ... and an integration the other (the order status API): the same result.
    put = client.put(f"/order-service/order/{second}/status", json={"orderStatusId": 11})
    assert put.status_code == 200
    credit, order = _credit_both_ways(client, second)
    assert credit["statusId"] == order["orderStatus"]["orderStatusId"] == 11
    assert credit["updatedOn"] == order["updatedOn"]
    stored = sandbox.state("brightpearl", "sales_credits", status=11, limit=100)["items"]
    assert {first, second} <= {c["id"] for c in stored}
    # A sales-order status is not a credit status.
    refused = client.put(f"/order-service/order/{second}/status", json={"orderStatusId": 26})
    assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == "ORDC-017"


def test_a_credit_can_be_raised_already_complete(sandbox):
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    order_id = facts["credited_order_ids"][0]
    api = httpx.Client(base_url=sandbox.url + "/_sandbox")
    complete = api.post("/brightpearl/sales-credits", json={"orderId": order_id, "complete": True})
    by_id = api.post("/brightpearl/sales-credits", json={"orderId": order_id, "statusId": 11})
    default = api.post("/brightpearl/sales-credits", json={"orderId": order_id})
    client = brightpearl(sandbox)
    for answer, wanted in ((complete, 11), (by_id, 11), (default, 10)):
        assert answer.status_code == 200
        credit, order = _credit_both_ways(client, answer.json()["id"])
        assert credit["statusId"] == order["orderStatus"]["orderStatusId"] == wanted
    refused = api.post("/brightpearl/sales-credits", json={"orderId": order_id, "statusId": 24})
    assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == "ORDC-017"
    posted = client.post(
        "/order-service/sales-credit", json={"parentId": order_id, "statusId": 11}
    ).json()["response"]
    assert _credit_both_ways(client, posted)[0]["statusId"] == 11


def test_contacts_tags_custom_fields_and_search(sandbox):
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    client = brightpearl(sandbox)
    tags = client.get("/contact-service/tag/").json()["response"]
    assert {t["tagName"] for t in tags.values()} >= {"Loyalty: Gold", "VIP", "Wholesale"}
    vip = client.get(f"/contact-service/contact/{facts['vip_contact_id']}").json()["response"][0]
    assert {"16", "1"} <= set(vip["contactTags"].split(","))
    assert "customFields" not in vip
    with_custom = client.get(
        f"/contact-service/contact/{facts['vip_contact_id']}?includeOptional=customFields"
    ).json()["response"][0]
    assert with_custom["customFields"]["PCF_LOYALTY"] == "Gold"
    search = client.get(
        "/contact-service/contact-search", params={"primaryEmail": facts["duplicate_email"]}
    )
    ids = [r[0] for r in search.json()["response"]["results"]]
    assert ids == facts["duplicate_email_contact_ids"]


def test_a_custom_field_patch_does_not_move_updated_on(sandbox):
    contact_id = sandbox.seed_facts()["demo"]["brightpearl"]["vip_contact_id"]
    client = brightpearl(sandbox)
    before = client.get(f"/contact-service/contact/{contact_id}").json()["response"][0]
    patched = client.patch(
        f"/contact-service/contact/{contact_id}/custom-field",
        json=[{"op": "replace", "path": "/PCF_LOYALTY", "value": "Silver"}],
    )
    assert patched.json()["response"]["PCF_LOYALTY"] == "Silver"
    after = client.get(f"/contact-service/contact/{contact_id}").json()["response"][0]
    assert after["updatedOn"] == before["updatedOn"]
    assert (
        client.get(f"/contact-service/contact/{contact_id}/custom-field").json()["response"][
            "PCF_LOYALTY"
        ]
        == "Silver"
    )


def test_tagging_contacts_and_creating_one(sandbox):
    client = brightpearl(sandbox)
    assert client.post("/contact-service/contact/210,211/tag/16").status_code == 200
    tagged = client.get("/contact-service/contact/210,211").json()["response"]
    assert all("16" in c["contactTags"].split(",") for c in tagged)
    created = client.post(
        "/contact-service/contact/",
        json={"firstName": "New", "lastName": "Person",
              "communication": {"emails": {"PRI": {"email": "new.person@example.com"}}}},
    )  # fmt: skip
    new_id = created.json()["response"]
    found = client.get("/contact-service/contact-search?primaryEmail=new.person@example.com")
    assert [r[0] for r in found.json()["response"]["results"]] == [new_id]


def test_creating_an_order_with_rows_and_the_missing_type_error(sandbox):
    client = brightpearl(sandbox)
    missing = client.post("/order-service/order", json={"reference": "#0001"})
    assert missing.status_code == 400
    assert missing.json() == {
        "errors": [{"code": "ORDC-005", "message": "You have not supplied an order type code"}]
    }
    order_id = client.post(
        "/order-service/order",
        json={
            "orderTypeCode": "SO",
            "reference": "BC-1",
            "parties": {"customer": {"contactId": 201}},
        },
    ).json()["response"]
    row = client.post(
        f"/order-service/order/{order_id}/row",
        json={"productId": 1001, "quantity": {"magnitude": "2"},
              "rowValue": {"taxCode": "T", "rowNet": {"value": "20.00"}, "rowTax": {"value": "4.00"}}},
    )  # fmt: skip
    assert row.status_code == 200
    order = client.get(f"/order-service/order/{order_id}").json()["response"][0]
    assert order["totalValue"]["total"] == "24.00"
    sales_order = client.post(
        "/order-service/sales-order",
        json={"customer": {"id": 201}, "ref": "BC-2", "rows": [{"sku": "NOT-A-SKU", "quantity": 1, "net": 1}]},
    )  # fmt: skip
    assert sales_order.status_code == 400


def test_stock_products_and_warehouses(sandbox):
    client = brightpearl(sandbox)
    stock = client.get("/warehouse-service/product-availability/1001,1002").json()["response"]
    assert set(stock["1001"]["warehouses"]) == {"1", "2"}
    totals = stock["1001"]["total"]
    assert totals["inStock"] == sum(w["inStock"] for w in stock["1001"]["warehouses"].values())
    product = client.get("/product-service/product/1001").json()["response"][0]
    sku = product["identity"]["sku"]
    found = client.get("/product-service/product-search", params={"SKU": sku}).json()
    assert [r[0] for r in found["response"]["results"]] == [1001]
    warehouses = client.get("/warehouse-service/warehouse/").json()["response"]
    assert [w["id"] for w in warehouses] == [1, 2]


def test_webhooks_register_list_and_delete_like_the_recording(sandbox):
    client = brightpearl(sandbox)
    example = payload("brightpearl_webhook_get_response.json")["response"][0]
    hook_id = client.post("/integration-service/webhook", json={
        k: v for k, v in example.items() if k != "id"}).json()["response"]  # fmt: skip
    listed = client.get(f"/integration-service/webhook/{hook_id}").json()
    assert_shape(listed, {"response": [example]})
    assert client.delete(f"/integration-service/webhook/{hook_id}").json() == {}
    # None left: the "empty" id set, answered 404 like any GET that finds nothing
    # (ruby-brightpearl webhook/get/not_found.yml: "No webhooks available in ID Set 99999").
    gone = client.get("/integration-service/webhook")
    assert gone.status_code == 404 and gone.json()["errors"][0]["code"] == "CMNC-404"

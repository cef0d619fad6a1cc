"""The shared HTTP layer, replayed through httpx.MockTransport: batching, retries, errors, logs."""

import io
import json
import logging
import tarfile

import httpx
import pytest

from connectors.brightpearl.idsets import idset
from connectors.errors import AuthError, RejectedError, ThrottledError, TransientError
from connectors.mailchimp.client import subscriber_hash
from connectors.models import Connection, RateBudget
from connectors.registry import connector_for
from connectors.services import connection_test

pytestmark = pytest.mark.django_db

TOKEN = "tok-3c1f9a-secret"


def bp_connection(brand, **settings):
    return Connection.objects.create(
        brand=brand,
        system="brightpearl",
        base_url="https://euw1.brightpearlconnect.com",
        credentials={"app_ref": "acme_console", "account_token": TOKEN},
        settings={"account": "acme", **settings},
    )


def bp_answer(body, status=200, remaining=150, period_ms=30000):
    return httpx.Response(
        status,
        json=body,
        headers={
            "brightpearl-requests-remaining": str(remaining),
            "brightpearl-next-throttle-period": str(period_ms),
        },
    )


def test_idset_folds_runs_into_ranges():
    assert idset([7, 1, 2, 3, 3, 9, 10]) == "1-3,7,9-10"
    assert idset(["5"]) == "5"
    assert idset([]) == ""


def test_orders_are_fetched_200_a_request(brand_a):
    seen = []

    def handler(request: httpx.Request):
        seen.append(request.url.path)
        assert request.headers["brightpearl-account-token"] == TOKEN
        spec = request.url.path.rsplit("/", 1)[1]
        ids = []
        for part in spec.split(","):
            lo, _, hi = part.partition("-")
            ids.extend(range(int(lo), int(hi or lo) + 1))
        assert len(ids) <= 200
        return bp_answer({"response": [{"id": i} for i in ids]})

    conn = bp_connection(brand_a)
    with connector_for(conn, transport=httpx.MockTransport(handler)) as bp:
        orders = list(bp.orders(range(1, 1001)))
    assert [o["id"] for o in orders] == list(range(1, 1001))
    assert len(seen) == 5
    assert seen[0] == "/public-api/acme/order-service/order/1-200"
    assert bp.stats.calls == 5


def test_5xx_is_retried_then_succeeds(brand_a):
    answers = iter(
        [httpx.Response(502, text="Bad gateway"), httpx.Response(500), bp_answer({"response": []})]
    )
    calls = []

    def handler(request):
        calls.append(1)
        return next(answers)

    with connector_for(
        bp_connection(brand_a), transport=httpx.MockTransport(handler), max_backoff=0.01
    ) as bp:
        assert bp.order_statuses() == []
    assert len(calls) == 3
    assert bp.stats.retries == 2


def test_lost_response_on_a_read_is_retried(brand_a):
    calls = []

    def handler(request):
        calls.append(1)
        if len(calls) == 1:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return bp_answer({"response": [{"statusId": 1, "name": "Draft"}]})

    with connector_for(
        bp_connection(brand_a), transport=httpx.MockTransport(handler), max_backoff=0.01
    ) as bp:
        assert bp.order_statuses()[0]["name"] == "Draft"
    assert len(calls) == 2


def test_lost_response_on_a_create_is_not_sent_twice(brand_a):
    calls = []

    def handler(request):
        calls.append(request.method)
        raise httpx.ReadError("connection reset")

    with connector_for(
        bp_connection(brand_a), transport=httpx.MockTransport(handler), max_backoff=0.01
    ) as bp:
        with pytest.raises(TransientError):
            bp.create_order({"orderTypeCode": "SO"})
    assert calls == ["POST"]


def test_auth_failure_fails_fast_after_one_request_and_never_shows_the_token(brand_a):
    calls = []

    def handler(request):
        calls.append(1)
        return bp_answer({"response": f"Invalid instance token: {TOKEN}"}, status=401)

    with connector_for(bp_connection(brand_a), transport=httpx.MockTransport(handler)) as bp:
        with pytest.raises(AuthError) as info:
            bp.order_statuses()
    assert len(calls) == 1
    err = info.value
    assert err.status == 401 and err.kind == "auth" and not err.retryable
    for text in (str(err), err.plain, err.vendor_message, json.dumps(err.details)):
        assert TOKEN not in text
    assert "Invalid instance token: ***" in err.vendor_message
    assert "enter new ones" in err.plain


def test_throttle_503_waits_for_the_next_period(brand_a, monkeypatch):
    answers = iter(
        [
            bp_answer(
                {
                    "response": "You have sent too many requests. Please wait before sending another request"
                },
                status=503,
                remaining=0,
                period_ms=50,
            ),
            bp_answer({"response": []}),
        ]
    )
    with connector_for(
        bp_connection(brand_a), transport=httpx.MockTransport(lambda r: next(answers))
    ) as bp:
        assert bp.order_statuses() == []
    assert bp.stats.retries == 1


def test_bad_search_filter_is_rejected_not_retried(brand_a):
    calls = []

    def handler(request):
        calls.append(1)
        return bp_answer(
            {
                "errors": [
                    {
                        "code": "CMNC-018",
                        "message": "The filter orderStatusId=BAD PARAM cannot be parsed as: INTEGER",
                    }
                ]
            },
            status=500,
        )

    with connector_for(bp_connection(brand_a), transport=httpx.MockTransport(handler)) as bp:
        with pytest.raises(RejectedError) as info:
            list(bp.search("/order-service/order-search", {"orderStatusId": "BAD PARAM"}))
    assert len(calls) == 1
    assert info.value.code == "CMNC-018"


def test_search_pages_through_every_result(brand_a):
    columns = [{"name": "orderId"}, {"name": "updatedOn"}]

    def handler(request):
        first = int(request.url.params["firstResult"])
        size = int(request.url.params["pageSize"])
        rows = [[i, "2026-01-01T00:00:00Z"] for i in range(first, min(first + size, 1201))]
        return bp_answer(
            {
                "response": {
                    "results": rows,
                    "metaData": {
                        "morePagesAvailable": first + size <= 1200,
                        "resultsAvailable": 1200,
                        "resultsReturned": len(rows),
                        "firstResult": first,
                        "lastResult": first + len(rows) - 1,
                        "columns": columns,
                    },
                }
            }
        )

    with connector_for(bp_connection(brand_a), transport=httpx.MockTransport(handler)) as bp:
        rows = list(bp.search("/order-service/order-search", {}))
    assert [r["orderId"] for r in rows] == list(range(1, 1201))
    assert bp.stats.calls == 3


def test_every_call_logs_one_redacted_line(brand_a, caplog):
    caplog.set_level(logging.INFO, logger="connectors.http")
    with connector_for(
        bp_connection(brand_a),
        transport=httpx.MockTransport(lambda r: bp_answer({"response": []}, remaining=77)),
    ) as bp:
        list(bp.search("/contact-service/contact-search", {"primaryEmail": "someone@example.com"}))
    line = caplog.records[-1].getMessage()
    for part in (
        "vendor=brightpearl",
        "GET",
        "contact-search",
        "status=200",
        "ms=",
        "budget_left=77",
    ):
        assert part in line
    assert TOKEN not in caplog.text
    assert "someone@example.com" not in line


def test_health_is_recorded_in_plain_english(brand_a):
    conn = bp_connection(brand_a)
    ok, message = connection_test(
        connection=conn,
        transport=httpx.MockTransport(lambda r: bp_answer({"response": [{"statusId": 1}]})),
    )
    conn.refresh_from_db()
    assert ok and conn.status == "ok" and conn.last_error == "" and conn.last_checked
    assert "1 order statuses" in message

    ok, message = connection_test(
        connection=conn,
        transport=httpx.MockTransport(
            lambda r: bp_answer({"response": "Invalid instance token: x"}, status=401)
        ),
    )
    conn.refresh_from_db()
    assert not ok and conn.status == "failing"
    assert "did not accept the saved credentials" in conn.last_error


def test_missing_setting_is_a_configuration_error(brand_a):
    conn = Connection.objects.create(
        brand=brand_a,
        system="mailchimp",
        base_url="https://us14.api.mailchimp.com",
        credentials={"api_key": "k-us14"},
        settings={},
    )
    ok, message = connection_test(connection=conn)
    assert not ok
    assert "missing: Audience (list) id" in message


# --- vendor specifics ------------------------------------------------------------------
def _results_archive(entries: list[dict]) -> bytes:
    """A batch's results as Mailchimp serves them: a gzipped tar of JSON lists."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = json.dumps(entries).encode()
        info = tarfile.TarInfo("b1/0.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_mailchimp_never_sends_status_for_existing_members(brand_a):
    conn = Connection.objects.create(
        brand=brand_a,
        system="mailchimp",
        base_url="https://us14.api.mailchimp.com",
        credentials={"api_key": "abc-us14"},
        settings={"list_id": "L1", "batch_poll_seconds": 0.01},
    )
    sent = []
    results_url = (
        "https://mailchimp-api-batch.s3.amazonaws.com/b1-response.tar.gz?X-Amz-Signature=s"
    )
    polls = iter(["pending", "started", "finished"])

    def handler(request):
        body = json.loads(request.content) if request.content else None
        sent.append((request.method, request.url.host, request.url.path, body))
        if request.url.host == "mailchimp-api-batch.s3.amazonaws.com":
            # The pre-signed results URL: the API key must never travel there.
            assert "authorization" not in request.headers
            ops = next(s[3] for s in sent if s[2].endswith("/batches"))["operations"]
            entries = [
                {"status_code": 200, "operation_id": op["operation_id"], "response": "{}"}
                for op in ops
                if op["operation_id"] != subscriber_hash("locked@example.com")
            ]
            entries.append(
                {
                    "status_code": 400,
                    "operation_id": subscriber_hash("locked@example.com"),
                    "response": json.dumps(
                        {
                            "type": "x",
                            "title": "Member In Compliance State",
                            "status": 400,
                            "detail": "locked@example.com is in a compliance state",
                        }
                    ),
                }
            )
            return httpx.Response(200, content=_results_archive(entries))
        assert request.url.host == "us14.api.mailchimp.com"
        assert request.headers["authorization"].startswith("Basic ")
        if request.method == "POST" and request.url.path == "/3.0/lists/L1":
            assert body["update_existing"] is False
            return httpx.Response(
                200,
                json={
                    "new_members": [{"email_address": "new@example.com"}],
                    "updated_members": [],
                    "errors": [
                        {
                            "email_address": "old@example.com",
                            "error": "already a list member",
                            "error_code": "ERROR_CONTACT_EXISTS",
                        },
                        {
                            "email_address": "locked@example.com",
                            "error": "already a list member",
                            "error_code": "ERROR_CONTACT_EXISTS",
                        },
                    ],
                    "error_count": 2,
                },
            )
        if request.method == "POST" and request.url.path == "/3.0/batches":
            return httpx.Response(
                200, json={"id": "b1", "status": "pending", "total_operations": 2}
            )
        if request.method == "GET" and request.url.path == "/3.0/batches/b1":
            status = next(polls)
            return httpx.Response(
                200,
                json={
                    "id": "b1",
                    "status": status,
                    "total_operations": 2,
                    "finished_operations": 2 if status == "finished" else 0,
                    "errored_operations": 1 if status == "finished" else 0,
                    "response_body_url": results_url if status == "finished" else "",
                },
            )
        raise AssertionError(f"unexpected {request.method} {request.url}")

    members = [
        {"email_address": e, "merge_fields": {"FNAME": "A"}, "status_if_new": "subscribed"}
        for e in ("new@example.com", "Old@example.com", "locked@example.com")
    ]
    with connector_for(conn, transport=httpx.MockTransport(handler)) as mc:
        result = mc.upsert_members(members)
    assert sorted(result.ok) == ["new@example.com", "old@example.com"]
    assert result.failed["locked@example.com"].code == "Member In Compliance State"
    [batch] = [s[3] for s in sent if s[2] == "/3.0/batches"]
    ops = batch["operations"]
    assert [op["method"] for op in ops] == ["PUT", "PUT"]
    assert ops[0]["path"] == f"/lists/L1/members/{subscriber_hash('old@example.com')}"
    bodies = [json.loads(op["body"]) for op in ops]
    assert all("status" not in b and b["status_if_new"] == "subscribed" for b in bodies)
    assert [s[2] for s in sent].count("/3.0/batches/b1") == 3, "polled until finished"
    # The compliance-state member is not retried: no second batch, no single PUT.
    assert [s[0] for s in sent].count("PUT") == 0 and len([s for s in sent if s[3] == batch]) == 1


def test_salesforce_collection_outcomes_are_per_record(brand_a):
    conn = Connection.objects.create(
        brand=brand_a,
        system="salesforce",
        base_url="https://acme.my.salesforce.com",
        credentials={"client_id": "cid", "client_secret": "csecret"},
        settings={},
    )
    patches = []

    def handler(request):
        if request.url.path == "/services/oauth2/token":
            return httpx.Response(
                200, json={"access_token": "AT-1", "instance_url": "https://acme.my.salesforce.com"}
            )
        assert request.headers["Authorization"] == "Bearer AT-1"
        body = json.loads(request.content)
        patches.append(len(body["records"]))
        answers = [
            {"id": f"001{i}", "success": True, "errors": [], "created": True}
            if r.get("Name")
            else {
                "success": False,
                "errors": [
                    {
                        "statusCode": "REQUIRED_FIELD_MISSING",
                        "message": "Required fields are missing: [Name]",
                    }
                ],
            }
            for i, r in enumerate(body["records"])
        ]
        return httpx.Response(
            200, json=answers, headers={"Sforce-Limit-Info": "api-usage=10/15000"}
        )

    records = [{"BP_Id__c": str(i), "Name": f"Account {i}" if i != 7 else ""} for i in range(450)]
    with connector_for(conn, transport=httpx.MockTransport(handler)) as sf:
        result = sf.upsert("Account", "BP_Id__c", records)
    assert patches == [200, 200, 50]
    assert len(result.ok) == 449
    assert result.failed["7"].code == "REQUIRED_FIELD_MISSING"
    assert RateBudget.objects.get(system="salesforce").limit == 15000


def _bigcommerce(brand) -> Connection:
    return Connection.objects.create(
        brand=brand,
        system="bigcommerce",
        base_url="https://api.bigcommerce.com",
        credentials={"access_token": "bc-token"},
        settings={"store_hash": "abc"},
    )


def _problem(title: str) -> httpx.Response:
    """BigCommerce's documented 422 for an adjustment: the item only in `title`, `errors`
    empty (inventory.v3.yml, put-absolute-adjustment and the relative examples)."""
    return httpx.Response(
        422,
        json={
            "status": 422,
            "title": title,
            "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
            "errors": {},
        },
        headers={"Content-Type": "application/problem+json", "X-Rate-Limit-Requests-Left": "140"},
    )


def test_bigcommerce_sets_aside_the_item_a_422_names_in_its_title(brand_a):
    bodies = []

    def handler(request):
        body = json.loads(request.content)
        bodies.append(len(body["items"]))
        if any(item["sku"] == "NOPE" for item in body["items"]):
            return _problem("Items with identity: [sku NOPE] not found")
        return httpx.Response(
            200, json={"transaction_id": "t"}, headers={"X-Rate-Limit-Requests-Left": "139"}
        )

    items = [{"location_id": 1, "sku": f"SKU{i}", "quantity": i} for i in range(2500)]
    items[10]["sku"] = "NOPE"
    with connector_for(_bigcommerce(brand_a), transport=httpx.MockTransport(handler)) as bc:
        result = bc.set_stock_levels(items)
    assert bodies == [2000, 1999, 500]
    assert list(result.failed) == ["NOPE"]
    assert "[sku NOPE]" in result.failed["NOPE"].message
    assert len(result.ok) == 2499


def test_bigcommerce_splits_a_call_whose_422_names_no_item_of_it(brand_a):
    """A refusal naming an identity the call does not use (a variant id, sent by SKU): the
    call is halved until the bad item stands alone, and every good item is written."""
    sent = []

    def handler(request):
        if request.url.path.endswith("/v3/inventory/locations"):
            return httpx.Response(200, json={"data": [{"id": 1}], "meta": {}})
        body = json.loads(request.content)
        sent.append(len(body["items"]))
        if any(item["sku"] == "TRACKED-BY-PRODUCT" for item in body["items"]):
            return _problem(
                "[Item with variant_id 106 is tracked by product, please update stock by "
                "product id]"
            )
        return httpx.Response(200, json={"transaction_id": "t"})

    items = [{"location_id": 1, "sku": f"SKU{i}", "quantity": 1} for i in range(2000)]
    items[1234]["sku"] = "TRACKED-BY-PRODUCT"
    with connector_for(_bigcommerce(brand_a), transport=httpx.MockTransport(handler)) as bc:
        result = bc.set_stock_levels(items)
    assert list(result.failed) == ["TRACKED-BY-PRODUCT"]
    assert len(result.ok) == 1999
    # About log2(2,000) = 11 halvings, each a refused and an accepted call.
    assert len(sent) <= 2 * 12
    assert bc.missing_locations == set()


def test_bigcommerce_finds_a_location_the_store_lacks_with_one_call(brand_a):
    calls = {"locations": 0, "puts": 0}

    def handler(request):
        if request.url.path.endswith("/v3/inventory/locations"):
            calls["locations"] += 1
            return httpx.Response(200, json={"data": [{"id": 1}], "meta": {}})
        calls["puts"] += 1
        body = json.loads(request.content)
        if any(item["location_id"] == 9 for item in body["items"]):
            return _problem("Location with id 9 not found")
        return httpx.Response(200, json={"transaction_id": "t"})

    items = [{"location_id": 1 + 8 * (i % 2), "sku": f"SKU{i}", "quantity": 1} for i in range(2000)]
    with connector_for(_bigcommerce(brand_a), transport=httpx.MockTransport(handler)) as bc:
        result = bc.set_stock_levels(items)
    assert bc.missing_locations == {9}
    assert len(result.failed) == 1000 and len(result.ok) == 1000
    assert calls == {"locations": 1, "puts": 2}


def test_ometria_groups_by_type_and_refuses_oversized_records_locally(brand_a):
    conn = Connection.objects.create(
        brand=brand_a,
        system="ometria",
        base_url="https://api.ometria.com",
        credentials={"api_key": "om-key"},
        settings={},
    )
    pushes = []

    def handler(request):
        body = json.loads(request.content)
        assert request.headers["X-Ometria-Auth"] == "om-key"
        assert len({r["@type"] for r in body}) == 1 and len(body) <= 100
        pushes.append(len(body))
        return httpx.Response(
            200, json={"status": "OK", "request_id": "r", "accepted": len(body), "rejected": 0}
        )

    records = [{"@type": "order", "id": str(i)} for i in range(150)] + [
        {"@type": "contact", "id": f"c{i}"} for i in range(30)
    ]
    records.append({"@type": "contact", "id": "huge", "properties": {"notes": "x" * 70_000}})
    with connector_for(conn, transport=httpx.MockTransport(handler)) as om:
        result = om.push(records)
    assert sorted(pushes) == [30, 50, 100]
    assert len(result.ok) == 180
    assert result.failed["huge"].code == "too_large"


def test_throttled_error_is_retryable_but_auth_is_not():
    assert ThrottledError("x").retryable and not AuthError("x").retryable


def test_a_push_sent_again_after_a_lost_answer_is_counted_as_resent(brand_a):
    """An upsert may go twice; a one-off notification should not, so whoever sends one must
    know how many records went again with their outcome unknown."""
    calls = []

    def handler(request):
        calls.append(1)
        if len(calls) == 1:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return httpx.Response(200, json={"status": "OK", "accepted": 2, "rejected": 0})

    conn = Connection.objects.create(
        brand=brand_a,
        system="ometria",
        base_url="https://api.ometria.com",
        credentials={"api_key": "k"},
    )
    events = [{"@type": "custom_event", "id": f"gon-{i}", "event_type": "x"} for i in (1, 2)]
    with connector_for(conn, transport=httpx.MockTransport(handler), max_backoff=0.01) as om:
        result = om.push(events)
        assert sorted(result.ok) == ["gon-1", "gon-2"]
        assert om.stats.resent == 2 and om.stats.retries == 1
    assert len(calls) == 2

"""Mailchimp on the sandbox: consent is Mailchimp's, batch limits, compliance state, 429s."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import threading
import time

import httpx

from tests.fixtures import loopback
from tests.sandbox.conftest import assert_shape, mailchimp, payload


def md5(email: str) -> str:
    return hashlib.md5(email.lower().encode()).hexdigest()


def test_status_if_new_never_resubscribes_but_status_does_and_is_logged(sandbox):
    client, list_id = mailchimp(sandbox)
    email = sandbox.seed_facts()["demo"]["mailchimp"]["unsubscribed_emails"][1]
    kept = client.put(f"/lists/{list_id}/members/{md5(email)}",
                      json={"email_address": email, "status_if_new": "subscribed",
                            "merge_fields": {"FNAME": "Casey"}})  # fmt: skip
    assert kept.status_code == 200 and kept.json()["status"] == "unsubscribed"
    assert sandbox.state("mailchimp", "status_changes", id=email)["count"] == 0
    changed = client.put(f"/lists/{list_id}/members/{md5(email)}",
                         json={"email_address": email, "status": "subscribed"})  # fmt: skip
    assert changed.json()["status"] == "subscribed"
    log = sandbox.state("mailchimp", "status_changes", id=email)["items"]
    assert [(e["from"], e["to"], e["source"]) for e in log] == [
        ("unsubscribed", "subscribed", "api")
    ]


def test_a_new_member_takes_status_if_new(sandbox):
    client, list_id = mailchimp(sandbox)
    email = "Brand.New@Example.com"
    made = client.put(f"/lists/{list_id}/members/{md5(email)}",
                      json={"email_address": email, "status_if_new": "subscribed"})  # fmt: skip
    assert made.json()["status"] == "subscribed" and made.json()["id"] == md5(email)
    assert client.get(f"/lists/{list_id}/members/{md5(email)}").status_code == 200


def test_a_member_in_compliance_state_refuses_every_upsert(sandbox):
    client, list_id = mailchimp(sandbox)
    email = sandbox.seed_facts()["demo"]["mailchimp"]["compliance_email"]
    answer = client.put(f"/lists/{list_id}/members/{md5(email)}",
                        json={"email_address": email, "status_if_new": "subscribed"})  # fmt: skip
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["title"] == "Member In Compliance State"
    assert_shape(answer.json(), payload("mailchimp_error_404_problem_json.json"))


def test_batch_upsert_answers_per_member_and_caps_at_500(sandbox):
    client, list_id = mailchimp(sandbox)
    facts = sandbox.seed_facts()["demo"]["mailchimp"]
    members = [
        {"email_address": "batch.one@example.com", "status": "subscribed"},
        {"email_address": facts["unsubscribed_emails"][2], "status": "subscribed",
         "merge_fields": {"FNAME": "Quinn"}},
        {"email_address": facts["compliance_email"], "status": "subscribed"},
        {"email_address": "not-an-email", "status": "subscribed"},
    ]  # fmt: skip
    answer = client.post(f"/lists/{list_id}", json={"members": members, "update_existing": True})
    body = answer.json()
    assert answer.status_code == 200
    assert body["total_created"] == 1 and body["total_updated"] == 1 and body["error_count"] == 2
    assert {e["email_address"] for e in body["errors"]} == {
        facts["compliance_email"],
        "not-an-email",
    }
    assert all({"email_address", "error", "error_code"} <= set(e) for e in body["errors"])
    # update_existing changes status, as Mailchimp does: the log shows it.
    assert (
        sandbox.state("mailchimp", "status_changes", id=facts["unsubscribed_emails"][2])["count"]
        == 1
    )
    without = client.post(f"/lists/{list_id}", json={"members": members[:1]})
    assert without.json()["errors"][0]["error_code"] == "ERROR_CONTACT_EXISTS"
    too_many = [{"email_address": f"m{n}@example.com", "status": "subscribed"} for n in range(501)]
    refused = client.post(f"/lists/{list_id}", json={"members": too_many})
    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/problem+json"


def test_unsubscribed_members_since_a_time_page_by_count_and_offset(sandbox):
    client, list_id = mailchimp(sandbox)
    page = client.get(f"/lists/{list_id}/members",
                      params={"status": "unsubscribed", "count": 3, "offset": 0}).json()  # fmt: skip
    assert len(page["members"]) == 3 and page["total_items"] > 3
    assert all(m["status"] == "unsubscribed" for m in page["members"])
    later = client.get(f"/lists/{list_id}/members",
                       params={"since_last_changed": "2030-01-01T00:00:00+00:00"}).json()  # fmt: skip
    assert later["members"] == [] and later["total_items"] == 0


def test_tags_list_info_and_ping(sandbox):
    client, list_id = mailchimp(sandbox)
    email = "batch.tags@example.com"
    client.put(f"/lists/{list_id}/members/{md5(email)}",
               json={"email_address": email, "status_if_new": "subscribed"})  # fmt: skip
    tagged = client.post(f"/lists/{list_id}/members/{md5(email)}/tags",
                         json={"tags": [{"name": "Recent purchaser", "status": "active"}]})  # fmt: skip
    assert tagged.status_code == 204
    member = client.get(f"/lists/{list_id}/members/{md5(email)}").json()
    assert [t["name"] for t in member["tags"]] == ["Recent purchaser"]
    assert client.get(f"/lists/{list_id}").json()["id"] == list_id
    assert client.get("/ping").json() == {"health_status": "Everything's Chimpy!"}
    missing = client.get(f"/lists/{list_id}/members/{md5('nobody@example.com')}")
    assert missing.status_code == 404
    assert_shape(missing.json(), payload("mailchimp_error_404_problem_json.json"))


def test_a_bad_key_gets_mailchimps_401(sandbox):
    base = sandbox.discovery()["mailchimp"]["base_url"]
    answer = loopback.get(base + "/3.0/ping", auth=("anystring", "0000-us1"))
    assert answer.status_code == 401
    assert answer.json()["title"] == "API Key Invalid"
    assert answer.headers["content-type"] == "application/problem+json"


def test_more_than_the_allowed_concurrent_requests_get_429(sandbox):
    sandbox.configure(limits={"mailchimp_concurrency": 2})
    sandbox.set_faults("mailchimp", latency_ms=400)
    entry = sandbox.discovery()["mailchimp"]
    start = threading.Barrier(6)
    statuses: list[int] = []

    def call() -> None:
        start.wait()
        answer = loopback.get(
            entry["base_url"] + "/3.0/ping", auth=("x", entry["api_key"]), timeout=10
        )
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 429 in statuses and 200 in statuses
    stats = sandbox.stats()["mailchimp"]
    assert stats["max_in_window"] >= 3  # the most in flight at once
    assert stats["throttled"] == statuses.count(429)


# --- batch operations -------------------------------------------------------------------------


def put_op(list_id: str, email: str, **body) -> dict:
    return {
        "method": "PUT",
        "path": f"/lists/{list_id}/members/{md5(email)}",
        "operation_id": email,
        "body": json.dumps({"email_address": email, **body}),
    }


def wait_finished(client: httpx.Client, batch_id: str, timeout: float = 10) -> list[dict]:
    """Poll as a client must; every answer seen, the last one finished."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen.append(client.get(f"/batches/{batch_id}").json())
        if seen[-1]["status"] == "finished":
            return seen
        time.sleep(0.05)
    raise AssertionError(f"batch {batch_id} did not finish: {seen[-1]}")


def results(url: str) -> list[dict]:
    answer = loopback.get(url)  # a pre-signed URL: no auth
    assert answer.status_code == 200
    entries = []
    with tarfile.open(fileobj=io.BytesIO(answer.content), mode="r:gz") as tar:
        for info in tar:
            if info.isfile():
                assert info.name.endswith(".json")
                entries.extend(json.load(tar.extractfile(info)))
    return entries


def test_a_batch_runs_each_operation_as_the_single_call_would(sandbox):
    client, list_id = mailchimp(sandbox)
    facts = sandbox.seed_facts()["demo"]["mailchimp"]
    unsubscribed, compliance = facts["unsubscribed_emails"][3], facts["compliance_email"]
    ops = [
        put_op(list_id, unsubscribed, status_if_new="subscribed", merge_fields={"FNAME": "Kit"}),
        put_op(list_id, compliance, status_if_new="subscribed"),
        put_op(list_id, "batch.new@example.com", status_if_new="subscribed"),
        {"method": "GET", "path": f"/lists/{list_id}/members/{md5(unsubscribed)}",
         "operation_id": "read"},
        {"method": "GET", "path": "/lists/nope/members", "operation_id": "missing"},
        {"method": "POST", "path": "/batches", "body": "{}", "operation_id": "nested"},
    ]  # fmt: skip
    started = client.post("/batches", json={"operations": ops})
    assert started.status_code == 200
    batch = started.json()
    assert {"id", "status", "total_operations", "finished_operations", "errored_operations",
            "submitted_at", "completed_at", "response_body_url", "_links"} <= set(batch)  # fmt: skip
    assert batch["status"] == "pending" and batch["total_operations"] == 6
    assert batch["response_body_url"] == ""
    seen = wait_finished(client, batch["id"])
    assert seen[0]["status"] == "pending", "a client has to poll"
    done = seen[-1]
    assert done["finished_operations"] == 6 and done["errored_operations"] == 3
    assert done["completed_at"] and done["response_body_url"].startswith(sandbox.url)
    by_id = {e["operation_id"]: e for e in results(done["response_body_url"])}
    assert set(by_id) == {unsubscribed, compliance, "batch.new@example.com", "read", "missing",
                          "nested"}  # fmt: skip
    kept = json.loads(by_id[unsubscribed]["response"])
    assert by_id[unsubscribed]["status_code"] == 200 and kept["status"] == "unsubscribed"
    assert kept["merge_fields"]["FNAME"] == "Kit"
    refused = json.loads(by_id[compliance]["response"])
    assert by_id[compliance]["status_code"] == 400
    assert refused["title"] == "Member In Compliance State"
    assert_shape(refused, payload("mailchimp_error_404_problem_json.json"))
    assert json.loads(by_id["batch.new@example.com"]["response"])["status"] == "subscribed"
    assert json.loads(by_id["read"]["response"])["merge_fields"]["FNAME"] == "Kit"
    assert by_id["missing"]["status_code"] == 404 and by_id["nested"]["status_code"] == 400
    # Consent stays Mailchimp's: no status change for the existing member.
    assert sandbox.state("mailchimp", "status_changes", id=unsubscribed)["count"] == 0
    listed = client.get("/batches").json()
    assert listed["total_items"] == 1 and listed["batches"][0]["id"] == batch["id"]
    assert sandbox.state("mailchimp", "batches")["items"][0]["status"] == "finished"


def test_a_batch_is_refused_as_mailchimp_refuses_it(sandbox):
    client, _list_id = mailchimp(sandbox)
    base = sandbox.discovery()["mailchimp"]["base_url"]
    bad_key = loopback.post(base + "/3.0/batches", json={"operations": []}, auth=("x", "0-us1"))
    assert bad_key.status_code == 401 and bad_key.json()["title"] == "API Key Invalid"
    for body in ({}, {"operations": {}}, {"operations": [{"method": "PUT"}]},
                 {"operations": [{"method": "PUT", "path": "/ping", "body": {"a": 1}}]},
                 {"operations": [{"method": "FETCH", "path": "/ping"}]}):  # fmt: skip
        refused = client.post("/batches", json=body)
        assert refused.status_code == 400, body
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["errors"], body
    missing = client.get("/batches/0000000000")
    assert missing.status_code == 404 and missing.json()["title"] == "Resource Not Found"


def test_past_the_pending_batch_limit_mailchimp_answers_429(sandbox):
    # Batches that stay pending for a minute, and a limit of 2 instead of 500.
    sandbox.configure(settings={"mailchimp_batches_pending_max": 2,
                                "mailchimp_batch_start_ms": 60_000})  # fmt: skip
    client, _list_id = mailchimp(sandbox)
    ops = {"operations": [{"method": "GET", "path": "/ping"}]}
    first, second = client.post("/batches", json=ops), client.post("/batches", json=ops)
    assert first.status_code == second.status_code == 200
    third = client.post("/batches", json=ops)
    assert third.status_code == 429
    assert third.headers["content-type"] == "application/problem+json"
    assert "pending" in third.json()["detail"]
    assert client.delete(f"/batches/{first.json()['id']}").status_code == 204
    assert client.get(f"/batches/{first.json()['id']}").status_code == 404
    assert client.post("/batches", json=ops).status_code == 200


def test_a_batch_runs_later_on_a_slow_clock_and_shows_its_progress(sandbox):
    # 5 ms an operation: 300 operations run in three visible steps of 0.5 s.
    sandbox.configure(settings={"mailchimp_batch_ms_per_operation": 5})
    client, list_id = mailchimp(sandbox)
    ops = [put_op(list_id, f"slow{i}@example.com", status_if_new="subscribed") for i in range(300)]
    batch = client.post("/batches", json={"operations": ops}).json()
    seen = wait_finished(client, batch["id"], timeout=20)
    started = [s for s in seen if s["status"] == "started"]
    assert started and any(0 < s["finished_operations"] < 300 for s in started)
    entries = results(seen[-1]["response_body_url"])
    assert len(entries) == 300 and {e["status_code"] for e in entries} == {200}


def test_the_results_url_answers_as_a_pre_signed_s3_url(sandbox):
    client, _list_id = mailchimp(sandbox)
    batch = client.post("/batches", json={"operations": [{"method": "GET", "path": "/ping"}]})
    url = wait_finished(client, batch.json()["id"])[-1]["response_body_url"]
    assert results(url)[0]["status_code"] == 200
    api_key = sandbox.discovery()["mailchimp"]["api_key"]
    with_key = loopback.get(url, auth=("x", api_key))
    assert with_key.status_code == 400 and b"InvalidArgument" in with_key.content
    forged = loopback.get(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"))
    assert forged.status_code == 403 and b"AccessDenied" in forged.content

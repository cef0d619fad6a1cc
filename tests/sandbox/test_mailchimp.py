"""Mailchimp on the sandbox: consent is Mailchimp's, batch limits, compliance state, 429s."""

from __future__ import annotations

import hashlib
import threading

import httpx

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
    answer = httpx.get(base + "/3.0/ping", auth=("anystring", "0000-us1"))
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
        answer = httpx.get(
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

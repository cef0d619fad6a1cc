"""Mailchimp's existing members go by batch operations: a handful of requests, consent untouched."""

from __future__ import annotations

import io
import json
import tarfile

import httpx
import pytest

from connectors.errors import RejectedError, TransientError
from connectors.mailchimp.client import subscriber_hash
from connectors.models import Connection
from connectors.registry import connector_for
from connectors.sandbox.connect import connect_to_sandbox

pytestmark = pytest.mark.django_db(transaction=True)


def mailchimp_connection(brand, sandbox) -> Connection:
    return next(
        c for c in connect_to_sandbox(brand, sandbox.discovery()) if c.system == "mailchimp"
    )


def test_5000_members_of_which_4000_exist_cost_a_handful_of_requests(sandbox, brand_a):
    entry = sandbox.discovery()["mailchimp"]
    facts = sandbox.seed_facts()["demo"]["mailchimp"]
    seeded = sandbox.state("mailchimp", "members", limit=10_000)["items"]
    status_before = {m["email_address"].lower(): m["status"] for m in seeded}
    # The audience already holds the seed's members (unsubscribed, cleaned and the one in
    # compliance state among them) and enough others to make 4,000.
    fill = [f"existing{i}@example.com" for i in range(4_000 - len(seeded))]
    direct = httpx.Client(base_url=entry["base_url"] + "/3.0", auth=("x", entry["api_key"]))
    for start in range(0, len(fill), 500):
        made = direct.post(
            f"/lists/{entry['list_id']}",
            json={"members": [{"email_address": e, "status": "subscribed"}
                              for e in fill[start : start + 500]]},
        )  # fmt: skip
        assert made.json()["total_created"] == len(fill[start : start + 500])
    existing = list(status_before) + fill
    new = [f"new{i}@example.com" for i in range(1_000)]
    members = [
        {"email_address": e, "merge_fields": {"FNAME": "Synced"}, "status_if_new": "subscribed"}
        for e in existing + new
    ]
    assert len(members) == 5_000
    changes_before = sandbox.state("mailchimp", "status_changes", limit=100_000)["count"]
    sandbox.reset_stats()

    with connector_for(mailchimp_connection(brand_a, sandbox)) as mc:
        result = mc.upsert_members(members)

    compliance = facts["compliance_email"].lower()
    # Refused alone (here already by the create call), everyone else through.
    assert set(result.failed) == {compliance}
    assert "compliance state" in result.failed[compliance].message
    assert len(result.ok) == 4_999 and compliance not in result.ok
    stats = sandbox.stats()["mailchimp"]
    # 10 creates of 500, 2 batches of up to 2,000 PUTs, and a few polls: not 4,000 PUTs.
    assert stats["by_method"].get("PUT", 0) == 0
    assert stats["by_method"]["POST"] == 12
    assert stats["requests"] <= 25, stats
    # Consent is Mailchimp's: the only status changes since are the 1,000 new members'.
    changes = sandbox.state("mailchimp", "status_changes", limit=100_000)["items"][changes_before:]
    assert len(changes) == 1_000 and all(c["from"] is None for c in changes)
    after = {
        m["email_address"].lower(): m
        for m in sandbox.state("mailchimp", "members", limit=10_000)["items"]
    }
    assert {e: after[e]["status"] for e in status_before} == status_before
    assert all(
        after[e]["merge_fields"]["FNAME"] == "Synced" for e in status_before if e != compliance
    )
    assert after[fill[-1]]["merge_fields"]["FNAME"] == "Synced"
    assert after[new[0]]["status"] == "subscribed"
    batches = direct.get("/batches").json()
    assert batches["total_items"] == 2
    assert all(b["status"] == "finished" for b in batches["batches"])
    assert sum(b["total_operations"] for b in batches["batches"]) == 3_999


# --- the protocol, replayed through httpx.MockTransport ----------------------------------


def archive(entries: list[dict]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = json.dumps(entries).encode()
        info = tarfile.TarInfo("batch/0.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def offline_connection(brand, **settings) -> Connection:
    return Connection.objects.create(
        brand=brand,
        system="mailchimp",
        base_url="https://us14.api.mailchimp.com",
        credentials={"api_key": "abc-us14"},
        settings={"list_id": "L1", "batch_poll_seconds": 0.01, **settings},
    )


def exists(*emails: str) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "errors": [{"email_address": e, "error_code": "ERROR_CONTACT_EXISTS"} for e in emails]
        },
    )


def test_an_operation_that_failed_for_a_passing_reason_is_sent_again(brand_a):
    """A 500 inside a batch is re-sent in a new batch; a 400 fails alone and is not."""
    flaky, refused = subscriber_hash("b@example.com"), subscriber_hash("c@example.com")
    batches: list[list[dict]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.url.host == "results.example.com":
            assert "authorization" not in request.headers
            number = int(path.strip("/").split(".")[0].removeprefix("b"))
            entries = []
            for op in batches[number - 1]:
                status = 200
                if op["operation_id"] == flaky and number == 1:
                    status = 500
                elif op["operation_id"] == refused:
                    status = 400
                body = {
                    "title": "Invalid Resource" if status == 400 else "Internal Server Error",
                    "detail": "no",
                    "errors": [{"field": "email_address", "message": "fake"}],
                }
                entries.append(
                    {
                        "status_code": status,
                        "operation_id": op["operation_id"],
                        "response": json.dumps(body) if status != 200 else "{}",
                    }
                )
            return httpx.Response(200, content=archive(entries))
        if path == "/3.0/lists/L1":
            return exists("a@example.com", "b@example.com", "c@example.com")
        if path == "/3.0/batches":
            batches.append(json.loads(request.content)["operations"])
            return httpx.Response(200, json={"id": f"b{len(batches)}", "status": "pending"})
        batch_id = path.rsplit("/", 1)[1]
        url = f"https://results.example.com/{batch_id}.tar.gz?sig=1"
        return httpx.Response(
            200, json={"id": batch_id, "status": "finished", "response_body_url": url}
        )  # fmt: skip

    conn = offline_connection(brand_a)
    members = [{"email_address": f"{x}@example.com", "status_if_new": "subscribed"} for x in "abc"]
    with connector_for(conn, transport=httpx.MockTransport(handler)) as mc:
        result = mc.upsert_members(members)
    assert len(batches) == 2
    assert [op["operation_id"] for op in batches[1]] == [flaky]
    assert sorted(result.ok) == ["a@example.com", "b@example.com"]
    assert list(result.failed) == ["c@example.com"]
    assert result.failed["c@example.com"].code == "Invalid Resource"
    assert "email_address: fake" in result.failed["c@example.com"].message


def test_a_batch_that_never_finishes_is_a_clear_transient_error(brand_a):
    conn = offline_connection(brand_a, batch_timeout_seconds=0.05)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/3.0/lists/L1":
            return exists("old@example.com")
        if request.url.path == "/3.0/batches":
            return httpx.Response(200, json={"id": "b9", "status": "pending"})
        return httpx.Response(
            200,
            json={"id": "b9", "status": "started", "total_operations": 1, "finished_operations": 0},
        )

    with connector_for(conn, transport=httpx.MockTransport(handler)) as mc:
        with pytest.raises(TransientError) as info:
            mc.upsert_members([{"email_address": "old@example.com", "status_if_new": "pending"}])
    assert info.value.code == "BATCH_TIMEOUT" and info.value.retryable
    assert "had not finished batch b9" in str(info.value)


def test_a_member_without_consent_fails_alone_and_is_never_sent(brand_a):
    """No `status_if_new`, no guess: that member fails with consent_unknown, the others go."""
    sent: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/3.0/lists/L1":
            sent.append(json.loads(request.content))
            return httpx.Response(200, json={"errors": []})
        raise AssertionError(f"unexpected {request.method} {request.url}")

    members = [
        {"email_address": "yes@example.com", "status_if_new": "subscribed"},
        {"email_address": "Unknown@example.com", "merge_fields": {"FNAME": "U"}},
        {"email_address": "blank@example.com", "status_if_new": ""},
        {"email_address": "no@example.com", "status_if_new": "unsubscribed"},
    ]
    with connector_for(offline_connection(brand_a), transport=httpx.MockTransport(handler)) as mc:
        result = mc.upsert_members(members)
        assert sorted(result.ok) == ["no@example.com", "yes@example.com"]
        assert set(result.failed) == {"unknown@example.com", "blank@example.com"}
        error = result.failed["unknown@example.com"]
        assert error.code == "consent_unknown" and "never guesses consent" in error.message
        [payload] = sent
        assert [m["email_address"] for m in payload["members"]] == [
            "yes@example.com",
            "no@example.com",
        ]
        assert [m["status"] for m in payload["members"]] == ["subscribed", "unsubscribed"]

        # The update path and the single PUT refuse the same way, before any call.
        update = mc.update_existing_members([{"email_address": "old@example.com"}])
        assert update.failed["old@example.com"].code == "consent_unknown" and not update.ok
        with pytest.raises(RejectedError) as info:
            mc.upsert_member({"email_address": "one@example.com"})
        assert info.value.code == "consent_unknown"
    assert len(sent) == 1

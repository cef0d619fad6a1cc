"""SOQL through the client and the sandbox: `GET /query?q=` then each `nextRecordsUrl` while
`done` is false (developer.salesforce.com/docs/platform/api-rest/guide/resources-query.html),
with the batch size asked in Sforce-Query-Options."""

from __future__ import annotations

import httpx
import pytest

from connectors.errors import RejectedError
from connectors.registry import connector_for
from connectors.sandbox.connect import connect_to_sandbox
from tests.sandbox.conftest import salesforce as raw_client

pytestmark = pytest.mark.django_db(transaction=True)


def connection(brand, sandbox):
    return next(
        c for c in connect_to_sandbox(brand, sandbox.discovery()) if c.system == "salesforce"
    )


def test_a_query_pages_through_next_records_url_in_the_batch_size_asked(sandbox, brand_a):
    records = [{"BP_Id__c": str(n), "Name": f"Account {n}", "Type": "Prospect"} for n in range(450)]
    with connector_for(connection(brand_a, sandbox), priority=True) as sf:
        assert len(sf.upsert("Account", "BP_Id__c", records).ok) == 450
        before = sf.stats.calls
        found = list(sf.query("SELECT Id, BP_Id__c, Name FROM Account", batch_size=200))
        assert sf.stats.calls - before == 3, "450 records in pages of 200"
    assert sorted(int(r["BP_Id__c"]) for r in found) == list(range(450))
    assert found[0]["attributes"]["type"] == "Account"
    assert found[0]["attributes"]["url"].endswith(found[0]["Id"])
    assert set(found[0]) == {"attributes", "Id", "BP_Id__c", "Name"}


def test_the_answers_are_the_documented_shape_and_filters_apply(sandbox, brand_a):
    with connector_for(connection(brand_a, sandbox), priority=True) as sf:
        sf.upsert("Account", "BP_Id__c", [{"BP_Id__c": str(n), "Name": f"A{n}"} for n in range(5)])
    client = raw_client(sandbox)
    first = client.get(
        "/query",
        params={"q": "SELECT Name FROM Account WHERE BP_Id__c IN ('1','3') ORDER BY Name DESC"},
    ).json()
    assert first["totalSize"] == 2 and first["done"] is True and "nextRecordsUrl" not in first
    assert [r["Name"] for r in first["records"]] == ["A3", "A1"]
    later = client.get(
        "/query",
        params={"q": "SELECT Id FROM Account WHERE SystemModstamp > 2000-01-01T00:00:00Z LIMIT 4"},
    ).json()
    assert later["totalSize"] == 4
    none = client.get(
        "/query", params={"q": "SELECT Id FROM Account WHERE SystemModstamp > 2999-01-01T00:00:00Z"}
    ).json()
    assert none == {"totalSize": 0, "done": True, "records": []}


def test_a_query_the_org_cannot_read_is_malformed(sandbox, brand_a):
    answer = raw_client(sandbox).get("/query", params={"q": "SELEKT Id FROM Account"})
    assert answer.status_code == 400
    assert answer.json()[0]["errorCode"] == "MALFORMED_QUERY"
    with connector_for(connection(brand_a, sandbox), priority=True) as sf:
        with pytest.raises(RejectedError) as raised:
            list(sf.query("SELECT Id FROM Account WHERE"))
    assert raised.value.code == "MALFORMED_QUERY"


def test_the_client_follows_next_records_url_to_the_instance(brand_a):
    from connectors.models import Connection
    from connectors.salesforce.auth import ACCESS_TOKEN

    conn = Connection.objects.create(
        brand=brand_a,
        system="salesforce",
        base_url="https://acme.my.salesforce.com",
        credentials={"client_id": "3MVG9.key", "client_secret": "S3CRET", ACCESS_TOKEN: "T0KEN"},
    )
    pages = {
        "/services/data/v61.0/query": {
            "totalSize": 3,
            "done": False,
            "nextRecordsUrl": "/services/data/v61.0/query/01gD0000002HU6KIAW-2",
            "records": [{"Id": "1"}, {"Id": "2"}],
        },
        "/services/data/v61.0/query/01gD0000002HU6KIAW-2": {
            "totalSize": 3,
            "done": True,
            "records": [{"Id": "3"}],
        },
    }
    seen = []

    def org(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=pages[request.url.path])

    with connector_for(conn, transport=httpx.MockTransport(org)) as sf:
        assert [r["Id"] for r in sf.query("SELECT Id FROM Account")] == ["1", "2", "3"]
    assert (
        seen[1] == "https://acme.my.salesforce.com/services/data/v61.0/query/01gD0000002HU6KIAW-2"
    )

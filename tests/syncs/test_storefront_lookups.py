"""The storefront orders' look-ups in a few Brightpearl calls a batch (connectors/brightpearl/
lookups.py): orders by external ref through one creation window, customers through one contact
index; never a duplicate order or customer, lost answers included; and never more calls than
one search a key (plus one) when a window is too wide."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.brightpearl.lookups import ContactEmailIndex, OrderRefIndex
from syncs.services import flow_run_now
from tests.contract.scenarios import BC_TO_BP, items, value_maps
from tests.contract.test_flow_contract import converge
from tests.fixtures import loopback

FLOW = "storefront_orders"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_cache")
def test_new_customers_are_created_once_under_lost_answers(sandbox, live_brand):
    value_maps(live_brand, "bc_order_status", BC_TO_BP)
    flow_run_now(brand=live_brand, flow=FLOW, full=True)
    sku = str(items(sandbox, "bigcommerce", "order_products", id="101")[0][0]["sku"])
    placed = []
    # Three new shoppers, each ordering twice: the second order finds the first's customer.
    for n in range(6):
        answer = loopback.post(
            f"{sandbox.url}/_sandbox/bigcommerce/orders",
            json={"lines": [{"sku": sku, "quantity": 1}], "email": f"new.{n % 3}@example.com"},
        )
        answer.raise_for_status()
        placed.append(str(answer.json()["id"]))
    sandbox.set_faults("brightpearl", lost_write_rate=0.34, seed=11)
    converge(live_brand, FLOW)
    lost = sandbox.stats()["brightpearl"]["faults"].get("lost_write", 0)
    sandbox.clear_faults()
    converge(live_brand, FLOW)

    assert lost > 0
    assert sandbox.duplicates("brightpearl", created_after_seed=True)["count"] == 0
    orders = [o for o in items(sandbox, "brightpearl", "orders", type=1) if o.get("externalRef")]
    assert {o["externalRef"] for o in orders} >= set(placed)
    contacts = [
        c
        for c in items(sandbox, "brightpearl", "contacts")
        if str((c.get("communication") or {}).get("emails", {}).get("PRI", {}).get("email", ""))
        .lower()
        .startswith("new.")
    ]
    assert len(contacts) == 3


class Stub:
    """A Brightpearl client whose search answers `total` rows a window, counting calls."""

    def __init__(self, rows: list[list], total: int | None = None) -> None:
        self.rows = rows
        self.total = len(rows) if total is None else total
        self.searches: list[dict] = []
        self.one_by_one: list[str] = []
        self.http = self

    def json(self, method: str, path: str, params: dict) -> dict:
        self.searches.append(params)
        first = params["firstResult"]
        page = self.rows[first - 1 : first - 1 + params["pageSize"]]
        return {
            "response": {
                "results": page,
                "metaData": {
                    "resultsAvailable": self.total,
                    "morePagesAvailable": first - 1 + len(page) < len(self.rows),
                    "lastResult": first - 1 + len(page),
                    "columns": [{"name": "orderId"}, {"name": "externalRef"}],
                },
            }
        }

    def order_ids_by_external_ref(self, refs) -> dict[str, int]:
        self.one_by_one.extend(refs)
        return {}


NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_one_window_answers_a_batch_then_one_call_a_batch():
    bp = Stub([[100 + n, str(500 + n)] for n in range(40)])
    index = OrderRefIndex(bp, now=lambda: NOW)
    refs = {str(500 + n): NOW - timedelta(hours=2) for n in range(0, 40, 2)}
    refs["999"] = NOW - timedelta(hours=1)  # not in Brightpearl

    found = index.find(refs)

    assert found == {str(500 + n): 100 + n for n in range(0, 40, 2)}
    assert len(bp.searches) == 1 and not bp.one_by_one
    assert bp.searches[0]["createdOn"].endswith("/") and bp.searches[0]["orderTypeId"] == 1
    # The next batch: only what was created since the last read (less the margin).
    index.find({"501": NOW - timedelta(minutes=30), "503": NOW - timedelta(minutes=20)})
    assert len(bp.searches) == 2 and not bp.one_by_one
    assert bp.searches[1]["createdOn"].startswith((NOW - index.margin).isoformat()[:19])


def test_a_window_wider_than_its_keys_is_asked_key_by_key():
    bp = Stub([[1, "x"]], total=500 * 30)  # 30 pages for 3 keys
    index = OrderRefIndex(bp, now=lambda: NOW)

    index.find({"a": NOW - timedelta(days=400), "b": NOW, "c": NOW})

    assert len(bp.searches) == 1 and sorted(bp.one_by_one) == ["a", "b", "c"]
    # A ref with no date, or a lone ref (a webhook's one order), is asked by itself.
    index.find({"d": None})
    index.find({"e": NOW})
    assert bp.one_by_one[-2:] == ["d", "e"] and len(bp.searches) == 1


class ContactStub(Stub):
    def __init__(self, rows, total=None):
        super().__init__(rows, total)
        self.asked: list[str] = []

    def json(self, method, path, params):
        body = super().json(method, path, params)
        body["response"]["metaData"]["columns"] = [{"name": "contactId"}, {"name": "primaryEmail"}]
        return body

    def contact_ids_by_email(self, email: str) -> list[int]:
        self.asked.append(email)
        return []


def test_the_contact_index_follows_an_email_change_and_gives_up_when_too_wide():
    bp = ContactStub([[7, "Ann@Example.com"], [8, "bob@example.com"]])
    index = ContactEmailIndex(bp, now=lambda: NOW)
    assert index.find(["ann@example.com", "new@example.com"]) == {
        "ann@example.com": 7,
        "new@example.com": None,
    }
    bp.rows = [[7, "ann.smith@example.com"]]  # Ann changed her e-mail since
    found = index.find(["ann@example.com", "bob@example.com"])
    assert found == {"ann@example.com": None, "bob@example.com": 8}
    assert "updatedOn" in bp.searches[-1]

    wide = ContactStub([[1, "a@example.com"]], total=500 * 10)
    index = ContactEmailIndex(wide, now=lambda: NOW)
    index.find(["x@example.com", "y@example.com"])
    index.find(["z@example.com", "w@example.com"])
    # Too wide once: no second try in the run, each email searched by itself.
    assert len(wide.searches) == 1
    assert wide.asked == ["x@example.com", "y@example.com", "w@example.com", "z@example.com"]
    # One e-mail alone is searched by itself, without reading the index.
    lone = ContactStub([[1, "a@example.com"]])
    ContactEmailIndex(lone, now=lambda: NOW).find(["a@example.com"])
    assert lone.searches == [] and lone.asked == ["a@example.com"]

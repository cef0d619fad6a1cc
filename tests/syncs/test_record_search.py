"""Find a record: by any system's id, by e-mail, by a key a create was made by, by an order
reference asked of Brightpearl; only ever in the person's own brands."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from brands.models import Brand
from connectors.models import RateBudget
from syncs import record_search
from syncs.models import RecordState
from syncs.record_search import records_find
from tests.fixtures.records import link, synced_contact, synced_order, waiting_order


# --- after a real sync against the sandbox -------------------------------------------------
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_cache")
class TestAfterASync:
    def test_an_order_by_its_brightpearl_id_and_by_its_ometria_id(self, synced_brand, ops_user):
        order = RecordState.objects.filter(flow="order_lifecycle", status="synced").first()
        found = records_find(user=ops_user, query=order.source_id)
        assert [f.entity.title for f in found.results] == [f"Order {order.source_id}"]
        hit = found.results[0]
        assert hit.entity.systems == [
            f"Brightpearl {order.source_id}",
            f"Ometria {order.target_id}",
        ]
        assert hit.how == "its Brightpearl order id"
        assert hit.entity.status == "synced"
        assert order.last_pushed["email"] in hit.entity.headline

    def test_a_shipment_by_its_ometria_id(self, synced_brand, ops_user):
        note = RecordState.objects.filter(flow="shipments", status="synced").first()
        found = records_find(user=ops_user, query=f"gon-{note.source_id}")
        assert [f.entity.title for f in found.results] == [f"Shipment {note.source_id}"]
        assert found.results[0].entity.systems == [
            f"Brightpearl {note.source_id}",
            f"Ometria gon-{note.source_id}",
        ]
        assert found.results[0].how == "its Ometria shipment id"

    def test_a_contact_by_id_and_by_email_with_the_orders_that_name_it(
        self, sandbox, synced_brand, ops_user
    ):
        facts = sandbox.seed_facts()["demo"]["brightpearl"]
        vip = str(facts["vip_contact_id"])
        state = RecordState.objects.get(flow="customers", source_id=vip)
        by_id = records_find(user=ops_user, query=vip)
        assert [f.entity.title for f in by_id.results] == [f"Contact {vip}"]

        by_email = records_find(user=ops_user, query=state.match_key.upper())
        titles = [f.entity.title for f in by_email.results]
        assert titles[0] == f"Contact {vip}"
        assert by_email.results[0].how == "its e-mail address"
        orders = RecordState.objects.filter(
            flow="order_lifecycle", last_pushed__email__iexact=state.match_key
        )
        assert orders.exists()
        assert {f"Order {o.source_id}" for o in orders} <= set(titles)
        assert {f.how for f in by_email.results[1:]} == {"its customer's e-mail address"}

    def test_an_order_reference_is_asked_of_brightpearl(self, synced_brand, ops_user):
        found = records_find(user=ops_user, query="#10002")
        assert found.asked_brightpearl == ["Acme Apparel"]
        assert [f.entity.title for f in found.results] == ["Order 10002"]
        assert "Brightpearl reference" in found.results[0].how
        assert found.notes == []

    def test_a_reference_of_an_order_no_flow_has_read_says_so(self, live_brand, ops_user):
        found = records_find(user=ops_user, query="#10002")
        assert found.results == []
        assert [(u.kind, u.external_id) for u in found.unlinked] == [("order", "10002")]
        assert "holds nothing for it yet" in found.unlinked[0].sentence

    def test_a_slow_brightpearl_is_named_in_a_note_and_not_waited_for(
        self, sandbox, synced_brand, ops_user, monkeypatch
    ):
        monkeypatch.setattr(record_search, "LIVE_TIMEOUT", 0.3)
        sandbox.set_faults("brightpearl", latency_ms=3000)
        started = time.monotonic()
        found = records_find(user=ops_user, query="#10002")
        assert time.monotonic() - started < 2.5
        assert found.results == []
        assert len(found.notes) == 1
        assert "Acme Apparel's Brightpearl could not be asked" in found.notes[0]
        assert "did not answer within 0.3 seconds" in found.notes[0]

    def test_a_brightpearl_that_is_down_is_named_in_a_note(self, sandbox, synced_brand, ops_user):
        sandbox.set_faults("brightpearl", outage_seconds=30)
        found = records_find(user=ops_user, query="#10002")
        assert found.results == []
        assert "could not be asked" in found.notes[0]

    def test_a_spent_allowance_is_not_waited_for(self, synced_brand, ops_user):
        RateBudget.objects.filter(brand=synced_brand, system="brightpearl").update(
            remaining=0, resets_at=time.time() + 60
        )
        started = time.monotonic()
        found = records_find(user=ops_user, query="#10002")
        assert time.monotonic() - started < 2
        assert "allowance of requests is used up" in found.notes[0]


# --- made directly, as the engine leaves them ----------------------------------------------
pytestmark = pytest.mark.django_db


def test_a_bigcommerce_order_number_and_a_create_in_flight(brand_a, ops_user):
    bc = link(brand_a, "order", "bigcommerce", "120")
    link(
        brand_a,
        "order",
        "brightpearl",
        "",
        entity=bc.entity,
        create_key="storefront_orders:120",
        natural_key="BC-120",
        create_started=timezone.now(),
    )
    found = records_find(user=ops_user, query="120")
    assert [f.entity.title for f in found.results] == ["Order 120"]
    assert found.results[0].entity.systems == ["BigCommerce 120", "Brightpearl (being created)"]
    assert found.results[0].how == "its BigCommerce order id"
    # The key the create was made by finds it too (its reference in Brightpearl).
    by_key = records_find(user=ops_user, query="bc-120")
    assert [f.entity.title for f in by_key.results] == ["Order 120"]
    assert by_key.results[0].how == "the key Brightpearl was asked to create it by"


def test_an_order_whose_state_lost_its_link_is_still_found_by_email(brand_a, ops_user):
    # A refund records its order's state without the order's link (syncs/batches.py).
    source, _, state = synced_order(brand_a, "10001", email="Ann@Example.com")
    RecordState.objects.filter(pk=state.pk).update(link=None)
    found = records_find(user=ops_user, query="ann@example.com")
    assert [f.entity.key for f in found.results] == [source.entity]
    assert found.results[0].entity.states[0].pk == state.pk


def test_contact_1001_and_order_1001_are_two_results(brand_a, ops_user):
    synced_order(brand_a, "1001")
    synced_contact(brand_a, "1001", "kim@example.com")
    found = records_find(user=ops_user, query="1001")
    assert [f.entity.title for f in found.results] == ["Order 1001", "Contact 1001"]


def test_a_waiting_order_shows_why(brand_a, ops_user):
    waiting_order(brand_a, "10011")
    [hit] = records_find(user=ops_user, query="10011").results
    assert hit.entity.status == "waiting"
    assert "Awaiting gift wrap" in hit.entity.held.detail


def test_nothing_typed_finds_nothing(brand_a, ops_user):
    synced_order(brand_a, "10001")
    assert records_find(user=ops_user, query="   ").results == []


class TestTenantWalls:
    def test_another_brands_records_are_never_found(self, brand_a, brand_b, ops_user, bravo_user):
        synced_order(brand_a, "10001", email="ann@example.com")
        theirs, _, _ = synced_order(brand_b, "10001", email="ann@example.com")
        for query in ("10001", "ann@example.com"):
            mine = records_find(user=ops_user, query=query)
            assert {f.entity.brand.slug for f in mine.results} == {"acme"}
            other = records_find(user=bravo_user, query=query)
            assert [f.entity.key for f in other.results] == [theirs.entity]
            assert {f.entity.brand.slug for f in other.results} == {"bravo"}

    def test_choosing_a_brand_that_is_not_yours_is_refused(self, brand_a, brand_b, ops_user):
        synced_order(brand_b, "10001")
        with pytest.raises(Brand.DoesNotExist):
            records_find(user=ops_user, query="10001", brand="bravo")

    def test_a_reference_is_not_asked_of_another_brands_brightpearl(
        self, brand_a, brand_b, ops_user, monkeypatch
    ):
        from connectors.models import Connection

        Connection.objects.create(brand=brand_b, system="brightpearl", base_url="http://x")
        asked = []
        monkeypatch.setattr(record_search, "_ask_brightpearl", lambda c, r: asked.append(c))
        found = records_find(user=ops_user, query="#1")
        assert asked == [] and found.asked_brightpearl == []


def test_brightpearl_is_asked_only_when_nothing_held_matches(brand_a, ops_user, monkeypatch):
    from connectors.models import Connection

    Connection.objects.create(brand=brand_a, system="brightpearl", base_url="http://x")
    synced_order(brand_a, "10001")
    asked = []
    monkeypatch.setattr(record_search, "_ask_brightpearl", lambda c, r: asked.append(r) or [])
    assert records_find(user=ops_user, query="10001").results
    assert records_find(user=ops_user, query="someone@example.com").results == []
    assert asked == []
    records_find(user=ops_user, query="#10001")
    assert asked == ["#10001"]

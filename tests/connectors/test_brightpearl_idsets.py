"""Brightpearl id sets kept compact, and checked against Brightpearl in few lookups."""

from __future__ import annotations

import httpx
import pytest

from connectors.brightpearl.client import Brightpearl as Client
from connectors.brightpearl.idsets import idset_chunks, idset_text, known_ids, parse_idset
from connectors.models import Connection
from connectors.webhooks import ids_count, ids_expand


class Brightpearl:
    """A lookup that records each call and knows the ids in `has`."""

    def __init__(self, has: set[int]) -> None:
        self.has = has
        self.calls: list[str] = []

    def __call__(self, items) -> set[int]:
        self.calls.append(idset_text(items))
        return {n for n in ids_expand(items) if n in self.has}


def test_ranges_are_counted_and_expanded_without_a_list():
    items = parse_idset("1-10000,20000")
    assert items == [[1, 10000], 20000]
    assert ids_count(items) == 10_001
    assert idset_text(items) == "1-10000,20000"
    first = ids_expand([[1, 10**12]])  # a trillion ids: nothing is built up front
    assert [next(first) for _ in range(3)] == [1, 2, 3]


def test_chunks_split_ranges_by_ids_and_by_text():
    assert list(idset_chunks([[1, 1200]], max_ids=500, max_chars=100)) == [
        [[1, 500]],
        [[501, 1000]],
        [[1001, 1200]],
    ]
    scattered = list(range(1, 2000, 2))  # 1,3,5…: long text, few ids
    chunks = list(idset_chunks(scattered, max_ids=10**9, max_chars=200))
    assert all(len(idset_text(c)) <= 200 for c in chunks)
    assert [n for c in chunks for n in ids_expand(c)] == scattered


def test_an_unknown_id_set_costs_one_lookup_however_it_is_spelt():
    brightpearl = Brightpearl(has={5})
    # Ten thousand scattered ids: ~60 KB of text, thirty chunks' worth.
    junk = parse_idset(",".join(str(n) for n in range(1_000_001, 1_020_001, 2)))
    found = known_ids([junk], brightpearl, max_ids=10**9, max_chars=2_000)
    assert found == [set()]
    assert len(brightpearl.calls) == 1


def test_small_id_sets_share_one_lookup_and_each_keeps_its_own_ids():
    brightpearl = Brightpearl(has={10, 11, 30})
    sets = [parse_idset("10"), parse_idset("11-12"), parse_idset("30,31"), parse_idset("99")]
    found = known_ids(sets, brightpearl, max_ids=500, max_chars=2_000)
    assert found == [{"10"}, {"11"}, {"30"}, set()]
    assert brightpearl.calls == ["10-12,30-31,99"]


def test_a_large_set_with_real_ids_is_read_until_a_chunk_finds_nothing():
    brightpearl = Brightpearl(has=set(range(1, 1001)))
    found = known_ids([parse_idset("1-5000")], brightpearl, max_ids=500, max_chars=2_000)
    assert found == [{str(n) for n in range(1, 1001)}]
    # 1-500 and 501-1000 found ids; 1001-1500 found none, so 1501-5000 was not asked.
    assert brightpearl.calls == ["1-500", "501-1000", "1001-1500"]


@pytest.mark.django_db
def test_a_404_for_unknown_goods_out_notes_means_none_exist(brand_a):
    # Brightpearl may answer a GET naming only missing ids with 404, not an empty map.
    asked: list[str] = []

    def brightpearl(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        return httpx.Response(
            404, json={"errors": [{"code": "CMNC-404", "message": "Resource not found"}]}
        )

    connection = Connection.objects.create(
        brand=brand_a,
        system="brightpearl",
        base_url="https://bp.invalid",
        credentials={"app_ref": "a", "account_token": "t"},
        settings={"account": "acme"},
    )
    with Client(connection, transport=httpx.MockTransport(brightpearl)) as bp:
        assert bp.existing_ids("goods-out-note", [[700001, 700100]]) == set()
    assert asked == [
        "/public-api/acme/warehouse-service/order/*/goods-note/goods-out/700001-700100"
    ]

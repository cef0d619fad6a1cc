"""BigCommerce's variants batch (`PUT /v3/catalog/variants`, 50 a call), replayed through
httpx.MockTransport with the spec's documented 422 shape (`{batch_errors:[{status, title, type,
errors}]}`, bc/product-variants_catalog.v3.yml): one refused variant never sinks its batch,
whether its title names it or not."""

from __future__ import annotations

import json

import httpx
import pytest

from connectors.bigcommerce.catalog import set_variant_prices, variants
from connectors.models import Connection
from connectors.registry import connector_for

pytestmark = pytest.mark.django_db

BAD = 1007


def store(brand) -> Connection:
    return Connection.objects.create(
        brand=brand,
        system="bigcommerce",
        base_url="https://api.bigcommerce.com",
        credentials={"access_token": "bc-access-token-0123456789"},
        settings={"store_hash": "abc123"},
    )


def items(n: int) -> list[dict]:
    return [{"id": 1000 + i, "sku": f"SKU-{i}", "price": 10.0 + i} for i in range(n)]


def refusing(title: str, calls: list[list[int]]):
    def vendor(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        ids = [v["id"] for v in body]
        calls.append(ids)
        assert all("sku" not in v for v in body), "the SKU is the console's key, not sent"
        if BAD in ids:
            error = {"status": 422, "title": title.format(id=BAD), "type": "/docs", "errors": {}}
            return httpx.Response(422, json={"batch_errors": [error]})
        return httpx.Response(200, json={"data": body, "meta": {}})

    return vendor


@pytest.mark.parametrize(
    "title,most_calls",
    [
        # Named: set aside, and the other 49 sent again at once.
        ("Variant {id} was not found", 3),
        # Not named: halved until it stands alone (about log2(50) more calls).
        ("The request contains invalid data", 16),
    ],
)
def test_one_refused_variant_never_sinks_its_batch(brand_a, title, most_calls):
    calls: list[list[int]] = []
    with connector_for(store(brand_a), transport=httpx.MockTransport(refusing(title, calls))) as bc:
        result = set_variant_prices(bc, items(60))
    assert set(result.failed) == {"SKU-7"}
    assert sorted(result.ok) == sorted(f"SKU-{i}" for i in range(60) if i != 7)
    assert max(len(c) for c in calls) == 50
    assert len(calls) <= most_calls
    written = [i for c in calls for i in c if BAD not in c]
    assert sorted(written) == sorted(i for i in range(1000, 1060) if i != BAD), "once each"


def test_every_variant_is_listed_page_by_page(brand_a):
    pages = []

    def vendor(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        pages.append((page, request.url.params["limit"]))
        data = [{"id": page * 1000 + i, "sku": f"P{page}-{i}"} for i in range(2)]
        meta = {"pagination": {"total": 6, "count": 2, "per_page": 2, "current_page": page,
                               "total_pages": 3}}  # fmt: skip
        return httpx.Response(200, json={"data": data, "meta": meta})

    with connector_for(store(brand_a), transport=httpx.MockTransport(vendor)) as bc:
        listed = list(variants(bc))
    assert len(listed) == 6 and pages == [(1, "250"), (2, "250"), (3, "250")]

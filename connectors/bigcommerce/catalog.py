"""BigCommerce's catalog variants, read and priced (catalog v3; `vendors/bigcommerce/
product-variants_catalog.v3.yml`).

Every product has at least its base variant, and every SKU on the storefront is a variant's,
so prices are read and written per variant:

- `GET /v3/catalog/variants?page=&limit=` (`getVariants`) lists them all, `{data:[{id,
  product_id, sku, price, sale_price, retail_price, calculated_price, …}], meta:{pagination}}`;
  `?sku=` filters one SKU.
- `PUT /v3/catalog/variants` (`updateVariantsBatch`) takes an array of at most 50 `{id, …}`.
  Its 422 is `{batch_errors:[{status, title, type, errors:{}}]}`. The spec does not say whether
  the rest of the batch is written when one variant is refused: it is taken as refused whole
  (nothing written), and the variants a title names are set aside and the rest sent again;
  a refusal naming none is split in halves until each bad variant stands alone.

The products batch (`PUT /v3/catalog/products`, 10 a call) would take five times the calls
and prices only a product's base variant, so variants it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from connectors.bigcommerce.client import problem_title
from connectors.errors import RejectedError
from connectors.http import BatchResult, RecordError, chunks

PRICE_FIELDS = ("price", "sale_price", "retail_price")
# Variants a page when listing (the catalog's largest page) and a batch PUT (documented: 50).
PAGE_SIZE = 250
PUT_SIZE = 50
FIELDS = "sku,product_id," + ",".join(PRICE_FIELDS)
# A batch error's title naming its variant ("Variant 1234 …", "variant_id 1234").
VARIANT_NAMED = re.compile(r"(?i)\bvariant(?:_id| id)?[ :#\[]*(\d+)")


def variants(bc: Any, skus: Iterable[str] | None = None) -> Iterator[dict]:
    """The store's variants (id, product_id, sku and the price fields): every one, page by
    page, or those with these SKUs (one filtered GET each: the spec filters one SKU)."""
    if skus is not None:
        for sku in skus:
            body = bc.http.json(
                "GET", "/v3/catalog/variants", params={"sku": sku, "include_fields": FIELDS}
            )
            yield from (body or {}).get("data") or []
        return
    page = 1
    while True:
        body = (
            bc.http.json(
                "GET",
                "/v3/catalog/variants",
                params={"page": page, "limit": PAGE_SIZE, "include_fields": FIELDS},
            )
            or {}
        )
        yield from body.get("data") or []
        pagination = (body.get("meta") or {}).get("pagination") or {}
        if page >= int(pagination.get("total_pages") or 1):
            return
        page += 1


def skus_on_sale(bc: Any) -> set[str]:
    """The SKUs of variants with a sale price: a `sale_price` above 0 is what the shopper pays
    (product-variants_catalog.v3.yml). The list has no filter for it: every page."""
    return {
        str(v["sku"]) for v in variants(bc) if v.get("sku") and float(v.get("sale_price") or 0) > 0
    }


def set_variant_prices(bc: Any, items: Iterable[dict]) -> BatchResult:
    """Write prices: items `{id, sku, price?, sale_price?, retail_price?}`, 50 a call. The
    result is keyed by SKU; a refused variant never stops the others of its call."""
    result = BatchResult()
    for batch in chunks(list(items), PUT_SIZE):
        parts = [batch]
        while parts:
            part = parts.pop()
            body = [{k: v for k, v in item.items() if k != "sku"} for item in part]
            try:
                bc.http.request("PUT", "/v3/catalog/variants", json_body=body, batch_size=len(part))
            except RejectedError as exc:
                if exc.status != 422:
                    raise
                named = _named(exc, part)
                if named and len(named) < len(part):
                    _refused([part[i] for i in sorted(named)], exc, result)
                    parts.append([item for i, item in enumerate(part) if i not in named])
                elif len(part) == 1 or named:
                    _refused(part, exc, result)
                else:
                    middle = len(part) // 2
                    parts += [part[middle:], part[:middle]]
                continue
            result.ok.extend(str(item["sku"]) for item in part)
    return result


def _titles(exc: RejectedError) -> list[str]:
    details = exc.details if isinstance(exc.details, dict) else {}
    titles = [str(e.get("title") or "") for e in details.get("batch_errors") or []]
    return [t for t in titles if t] or [problem_title(exc)]


def _named(exc: RejectedError, part: list[dict]) -> set[int]:
    ids = {int(m) for title in _titles(exc) for m in VARIANT_NAMED.findall(title)}
    return {i for i, item in enumerate(part) if int(item["id"]) in ids}


def _refused(items: list[dict], exc: RejectedError, result: BatchResult) -> None:
    titles = _titles(exc)
    for item in items:
        mine = [t for t in titles if str(item["id"]) in t]
        reason = "; ".join(mine or titles) or str(exc)
        result.failed[str(item["sku"])] = RecordError("rejected", reason)

"""BigCommerce v3 catalog (products, variants) and inventory."""

from __future__ import annotations

import json
import uuid
from typing import Any

from connectors.bigcommerce.fake.base import BigCommerceBase, route
from connectors.bigcommerce.fake.constants import DOCS_TYPE, V, pagination, v3_error
from connectors.bigcommerce.fake.records import inventory_rec, location_doc, variant_rec
from connectors.sandbox.core import PROBLEM_JSON, Request, Response, dumps, json_response, raw_json


class CatalogRoutes(BigCommerceBase):
    """/v3/catalog/products|variants and /v3/inventory/…."""

    # --- v3 catalog and inventory --------------------------------------------------------

    def _catalog(self, req: Request, kind: str) -> Response:
        where, params = [], []
        sku = req.q("sku")
        if sku:
            where.append("lookup = ?")
            params.append(sku.lower())
        sku_in = req.q("sku:in")
        if sku_in:
            skus = [s.strip().lower() for s in sku_in.split(",") if s.strip()]
            where.append(f"lookup IN ({','.join('?' * len(skus))})")
            params.extend(skus)
        ids_in = req.q("id:in") or req.q("id")
        if ids_in:
            ids = [int(i) for i in ids_in.split(",") if i.strip()]
            where.append(f"num IN ({','.join('?' * len(ids))})")
            params.extend(ids)
        if kind == "variant" and req.q("product_id:in"):
            pids = [p.strip() for p in (req.q("product_id:in") or "").split(",") if p.strip()]
            where.append(f"parent IN ({','.join('?' * len(pids))})")
            params.extend(pids)
        page = max(int(req.q("page") or 1), 1)
        limit = min(int(req.q("limit") or 50), 250)
        store = self.app.store
        where_sql = " AND ".join(where)
        total = store.count(V, req.account.code, kind, where_sql, params)
        rows = store.rows(
            V,
            req.account.code,
            kind,
            where_sql,
            params,
            "data",
            "num",
            limit=limit,
            offset=(page - 1) * limit,
        )
        meta = pagination(total, len(rows), limit, page)
        return raw_json(
            '{"data":[' + ",".join(r[0] for r in rows) + '],"meta":' + dumps(meta) + "}"
        )

    @route("GET", r"/v3/catalog/products")
    def products_get(self, req: Request) -> Response:
        return self._catalog(req, "product")

    @route("GET", r"/v3/catalog/variants")
    def variants_get(self, req: Request) -> Response:
        return self._catalog(req, "variant")

    @route("PUT", r"/v3/catalog/variants")
    def variants_put(self, req: Request) -> Response:
        body = req.json()
        if not isinstance(body, list):
            return v3_error(422, "The request body must be an array of variants.")
        limit = self.app.settings.bigcommerce_variants_max
        if len(body) > limit:
            return json_response(
                {
                    "errors": {},
                    "status": 413,
                    "title": "The request payload is too large. The maximum items allowed in "
                    f"the array is {limit}",
                    "type": "/api-docs/getting-started/api-status-codes",
                },
                413,
            )
        store = self.app.store
        code = req.account.code
        updated, errors = [], []
        for item in body:
            variant = store.get_json(V, code, "variant", item.get("id")) if item.get("id") else None
            if variant is None:
                errors.append(_batch_error(f"Variant {item.get('id')} was not found", "id"))
                continue
            negative = [
                f
                for f in ("price", "sale_price", "retail_price", "cost_price")
                if isinstance(item.get(f), int | float) and item[f] < 0
            ]
            if negative:
                # The spec's `minimum: 0` on every price field.
                errors.append(
                    _batch_error(
                        f"Variant {item['id']}: {negative[0]} must be 0 or more", negative[0]
                    )
                )
                continue
            for key, value in item.items():
                if key in variant and key not in ("id", "product_id"):
                    variant[key] = value
            updated.append(variant)
        if errors:
            # The spec documents 422 `{batch_errors:[…]}` and no partial answer: the sandbox
            # refuses the whole batch and writes none of it (see the README).
            return json_response({"batch_errors": errors}, 422)
        for variant in updated:
            if variant.get("price") is not None:
                variant["calculated_price"] = variant.get("sale_price") or variant["price"]
            store.put(variant_rec(code, variant))
        return json_response({"data": updated, "meta": {}})

    @route("PUT", r"/v3/inventory/adjustments/absolute")
    def inventory_absolute(self, req: Request) -> Response:
        body = req.json()
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            return v3_error(422, "items is required", PROBLEM_JSON)
        limit = self.app.settings.bigcommerce_inventory_max
        if len(items) > limit:
            # The docs give the limit but not the answer; the sandbox answers 422 problem+json.
            return v3_error(
                422,
                f"The maximum number of items per request is {limit}; got {len(items)}.",
                PROBLEM_JSON,
            )
        store = self.app.store
        code = req.account.code
        known = {loc["id"] for loc in self._locations(code)}
        resolved = []
        for item in items:
            variant = None
            if item.get("variant_id"):
                variant = store.get_json(V, code, "variant", item["variant_id"])
                identity = f"variant_id {item['variant_id']}"
            elif item.get("sku"):
                found = store.rows(
                    V, code, "variant", "lookup = ?", (str(item["sku"]).lower(),), "data"
                )
                variant = json.loads(found[0][0]) if found else None
                identity = f"sku {item['sku']}"
            elif item.get("product_id"):
                found = store.rows(
                    V, code, "variant", "parent = ?", (str(item["product_id"]),), "data"
                )
                variant = json.loads(found[0][0]) if found else None
                identity = f"product_id {item['product_id']}"
            else:
                return v3_error(
                    422,
                    "Every item needs location_id and one of sku, variant_id or product_id",
                    PROBLEM_JSON,
                )
            quantity = item.get("quantity")
            if variant is None:
                return v3_error(422, f"Items with identity: [{identity}] not found", PROBLEM_JSON)
            if item.get("location_id") and int(item["location_id"]) not in known:
                # A guess: the docs show no answer for a location the store lacks. It names
                # the location, not an item, as a whole-call 422 like the documented ones.
                return v3_error(
                    422, f"Location with id {item['location_id']} not found", PROBLEM_JSON
                )
            if not isinstance(quantity, int) or quantity < 0 or not item.get("location_id"):
                return v3_error(
                    422,
                    f"Item with {identity} has an invalid quantity or location_id",
                    PROBLEM_JSON,
                )
            resolved.append((int(item["location_id"]), variant, quantity))
        for location_id, variant, quantity in resolved:
            store.put(inventory_rec(code, location_id, variant, quantity))
            if location_id == 1:
                variant["inventory_level"] = quantity
                store.put(variant_rec(code, variant))
        return json_response({"transaction_id": str(uuid.uuid4())})

    def _locations(self, code: str) -> list[dict[str, Any]]:
        """The store's locations: those put in the sandbox, else the default location 1
        that every store has."""
        rows = self.app.store.rows(V, code, "location", "", [], "data")
        return [json.loads(r[0]) for r in rows] or [location_doc(1, "default", "Default")]

    @route("GET", r"/v3/inventory/locations")
    def locations_get(self, req: Request) -> Response:
        data = self._locations(req.account.code)
        return json_response(
            {"data": data, "meta": pagination(len(data), len(data), max(len(data), 1), 1)}
        )

    @route("GET", r"/v3/inventory/items")
    def inventory_items(self, req: Request) -> Response:
        where, params = [], []
        sku_in = req.q("sku:in")
        if sku_in:
            skus = [s.strip().lower() for s in sku_in.split(",") if s.strip()]
            where.append(f"lookup IN ({','.join('?' * len(skus))})")
            params.extend(skus)
        rows = self.app.store.rows(
            V, req.account.code, "inventory", " AND ".join(where), params, "data"
        )
        by_variant: dict[int, dict[str, Any]] = {}
        for (text,) in rows:
            doc = json.loads(text)
            entry = by_variant.setdefault(
                doc["variant_id"],
                {
                    "identity": {
                        "sku": doc["sku"],
                        "variant_id": doc["variant_id"],
                        "product_id": doc["product_id"],
                    },
                    "locations": [],
                },
            )
            entry["locations"].append(
                {
                    "location_id": doc["location_id"],
                    "available_to_sell": doc["quantity"],
                    "total_inventory_onhand": doc["quantity"],
                    "settings": {
                        "safety_stock": 0,
                        "is_in_stock": doc["quantity"] > 0,
                        "warning_level": 0,
                        "bin_picking_number": "",
                    },
                }
            )
        data = list(by_variant.values())
        return json_response(
            {"data": data, "meta": pagination(len(data), len(data), max(len(data), 1), 1)}
        )


def _batch_error(title: str, field: str) -> dict[str, Any]:
    """One item of a variants batch 422 (`Variants Batch Error Response`)."""
    return {"status": 422, "title": title, "type": DOCS_TYPE, "errors": {field: title}}

"""POST /_sandbox/catalog/products: products added as a merchant would, in bulk (tests, bench).

Each product is made in Brightpearl (with its stock per warehouse, or as a bundle of other
products) and, unless `"in_bigcommerce": false`, as a BigCommerce catalog product and variant
with the same SKU (the storefront's stock starts at 0 at location 1). No webhook fires: a
merchant's catalogue import fires none the console subscribes to."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from connectors.sandbox.control.base import ControlBase, ControlError, route
from connectors.sandbox.core import Request


class CatalogRoutes(ControlBase):
    @route("POST", r"/catalog/products")
    def catalog_products(self, req: Request) -> dict[str, Any]:
        """{"products": [{"sku", "name"?, "stock"?: {warehouseId: onHand},
        "bundle"?: [{"productId", "productQuantity"}], "in_bigcommerce"?: true,
        "prices"?: {priceListId: price}, "bigcommerce_price"?: "10.00"}],
        "account"?: brand key} -> {"ids": [Brightpearl product ids]}."""
        from connectors.bigcommerce import fake as bc
        from connectors.brightpearl import fake as bp
        from connectors.brightpearl.fake.prices import product_price_doc, product_price_rec

        body = self._body(req)
        products = body.get("products")
        if not isinstance(products, list) or not products:
            raise ControlError(400, "products is required: a list of {sku, …}")
        bp_account = self._account("brightpearl", body.get("account"))
        bc_account = self._account("bigcommerce", body.get("account"))
        store = self.app.store
        now = datetime.now(UTC)
        ids: list[int] = []
        with store.transaction(write=True):
            next_pid = store.max_num("brightpearl", bp_account.code, ["product"]) + 1
            next_bc = store.max_num("bigcommerce", bc_account.code, ["product", "variant"]) + 1
            for n, spec in enumerate(products):
                sku = str(spec.get("sku") or "").strip()
                if not sku:
                    raise ControlError(400, f"products[{n}] has no sku")
                pid = next_pid + n
                doc = bp.product_doc(
                    product_id=pid, sku=sku, name=str(spec.get("name") or sku), created=now
                )
                if spec.get("bundle"):
                    doc["composition"] = {
                        "bundle": True,
                        "bundleComponents": [
                            {
                                "productId": int(c["productId"]),
                                "productQuantity": int(c.get("productQuantity", 1)),
                            }
                            for c in spec["bundle"]
                        ],
                    }
                    doc["stock"]["stockTracked"] = False
                store.put(bp.product_rec(bp_account.code, doc))
                if spec.get("prices"):
                    prices = {int(k): Decimal(str(v)) for k, v in spec["prices"].items()}
                    store.put(
                        product_price_rec(bp_account.code, product_price_doc(pid, sku, prices))
                    )
                levels = {
                    int(w): {"inStock": int(q), "onHand": int(q), "allocated": 0, "inTransit": 0}
                    for w, q in (spec.get("stock") or {}).items()
                }
                if levels:
                    store.put(
                        bp.availability_rec(bp_account.code, pid, bp.availability_doc(levels))
                    )
                if spec.get("in_bigcommerce", True):
                    product, variant = bc.catalog_docs(
                        product_id=next_bc + n,
                        variant_id=next_bc + n,
                        sku=sku,
                        name=str(spec.get("name") or sku),
                        price=Decimal(str(spec.get("bigcommerce_price") or "10.00")),
                        stock=0,
                    )
                    for rec in bc.catalog_recs(bc_account.code, product, variant):
                        store.put(rec)
                ids.append(pid)
        return {"ids": ids}

"""Brightpearl's warehouse and product services: goods-out notes, stock, warehouses, products."""

from __future__ import annotations

import json
from typing import Any

from connectors.brightpearl.fake.base import BrightpearlBase, route
from connectors.brightpearl.fake.columns import GON_COLUMNS, PRODUCT_COLUMNS
from connectors.brightpearl.fake.constants import JSON_UTF8, V, errors
from connectors.brightpearl.fake.warehouse_records import gon_rec, ship_events, ship_status
from connectors.brightpearl.fake.webhooks import fire
from connectors.sandbox.core import Request, Response, parse_idset, raw_json, utcnow


class WarehouseRoutes(BrightpearlBase):
    """/warehouse-service and /product-service."""

    # --- warehouse service -----------------------------------------------------------------

    @route(
        "GET",
        r"/warehouse-service/order/(?P<orders>[^/]+)/goods-note/goods-out(?:/(?P<notes>[^/]*))?",
    )
    def goods_out_get(self, req: Request, orders: str, notes: str | None = None) -> Response:
        limit = self.settings.brightpearl_gon_idset_max
        store = self.app.store
        code = req.account.code
        if notes:
            note_ids = self._ids(notes, limit)
            if isinstance(note_ids, Response):
                return note_ids
            found = store.get_many(V, code, "goods_out_note", note_ids)
            items = sorted((int(k), v) for k, v in found.items())
            if orders != "*":
                order_ids = self._ids(orders, limit)
                if isinstance(order_ids, Response):
                    return order_ids
                allowed = set(order_ids)
                items = [(k, v) for k, v in items if json.loads(v)["orderId"] in allowed]
        else:
            if orders == "*":
                return errors("CMNC-400", "Name an order id set or a goods-out note id set", 400)
            order_ids = self._ids(orders, limit)
            if isinstance(order_ids, Response):
                return order_ids
            marks = ",".join("?" * len(order_ids))
            # "+num": sort the few notes found by the parent index, rather than let the
            # planner walk every note in num order to avoid that sort.
            items = [
                (int(i), d)
                for i, d in store.rows(
                    V,
                    code,
                    "goods_out_note",
                    f"parent IN ({marks})",
                    [str(o) for o in order_ids],
                    order="+num, id",
                )
            ]
        if not items and (empty := self._nothing_found("goods_out_note", notes or orders)):
            return empty
        text = '{"response":{' + ",".join(f'"{k}":{v}' for k, v in items) + "}}"
        return raw_json(text, content_type=JSON_UTF8)

    @route("GET", r"/warehouse-service/goods-note/goods-out-search")
    def goods_out_search(self, req: Request) -> Response:
        return self._search(req, "goods_out_note", GON_COLUMNS)

    def ship_note(self, req: Request, note_id: int, copies: int = 1) -> dict[str, Any] | Response:
        """Mark a goods-out note shipped (back office), update its order, fire the events."""
        account = req.account
        store = self.app.store
        doc = store.get_json(V, account.code, "goods_out_note", note_id)
        if doc is None:
            return errors("WHSC-404", f"Goods-out note {note_id} does not exist", 404)
        if doc["status"]["shipped"]:
            return errors("WHSC-022", f"Goods-out note {note_id} has already been shipped", 400)
        now = utcnow()
        doc["status"] = ship_status(now)
        doc["events"] += ship_events(now)
        doc["lastEventVersion"] += 4
        order = store.get_json(V, account.code, "order", doc["orderId"])
        channel = order["assignment"]["current"]["channelId"] if order else 1
        store.put(gon_rec(account.code, note_id, doc, channel))
        fire(self.app, req, account, "goods-out-note.modified.shipped", note_id, copies)
        if order is not None:
            siblings = [
                json.loads(d)
                for (d,) in store.rows(
                    V, account.code, "goods_out_note", "parent = ?", (str(order["id"]),), "data"
                )
            ]
            all_shipped = all(n["status"]["shipped"] for n in siblings)
            order["shippingStatusCode"] = "ASS" if all_shipped else "SPS"
            # Brightpearl bumps the order's updatedOn when a note ships: a client that only
            # searches orders by updatedOn still sees the change.
            self._touch_order(account.code, order, now)
            if all_shipped:
                fire(self.app, req, account, "order.modified.fully-shipped", order["id"], copies)
        return doc

    @route("GET", r"/warehouse-service/product-availability/(?P<ids>[^/]+)")
    def availability_get(self, req: Request, ids: str) -> Response:
        wanted = self._ids(ids, self.settings.brightpearl_idset_max)
        if isinstance(wanted, Response):
            return wanted
        found = self.app.store.get_many(V, req.account.code, "availability", wanted)
        if not found and (empty := self._nothing_found("availability", ids)):
            return empty
        text = '{"response":{' + ",".join(f'"{k}":{v}' for k, v in found.items()) + "}}"
        return raw_json(text, content_type=JSON_UTF8)

    @route("GET", r"/warehouse-service/warehouse(?:/(?P<ids>[^/]*))?")
    def warehouse_get(self, req: Request, ids: str | None = None) -> Response:
        rows = self.app.store.rows(V, req.account.code, "warehouse")
        if ids:
            wanted = {str(i) for i in parse_idset(ids)}
            rows = [r for r in rows if r[0] in wanted]
        return raw_json(
            '{"response":[' + ",".join(d for _, d in rows) + "]}", content_type=JSON_UTF8
        )

    # --- product service -------------------------------------------------------------------

    @route("GET", r"/product-service/product/(?P<ids>[^/]+)")
    def product_get(self, req: Request, ids: str) -> Response:
        return self._get_list(req, "product", ids, self.settings.brightpearl_idset_max)

    @route("OPTIONS", r"/product-service/product(?:/(?P<ids>[^/]*))?")
    def product_options(self, req: Request, ids: str | None = None) -> Response:
        return self._options(
            req, "product", ids or "", "product", self.settings.brightpearl_idset_max
        )

    @route("GET", r"/product-service/product-search")
    def product_search(self, req: Request) -> Response:
        return self._search(req, "product", PRODUCT_COLUMNS)

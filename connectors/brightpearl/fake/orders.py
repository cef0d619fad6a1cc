"""Brightpearl's order service: orders, their search, statuses and rows."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from connectors.brightpearl.fake.base import BrightpearlBase, route
from connectors.brightpearl.fake.columns import ORDER_COLUMNS
from connectors.brightpearl.fake.constants import (
    JSON_UTF8,
    ORDER_TYPE_IDS,
    V,
    errors,
)
from connectors.brightpearl.fake.contact_records import contact_summary
from connectors.brightpearl.fake.records import (
    credit_rec,
    order_doc,
    order_rec,
    rebuild_rows,
    rows_back,
)
from connectors.brightpearl.fake.webhooks import fire
from connectors.sandbox.core import (
    BadRequest,
    Request,
    Response,
    json_response,
    parse_idset,
    parse_time,
    raw_json,
    utcnow,
)


class OrderRoutes(BrightpearlBase):
    """/order-service/order…: orders, order search, statuses, rows."""

    # --- order service ---------------------------------------------------------------------

    @route("GET", r"/order-service/order/(?P<ids>[^/]+)")
    def order_get(self, req: Request, ids: str) -> Response:
        return self._get_list(req, "order", ids, self.settings.brightpearl_idset_max)

    @route("OPTIONS", r"/order-service/order(?:/(?P<ids>[^/]*))?")
    def order_options(self, req: Request, ids: str | None = None) -> Response:
        return self._options(req, "order", ids or "", "order", self.settings.brightpearl_idset_max)

    @route("GET", r"/order-service/order-search")
    def order_search(self, req: Request) -> Response:
        return self._search(req, "order", ORDER_COLUMNS, self._order_reference(req.account.code))

    @route("GET", r"/order-service/order-status(?:/(?P<ids>[^/]*))?")
    def order_status_get(self, req: Request, ids: str | None = None) -> Response:
        rows = self.app.store.rows(V, req.account.code, "order_status")
        if ids:
            try:
                wanted = {str(i) for i in parse_idset(ids)}
            except ValueError:
                return errors("CMNC-404", f"Cannot parse the id set {ids}", 404)
            rows = [r for r in rows if r[0] in wanted]
        return raw_json(
            '{"response":[' + ",".join(d for _, d in rows) + "]}", content_type=JSON_UTF8
        )

    @route("PUT", r"/order-service/order/(?P<order_id>\d+)/status")
    def order_status_put(self, req: Request, order_id: str) -> Response:
        body = req.json()
        if not isinstance(body, dict) or "orderStatusId" not in body:
            return errors("ORDC-016", "You have not supplied an order status id", 400)
        result = self.set_status(req, int(order_id), int(body["orderStatusId"]))
        if isinstance(result, Response):
            return result
        return raw_json("{}", content_type=JSON_UTF8)

    def set_status(
        self, req: Request, order_id: int, status_id: int, copies: int = 1
    ) -> dict[str, Any] | Response:
        """Change an order's status and fire order.modified.order-status (API and back office).

        A sales credit is one record seen twice, as an SC order and as the sales-credit
        resource: both take the new status and the same updatedOn, and the credit's own
        event fires too (`sales-credit.modified.order-status`, unconfirmed name, see README).
        """
        account = req.account
        store = self.app.store
        doc = store.get_json(V, account.code, "order", order_id)
        if doc is None:
            return errors("ORDC-001", f"Order {order_id} does not exist", 404)
        status = self._statuses(account.code).get(status_id)
        if status is None or status["orderTypeCode"] != doc["orderTypeCode"]:
            return errors("ORDC-017", f"Order status {status_id} is not valid for this order", 400)
        now = utcnow()
        doc["orderStatus"] = {"orderStatusId": status_id, "name": status["name"]}
        self._touch_order(account.code, doc, now)
        fire(self.app, req, account, "order.modified.order-status", order_id, copies)
        if doc["orderTypeCode"] == "SC":
            credit = store.get_json(V, account.code, "sales_credit", order_id)
            if credit is not None:
                credit["statusId"] = status_id
                credit["updatedOn"] = doc["updatedOn"]
                # A credit is an order: its status change is the order event above. Brightpearl
                # lists no sales-credit event (help page "Subscribable resource events").
                store.put(credit_rec(account.code, credit))
        return doc

    @route("POST", r"/order-service/sales-order/(?P<order_id>\d+)/close")
    def sales_order_close(self, req: Request, order_id: str) -> Response:
        """Invoice a sales order: it gets its invoice reference (and a sales credit on it
        is possible from then on). An order invoiced already is refused."""
        result = self.invoice(req, int(order_id))
        return result if isinstance(result, Response) else json_response({}, content_type=JSON_UTF8)

    def invoice(self, req: Request, order_id: int) -> dict[str, Any] | Response:
        """The invoicing Sales Order Close starts (API and back office)."""
        code = req.account.code
        doc = self.app.store.get_json(V, code, "order", order_id)
        if doc is None or doc["orderTypeCode"] != "SO":
            return errors("ORDC-001", f"Sales order {order_id} does not exist", 404)
        invoice = doc["invoices"][0]
        if invoice["invoiceReference"]:
            return errors("ORDC-033", f"Sales order {order_id} is invoiced already", 400)
        now = utcnow()
        invoice["invoiceReference"] = f"SI-{order_id}"
        invoice["taxDate"] = invoice["dueDate"] = now.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        self._touch_order(code, doc, now)
        return doc

    @route("POST", r"/order-service/order")
    def order_post(self, req: Request) -> Response:
        """The low-level order POST: the order first, rows added by order-row POSTs."""
        body = req.json()
        if not isinstance(body, dict) or not body.get("orderTypeCode"):
            return errors("ORDC-005", "You have not supplied an order type code", 400)
        if body["orderTypeCode"] not in ORDER_TYPE_IDS:
            return errors("ORDC-006", f"Unknown order type code {body['orderTypeCode']}", 400)
        return self._create_order(req, body, rows=[])

    @route("POST", r"/order-service/sales-order")
    def sales_order_post(self, req: Request) -> Response:
        """The atomic sales-order POST: order and rows in one call (fires sales-order.created).

        Body (v2 style, unconfirmed in detail): {customer:{id}, ref, externalRef, channelId,
        currency:{code}, warehouseId, statusId, priceListId, placedOn, rows:[{productId |
        sku, name, quantity, net, tax, taxCode, nominalCode}]}.
        """
        body = req.json()
        if not isinstance(body, dict):
            raise BadRequest("The body must be a JSON object")
        customer = body.get("customer") or {}
        order_body = {
            "orderTypeCode": "SO",
            "reference": body.get("ref", ""),
            "externalRef": body.get("externalRef", ""),
            "priceListId": body.get("priceListId", 1),
            "placedOn": body.get("placedOn"),
            "warehouseId": body.get("warehouseId", 1),
            "orderStatus": {"orderStatusId": body.get("statusId")} if body.get("statusId") else {},
            "currency": {"orderCurrencyCode": (body.get("currency") or {}).get("code", "GBP")},
            "parties": {"customer": {"contactId": customer.get("id")}},
            "assignment": {"current": {"channelId": body.get("channelId", 1)}},
        }
        rows = []
        for row in body.get("rows") or []:
            quantity = Decimal(str(row.get("quantity", 1)))
            net = Decimal(str(row.get("net", 0)))
            tax = Decimal(str(row.get("tax", 0)))
            rows.append(
                {
                    "productId": row.get("productId"),
                    "sku": row.get("sku"),
                    "productName": row.get("name", ""),
                    "quantity": quantity,
                    "price": net / quantity if quantity else net,
                    "taxRate": (tax / net * 100).quantize(Decimal("0.01")) if net else 0,
                    "nominalCode": row.get("nominalCode", "4000"),
                }
            )
        return self._create_order(req, order_body, rows, event="sales-order.created")

    def _create_order(
        self,
        req: Request,
        body: dict[str, Any],
        rows: list[dict[str, Any]],
        event: str | None = None,
    ) -> Response:
        """Store a new order. `event`: what the creation fires; the low-level order POST fires
        none (Brightpearl lists only sales-order.created, for the Sales Order POST)."""
        account = req.account
        store = self.app.store
        contact_id = ((body.get("parties") or {}).get("customer") or {}).get("contactId")
        contact = store.get_json(V, account.code, "contact", contact_id) if contact_id else None
        if contact is None:
            return errors("ORDC-012", f"Customer contact {contact_id} does not exist", 400)
        resolved = []
        for n, row in enumerate(rows, start=1):
            product = self._find_product(account.code, row.get("productId"), row.get("sku"))
            if product is None:
                return errors(
                    "ORDC-023",
                    f"Product {row.get('productId') or row.get('sku')} does not exist",
                    400,
                )
            resolved.append(_row_from_product(product, row, n))
        statuses = self._statuses(account.code)
        wanted = (body.get("orderStatus") or {}).get("orderStatusId")
        type_code = body["orderTypeCode"]
        if wanted:
            status = statuses.get(int(wanted))
            if status is None:
                return errors("ORDC-017", f"Order status {wanted} does not exist", 400)
        else:
            status = min(
                (s for s in statuses.values() if s["orderTypeCode"] == type_code),
                key=lambda s: s["sortOrder"],
            )
        order_id = store.max_num(V, account.code, ["order"]) + 1
        now = utcnow()
        placed = parse_time(body["placedOn"]) if body.get("placedOn") else now
        doc = order_doc(
            order_id=order_id,
            type_code=type_code,
            status=status,
            contact=contact_summary(contact),
            rows=[{**r, "rowId": order_id * 10 + i} for i, r in enumerate(resolved, start=1)],
            placed=placed,
            updated=now,
            reference=body.get("reference", ""),
            external_ref=body.get("externalRef", ""),
            warehouse_id=body.get("warehouseId", 1),
            channel_id=((body.get("assignment") or {}).get("current") or {}).get("channelId", 1),
            price_list_id=body.get("priceListId", 1),
            currency=(body.get("currency") or {}).get("orderCurrencyCode", "GBP"),
        )
        store.put(order_rec(account.code, doc))
        store.note_created(V, account.code, "order", order_id)
        if event:
            fire(self.app, req, account, event, order_id)
        return json_response({"response": order_id}, content_type=JSON_UTF8)

    @route("POST", r"/order-service/order/(?P<order_id>\d+)/row")
    def order_row_post(self, req: Request, order_id: str) -> Response:
        """Add a row: {productId, productName, quantity:{magnitude}, rowValue:{taxCode, rowNet:
        {value}, rowTax:{value}}, nominalCode}. Answers the new row id."""
        account = req.account
        doc = self.app.store.get_json(V, account.code, "order", order_id)
        if doc is None:
            return errors("ORDC-001", f"Order {order_id} does not exist", 404)
        body = req.json()
        if not isinstance(body, dict):
            raise BadRequest("The body must be a JSON object")
        product = self._find_product(account.code, body.get("productId"), body.get("sku"))
        if body.get("productId") and product is None:
            return errors("ORDC-023", f"Product {body['productId']} does not exist", 400)
        quantity = Decimal(str((body.get("quantity") or {}).get("magnitude", 1)))
        value = body.get("rowValue") or {}
        net = Decimal(str((value.get("rowNet") or {}).get("value", 0)))
        tax = Decimal(str((value.get("rowTax") or {}).get("value", 0)))
        rows = rows_back(doc)
        row_id = max([int(r) for r in doc["orderRows"]] + [int(order_id) * 10]) + 1
        rows.append(
            {
                "rowId": row_id,
                "productId": product["id"] if product else 0,
                "productName": body.get("productName")
                or (product["salesChannels"][0]["productName"] if product else ""),
                "sku": product["identity"]["sku"] if product else "",
                "quantity": quantity,
                "price": net / quantity if quantity else net,
                "taxRate": (tax / net * 100).quantize(Decimal("0.01")) if net else 0,
                "nominalCode": body.get("nominalCode", "4000"),
            }
        )
        rebuild_rows(doc, rows)
        self._touch_order(account.code, doc)
        return json_response({"response": row_id}, content_type=JSON_UTF8)

    def _find_product(self, account: str, product_id: Any, sku: Any) -> dict[str, Any] | None:
        store = self.app.store
        if product_id:
            return store.get_json(V, account, "product", product_id)
        if sku:
            found = store.rows(V, account, "product", "lookup = ?", (str(sku).lower(),), "data")
            return json.loads(found[0][0]) if found else None
        return None


def _row_from_product(product: dict[str, Any], row: dict[str, Any], n: int) -> dict[str, Any]:
    return {
        "productId": product["id"],
        "productName": row.get("productName") or product["salesChannels"][0]["productName"],
        "sku": product["identity"]["sku"],
        "quantity": row["quantity"],
        "price": row["price"],
        "taxRate": row.get("taxRate", 20),
        "nominalCode": row.get("nominalCode", "4000"),
    }

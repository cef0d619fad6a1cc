"""Brightpearl sales credits (refunds): one record seen as the sales-credit resource and as an
SC order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.brightpearl.fake.base import BrightpearlBase, route
from connectors.brightpearl.fake.constants import JSON_UTF8, V, errors
from connectors.brightpearl.fake.records import credit_doc, credit_recs
from connectors.sandbox.core import Request, Response, dumps, json_response, raw_json, utcnow


class CreditRoutes(BrightpearlBase):
    """/order-service/sales-credit: read and raise credits."""

    # --- sales credits ---------------------------------------------------------------------

    @route("GET", r"/order-service/sales-credit/(?P<ids>[^/]+)")
    def sales_credit_get(self, req: Request, ids: str) -> Response:
        wanted = self._ids(ids, self.settings.brightpearl_idset_max)
        if isinstance(wanted, Response):
            return wanted
        found = self.app.store.get_many(V, req.account.code, "sales_credit", wanted)
        parts = [found[str(i)] for i in sorted(wanted) if str(i) in found]
        if not parts and (empty := self._nothing_found("sales_credit", ids)):
            return empty
        if parts and len(parts) < len(wanted):
            # A partial hit is a multi-status answer (README: "A partial hit returns 207").
            missing = [i for i in sorted(wanted) if str(i) not in found]
            text = (
                '{"response":['
                + ",".join(parts)
                + '],"errors":'
                + dumps(
                    [
                        {"code": "CMNC-404", "message": f"Sales credit {i} was not found"}
                        for i in missing
                    ]
                )
                + "}"
            )
            return raw_json(text, 207, content_type=JSON_UTF8)
        return raw_json('{"response":[' + ",".join(parts) + "]}", content_type=JSON_UTF8)

    @route("POST", r"/order-service/sales-credit")
    def sales_credit_post(self, req: Request) -> Response:
        """Raise a credit on a sales order: {parentId, rows:[{productId|sku, quantity, net?,
        tax?} or a free-text row {name, quantity, net, tax}],
        statusId?} (statusId: any SC status; default the first, "Sales credit").

        Refused when the parent order is not invoiced (the seeds' "blocked refund").
        """
        body = req.json()
        if not isinstance(body, dict) or not body.get("parentId"):
            return errors("ORDC-030", "A sales credit needs the parentId of its sales order", 400)
        status_id = body.get("statusId")
        result = self.raise_credit(
            req,
            int(body["parentId"]),
            body.get("rows"),
            status_id=int(status_id) if status_id is not None else None,
            reference=str(body.get("ref") or ""),
            external_ref=str(body.get("externalRef") or ""),
        )
        if isinstance(result, Response):
            return result
        return json_response({"response": result["id"]}, content_type=JSON_UTF8)

    def raise_credit(
        self,
        req: Request,
        order_id: int,
        rows: list[dict[str, Any]] | None,
        status_id: int | None = None,
        reference: str = "",
        external_ref: str = "",
    ) -> dict[str, Any] | Response:
        """Raise a credit, in the first SC status or in `status_id` (e.g. 11, already complete).

        `reference` and `external_ref` are the POST's documented `ref` and `externalRef` (the
        natural key a safe create looks a credit up by); without a ref the credit is SC-<id>."""
        account = req.account
        store = self.app.store
        order = store.get_json(V, account.code, "order", order_id)
        if order is None or order["orderTypeCode"] != "SO":
            return errors("ORDC-001", f"Sales order {order_id} does not exist", 404)
        if not order["invoices"][0]["invoiceReference"]:
            return errors(
                "ORDC-031",
                f"Sales order {order_id} has not been invoiced, so it cannot be credited",
                400,
            )
        by_product = {r["productId"]: r for r in order["orderRows"].values()}
        by_sku = {r["productSku"]: r for r in order["orderRows"].values()}
        credit_rows = []
        for wanted in rows or [next(iter(order["orderRows"].values()))]:
            source = by_product.get(wanted.get("productId")) or by_sku.get(
                wanted.get("sku") or wanted.get("productSku")
            )
            if source is None and not (wanted.get("productId") or wanted.get("sku")):
                if not wanted.get("name") or wanted.get("net") is None:
                    return errors("ORDC-034", "A free-text row needs a name and a net value", 400)
                # A free-text row (a name, no product): "Order Row POST" documents both kinds.
                credit_rows.append(
                    {
                        "productId": None,
                        "name": str(wanted["name"]),
                        "sku": "",
                        "quantity": Decimal(str(wanted.get("quantity") or 1)),
                        "price": Decimal(str(wanted["net"])),
                        "net": wanted["net"],
                        "tax": wanted.get("tax") or "0",
                    }
                )
                continue
            if source is None:
                return errors("ORDC-032", "A credit row names a product not on the order", 400)
            quantity = wanted.get("quantity", source["quantity"]["magnitude"])
            if isinstance(quantity, dict):
                quantity = quantity.get("magnitude", 1)
            credit_rows.append(
                {
                    "productId": source["productId"],
                    "name": source["productName"],
                    "sku": source["productSku"],
                    "quantity": Decimal(str(quantity)),
                    "price": Decimal(source["productPrice"]["value"]),
                    "taxRate": Decimal(source["rowValue"]["taxRate"]),
                    "net": wanted.get("net"),
                    "tax": wanted.get("tax"),
                }
            )
        credit_statuses = [
            s
            for s in sorted(self._statuses(account.code).values(), key=lambda s: s["sortOrder"])
            if s["orderTypeCode"] == "SC"
        ]
        if status_id is None:
            status = credit_statuses[0]
        else:
            status = next((s for s in credit_statuses if s["statusId"] == status_id), None)
            if status is None:
                return errors(
                    "ORDC-017", f"Order status {status_id} is not valid for a sales credit", 400
                )
        credit_id = store.max_num(V, account.code, ["order"]) + 1
        credit = credit_doc(
            credit_id=credit_id,
            order=order,
            status=status,
            rows=credit_rows,
            created=utcnow(),
            reference=reference,
            external_ref=external_ref,
        )
        store.put_many(credit_recs(account.code, credit, order, status))
        store.note_created(V, account.code, "sales_credit", credit_id)
        store.note_created(V, account.code, "order", credit_id)
        # Brightpearl lists no event for a new credit (help page "Subscribable resource
        # events"): nothing fires; the console finds credits by its schedule.
        return credit

"""BigCommerce v3 customers, as far as an order's customer group needs: read them by id, and
a customer signed up in the storefront (control API).

The customer shape (`id, email, first_name, last_name, company, phone, customer_group_id,
date_created, date_modified, …`) follows https://developer.bigcommerce.com/docs/rest-management/customers
(the customers spec is not among the local files; README.md lists it under Guesses).
"""

from __future__ import annotations

from typing import Any

from connectors.bigcommerce.fake.base import BigCommerceBase, route
from connectors.bigcommerce.fake.constants import V, pagination, v3_error
from connectors.sandbox.core import Request, Response, dumps, raw_json, utcnow
from connectors.sandbox.state import Rec


class CustomerRoutes(BigCommerceBase):
    """/v3/customers (read), and add_customer (back office)."""

    @route("GET", r"/v3/customers")
    def customers_get(self, req: Request) -> Response:
        where, params = [], []
        ids_in = req.q("id:in")
        if ids_in:
            try:
                ids = [int(i) for i in ids_in.split(",") if i.strip()]
            except ValueError:
                return v3_error(422, f"The filter id:in is invalid: {ids_in}")
            where.append(f"num IN ({','.join('?' * len(ids))})")
            params.extend(ids)
        emails_in = req.q("email:in")
        if emails_in:
            emails = [e.strip().lower() for e in emails_in.split(",") if e.strip()]
            where.append(f"lookup IN ({','.join('?' * len(emails))})")
            params.extend(emails)
        page = max(int(req.q("page") or 1), 1)
        limit = min(int(req.q("limit") or 50), 250)
        store = self.app.store
        where_sql = " AND ".join(where)
        total = store.count(V, req.account.code, "customer", where_sql, params)
        rows = store.rows(
            V,
            req.account.code,
            "customer",
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

    def add_customer(self, req: Request, body: dict[str, Any]) -> dict[str, Any]:
        """A shopper signs up: {email, first_name, last_name, customer_group_id}."""
        store = self.app.store
        code = req.account.code
        customer_id = int(body.get("id") or store.max_num(V, code, ["customer"]) + 1)
        now = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
        doc = {
            "id": customer_id,
            "email": str(body.get("email") or f"customer{customer_id}@example.com"),
            "first_name": str(body.get("first_name") or "Shopper"),
            "last_name": str(body.get("last_name") or str(customer_id)),
            "company": str(body.get("company") or ""),
            "phone": "",
            "customer_group_id": int(body.get("customer_group_id") or 0),
            "notes": "",
            "tax_exempt_category": "",
            "date_created": now,
            "date_modified": now,
            "accepts_product_review_abandoned_cart_emails": False,
            "channel_ids": [1],
        }
        store.put(
            Rec(
                V,
                code,
                "customer",
                str(customer_id),
                dumps(doc),
                num=customer_id,
                lookup=doc["email"].lower(),
            )
        )
        store.note_created(V, code, "customer", customer_id)
        return doc

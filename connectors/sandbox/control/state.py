"""What the control API shows: GET /_sandbox/state/..., webhook deliveries."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from connectors.sandbox.control.base import ControlBase, ControlError, _int, route
from connectors.sandbox.core import Request, parse_idset

if TYPE_CHECKING:
    pass


# Collection name -> stored kind, per vendor. Log-backed collections are handled apart.
COLLECTIONS: dict[str, dict[str, str]] = {
    "brightpearl": {
        "orders": "order",
        "order_statuses": "order_status",
        "contacts": "contact",
        "contact_custom_fields": "contact_custom",
        "goods_out_notes": "goods_out_note",
        "sales_credits": "sales_credit",
        "customer_payments": "customer_payment",
        "products": "product",
        "availability": "availability",
        "price_lists": "price_list",
        "product_prices": "product_price",
        "warehouses": "warehouse",
        "tags": "tag",
        "webhooks": "webhook",
    },
    "ometria": {
        "contacts": "contact",
        "orders": "order",
        "products": "product",
        "custom_events": "custom_event",
    },
    "mailchimp": {
        "members": "member",
        "webhooks": "webhook",
        "batches": "batch",
        "stores": "store",
        "ecommerce_customers": "ec_customer",
        "ecommerce_products": "ec_product",
        "ecommerce_orders": "ec_order",
        "merge_fields": "merge_field",
    },
    "bigcommerce": {
        "orders": "order",
        "order_products": "order_products",
        "shipping_addresses": "order_addresses",
        "shipments": "shipment",
        "products": "product",
        "variants": "variant",
        "inventory": "inventory",
        "hooks": "hook",
        "refunds": "refund",
        "customers": "customer",
    },
    # Salesforce: "objects" (every type, or ?type=Account) or a type: /state/salesforce/Account.
    "salesforce": {},
}
LOGS = {
    ("ometria", "push_log"): "push",
    ("ometria", "push_errors"): "push_error",
    ("mailchimp", "status_changes"): "member_status",
}
FILTERS = {
    "status": "status",
    "parent": "parent",
    "owner": "owner",
    "type": "type",
    "lookup": "lookup",
}


class StateRoutes(ControlBase):
    """/state/{vendor}/{collection}[/{id}] (vendor "sandbox": deliveries, writes) and
    /webhooks/deliveries|wait."""

    # --- state ---------------------------------------------------------------------------

    @route("GET", r"/state/(?P<vendor>\w+)/(?P<collection>\w+)")
    def state_list(self, req: Request, vendor: str, collection: str) -> dict[str, Any]:
        return self.state(vendor, collection, {k: v[0] for k, v in req.query.items()})

    @route("GET", r"/state/(?P<vendor>\w+)/(?P<collection>\w+)/(?P<item>[^/]+)")
    def state_item(self, req: Request, vendor: str, collection: str, item: str) -> Any:
        params = {k: v[0] for k, v in req.query.items()}
        if (vendor, collection) in LOGS:
            params["id"] = item
            return self.state(vendor, collection, params)
        found = self.state(vendor, collection, {**params, "id": item})
        if not found["items"]:
            raise ControlError(404, f"No {vendor} {collection} {item}")
        return found["items"][0]

    def state(self, vendor: str, collection: str, params: dict[str, str]) -> dict[str, Any]:
        """List one collection: ?account=&id=1,2&status=&parent=&owner=&type=&lookup=
        &updated_since=&limit=&offset=. Log collections take ?type= and ?id= of the record."""
        store = self.app.store
        limit = min(_int(params.get("limit"), 100), 100_000)
        offset = _int(params.get("offset"), 0)
        if vendor == "sandbox" and collection == "deliveries":
            return self._deliveries(params, limit, offset)
        if vendor == "sandbox" and collection == "writes":
            return self.writes(params)
        if vendor not in COLLECTIONS:
            raise ControlError(404, f"Unknown vendor {vendor!r}")
        if collection == "accounts":
            accounts = [a for a in self.app.accounts.all() if a.vendor == vendor]
            items = [{"code": a.code, "brand": a.brand, "creds": a.creds} for a in accounts]
            return {"collection": collection, "count": len(items), "items": items}
        account = self._account(vendor, params.get("account"))
        if (vendor, collection) in LOGS:
            return self._log(
                vendor, account.code, LOGS[(vendor, collection)], params, limit, offset
            )
        if vendor == "salesforce":
            kinds = [params["type"]] if collection == "objects" and params.get("type") else None
            if collection != "objects":
                kinds = [collection]
            where, args = self._where(params, skip_type=True)
            if kinds is None:
                where.append("kind != 'account'")
        else:
            kind = COLLECTIONS[vendor].get(collection)
            if kind is None:
                names = ", ".join([*COLLECTIONS[vendor], *(c for v, c in LOGS if v == vendor)])
                raise ControlError(404, f"Unknown {vendor} collection {collection!r}; try {names}")
            kinds = [kind]
            where, args = self._where(params)
        sql = "FROM records WHERE vendor=? AND account=?"
        base_args: list[Any] = [vendor, account.code]
        if kinds is not None:
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            base_args += kinds
        if where:
            sql += " AND " + " AND ".join(where)
        with store.transaction():
            conn = store.conn()
            total = conn.execute(f"SELECT COUNT(*) {sql}", (*base_args, *args)).fetchone()[0]
            rows = conn.execute(
                f"SELECT data {sql} ORDER BY num, id LIMIT ? OFFSET ?",
                (*base_args, *args, limit, offset),
            ).fetchall()
        return {
            "collection": collection,
            "account": account.code,
            "count": total,
            "items": [json.loads(r[0]) for r in rows],
        }

    def _where(
        self, params: dict[str, str], skip_type: bool = False
    ) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        args: list[Any] = []
        if params.get("id"):
            ids = [i.strip() for i in params["id"].split(",") if i.strip()]
            if all(i.replace("-", "").isdigit() for i in ids) and any("-" in i for i in ids):
                ids = [str(i) for i in parse_idset(params["id"])]
            where.append(f"id IN ({','.join('?' * len(ids))})")
            args += ids
        for name, column in FILTERS.items():
            if name == "type" and skip_type:
                continue
            if params.get(name) is not None:
                where.append(f"{column} = ?")
                args.append(params[name].lower() if name == "lookup" else params[name])
        if params.get("email"):
            where.append("lookup = ?")
            args.append(params["email"].lower())
        return where, args

    def _log(
        self, vendor: str, account: str, kind: str, params: dict[str, str], limit: int, offset: int
    ) -> dict[str, Any]:
        """History entries, newest last. Ometria keys records as '<type>/<id>'."""
        where = ["vendor=?", "account=?", "kind=?"]
        args: list[Any] = [vendor, account, kind]
        key = params.get("id")
        if key and vendor == "ometria" and params.get("type"):
            key = f"{params['type']}/{key}"
        if key and vendor == "mailchimp" and "@" in key:
            from connectors.mailchimp.fake import subscriber_hash

            key = subscriber_hash(key)
        if key:
            where.append("id = ?")
            args.append(key)
        elif vendor == "ometria" and params.get("type"):
            where.append("id LIKE ?")
            args.append(params["type"] + "/%")
        sql = " AND ".join(where)
        with self.app.store.transaction():
            conn = self.app.store.conn()
            # bandit B608 is wrong here: conditions are this module's text, values bound.
            total = conn.execute(f"SELECT COUNT(*) FROM log WHERE {sql}", args).fetchone()[0]  # nosec B608
            rows = conn.execute(
                f"SELECT id, at, data FROM log WHERE {sql} ORDER BY seq LIMIT ? OFFSET ?",  # nosec B608
                (*args, limit, offset),
            ).fetchall()
        items = [{"key": k, "at": at, **json.loads(data)} for k, at, data in rows]
        return {"collection": kind, "account": account, "count": total, "items": items}

    def writes(self, params: dict[str, str]) -> dict[str, Any]:
        """The write log (writes.py): ?vendor=&method=&path_prefix=&account=&key=&status=
        &limit=&offset=. `account` is a brand key (its accounts at every vendor) or a code."""
        accounts = None
        if params.get("account"):
            name = params["account"]
            accounts = {a.code for a in self.app.accounts.all() if name in (a.brand, a.code)}
        return self.app.writes.query(params, accounts)

    def _deliveries(self, params: dict[str, str], limit: int, offset: int) -> dict[str, Any]:
        where, args = ["kind='delivery'"], []
        if params.get("vendor"):
            where.append("vendor = ?")
            args.append(params["vendor"])
        with self.app.store.transaction():
            rows = (
                self.app.store.conn()
                # bandit B608 is wrong here: conditions are this module's text, values bound.
                .execute(f"SELECT data FROM log WHERE {' AND '.join(where)} ORDER BY seq", args)  # nosec B608
                .fetchall()
            )
        items = [json.loads(r[0]) for r in rows]
        for name in ("event", "hook_id", "delivery_id", "url"):
            if params.get(name):
                items = [i for i in items if str(i.get(name)) == params[name]]
        if params.get("ok") is not None:
            wanted = params["ok"].lower() == "true"
            items = [i for i in items if i["ok"] == wanted]
        return {
            "collection": "deliveries",
            "count": len(items),
            "items": items[offset : offset + limit],
        }

    # --- webhooks ------------------------------------------------------------------------

    @route("GET", r"/webhooks/deliveries")
    def deliveries(self, req: Request) -> dict[str, Any]:
        params = {k: v[0] for k, v in req.query.items()}
        return self._deliveries(
            params, min(_int(params.get("limit"), 1000), 100_000), _int(params.get("offset"), 0)
        )

    @route("POST", r"/webhooks/wait")
    def deliveries_wait(self, req: Request) -> dict[str, Any]:
        """Block until no delivery is queued, retrying or in flight (or the timeout passes)."""
        timeout = float(self._body(req).get("timeout", 5))
        idle = self.app.deliverer.wait_idle(min(timeout, 60))
        return {"idle": idle, "pending": self.app.deliverer.pending()}

"""The control API under /_sandbox/: discovery, reset, config, faults, stats, state, changes.

JSON in and out, no auth. Changes are made "as a back office would make them": they go through
the same code as the vendor API and fire the webhooks clients registered through it. Each
change takes `"deliveries": n` to deliver the same event n times (idempotency tests) and an
optional `"account"` (a brand key such as "second", or the vendor's account code).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from connectors.mailchimp.fake.batches import results_response
from connectors.sandbox.core import Request, Response, Router, json_response, parse_idset
from connectors.sandbox.seed import CREDIT_COMPLETE_STATUS
from connectors.sandbox.throttle import VENDORS

if TYPE_CHECKING:
    from connectors.sandbox.server import App

# Collection name -> stored kind, per vendor. Log-backed collections are handled apart.
COLLECTIONS: dict[str, dict[str, str]] = {
    "brightpearl": {
        "orders": "order",
        "order_statuses": "order_status",
        "contacts": "contact",
        "contact_custom_fields": "contact_custom",
        "goods_out_notes": "goods_out_note",
        "sales_credits": "sales_credit",
        "products": "product",
        "availability": "availability",
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
    "mailchimp": {"members": "member", "webhooks": "webhook", "batches": "batch"},
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


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Control:
    router = Router()
    route = router.route

    def __init__(self, app: App) -> None:
        self.app = app

    def handle(self, req: Request) -> Response:
        fn, params, known = self.router.match(req.method, req.path)
        if fn is None:
            return json_response(
                {"error": f"No control route {req.method} {req.path}"}, 405 if known else 404
            )
        try:
            result = fn(self, req, **params)
        except ControlError as exc:
            return json_response({"error": str(exc)}, exc.status)
        except (ValueError, KeyError, TypeError) as exc:
            return json_response({"error": f"{type(exc).__name__}: {exc}"}, 400)
        if isinstance(result, Response):
            return result
        return json_response(result)

    def _body(self, req: Request) -> dict[str, Any]:
        if not req.body:
            return {}
        body = req.json()
        if not isinstance(body, dict):
            raise ControlError(400, "The body must be a JSON object")
        return body

    def _account(self, vendor: str, name: Any) -> Any:
        account = self.app.accounts.resolve(vendor, name)
        if account is None:
            raise ControlError(404, f"No {vendor} account {name!r}")
        return account

    # --- discovery, reset, config --------------------------------------------------------

    @route("GET", r"/")
    def discovery(self, req: Request) -> dict[str, Any]:
        return self.app.control.describe(req.base_url)

    def describe(self, base_url: str) -> dict[str, Any]:
        accounts: dict[str, dict[str, Any]] = {}
        for brand in self.app.accounts.brands():
            accounts[brand] = {
                vendor: self._entry(vendor, brand, base_url)
                for vendor in VENDORS
                if self.app.accounts.for_brand(vendor, brand)
            }
        demo = accounts.get("demo", {})
        return {
            "sandbox": {
                "url": base_url,
                "control": f"{base_url}/_sandbox/",
                "time_scale": self.app.time_scale,
            },
            **demo,
            "accounts": accounts,
            "seed": self.app.seed_facts(),
        }

    def _entry(self, vendor: str, brand: str, base_url: str) -> dict[str, Any]:
        account = self.app.accounts.for_brand(vendor, brand)
        assert account is not None
        creds = account.creds
        base = f"{base_url}/{vendor}"
        if vendor == "brightpearl":
            return {
                "base_url": base,
                "account": account.code,
                "headers": {
                    "brightpearl-app-ref": creds["app_ref"],
                    "brightpearl-account-token": creds["account_token"],
                },
                "oauth": {
                    "Authorization": f"Bearer {creds['oauth_token']}",
                    "brightpearl-app-ref": creds["app_ref"],
                    "brightpearl-dev-ref": creds["dev_ref"],
                },
            }
        if vendor == "ometria":
            return {"base_url": base, "headers": {"X-Ometria-Auth": creds["api_key"]}}
        if vendor == "mailchimp":
            return {"base_url": base, "api_key": creds["api_key"], "list_id": creds["list_id"]}
        if vendor == "bigcommerce":
            return {
                "base_url": base,
                "store_hash": account.code,
                "store_id": creds["store_id"],
                "headers": {"X-Auth-Token": creds["access_token"]},
                "client_id": creds["client_id"],
                "client_secret": creds["client_secret"],
            }
        return {
            "base_url": base,
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "org_id": account.code,
        }

    @route("POST", r"/reset")
    def reset(self, req: Request) -> dict[str, Any]:
        body = self._body(req)
        orders = body.get("orders")
        facts = self.app.reset(
            body.get("seed", "demo"), int(orders) if orders is not None else None
        )
        return {"reset": True, "seed": facts}

    @route("GET", r"/config")
    def config_get(self, req: Request) -> dict[str, Any]:
        return self.app.config_snapshot()

    @route("POST", r"/config")
    def config_post(self, req: Request) -> dict[str, Any]:
        self.app.configure(self._body(req))
        return self.app.config_snapshot()

    @route("POST", r"/accounts")
    def accounts_post(self, req: Request) -> dict[str, Any]:
        """Empty accounts at every vendor for one more brand: {"brand": "third"}."""
        brand = str(self._body(req).get("brand") or "").strip()
        if not brand.isalnum():
            raise ControlError(400, "brand must be a short alphanumeric key")
        self.app.add_brand(brand)
        return {vendor: self._entry(vendor, brand, req.base_url) for vendor in VENDORS}

    # --- faults and stats ----------------------------------------------------------------

    @route("GET", r"/faults")
    def faults_get(self, req: Request) -> dict[str, Any]:
        return self.app.faults.snapshot()

    @route("POST", r"/faults")
    def faults_post(self, req: Request) -> dict[str, Any]:
        body = self._body(req)
        vendor = body.get("vendor")
        if vendor not in VENDORS:
            raise ControlError(400, f"vendor must be one of {', '.join(VENDORS)}")
        self.app.faults.set(vendor, body)
        return self.app.faults.snapshot()

    @route("DELETE", r"/faults(?:/(?P<vendor>\w+))?")
    def faults_delete(self, req: Request, vendor: str | None = None) -> dict[str, Any]:
        self.app.faults.clear(vendor)
        return self.app.faults.snapshot()

    @route("GET", r"/stats")
    def stats_get(self, req: Request) -> dict[str, Any]:
        return self.app.stats.snapshot()

    @route("POST", r"/stats/reset")
    def stats_reset(self, req: Request) -> dict[str, Any]:
        self.app.stats.reset()
        return self.app.stats.snapshot()

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
            total = conn.execute(f"SELECT COUNT(*) FROM log WHERE {sql}", args).fetchone()[0]
            rows = conn.execute(
                f"SELECT id, at, data FROM log WHERE {sql} ORDER BY seq LIMIT ? OFFSET ?",
                (*args, limit, offset),
            ).fetchall()
        items = [{"key": k, "at": at, **json.loads(data)} for k, at, data in rows]
        return {"collection": kind, "account": account, "count": total, "items": items}

    def _deliveries(self, params: dict[str, str], limit: int, offset: int) -> dict[str, Any]:
        where, args = ["kind='delivery'"], []
        if params.get("vendor"):
            where.append("vendor = ?")
            args.append(params["vendor"])
        with self.app.store.transaction():
            rows = (
                self.app.store.conn()
                .execute(f"SELECT data FROM log WHERE {' AND '.join(where)} ORDER BY seq", args)
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

    # --- changes, as a back office makes them ----------------------------------------------

    def _change(self, req: Request, vendor: str, body: dict[str, Any], fn: Any) -> Any:
        """Run one change inside a write transaction, then queue its webhooks."""
        req.account = self._account(vendor, body.get("account"))
        with self.app.store.transaction(write=True):
            result = fn(self.app.vendors[vendor])
        if isinstance(result, Response):
            return result
        for job in req.after_commit:
            job()
        return result

    def _copies(self, body: dict[str, Any]) -> int:
        return max(_int(body.get("deliveries"), 1), 1)

    @route("POST", r"/brightpearl/orders/(?P<order_id>\d+)/status")
    def bp_status(self, req: Request, order_id: str) -> Any:
        body = self._body(req)
        status_id = body.get("statusId", body.get("orderStatusId"))
        if status_id is None:
            raise ControlError(400, "statusId is required")
        return self._change(
            req,
            "brightpearl",
            body,
            lambda v: v.set_status(req, int(order_id), int(status_id), self._copies(body)),
        )

    @route("POST", r"/brightpearl/goods-out-notes/(?P<note_id>\d+)/ship")
    def bp_ship(self, req: Request, note_id: str) -> Any:
        body = self._body(req)
        return self._change(
            req, "brightpearl", body, lambda v: v.ship_note(req, int(note_id), self._copies(body))
        )

    @route("POST", r"/brightpearl/sales-credits")
    def bp_credit(self, req: Request) -> Any:
        """{"orderId": n, "rows": [{"productId" or "sku", "quantity"}], "statusId": 11 or
        "complete": true}; default: one of row 1, open (status 10 "Sales credit")."""
        body = self._body(req)
        if not body.get("orderId"):
            raise ControlError(400, "orderId is required")
        status_id = body.get("statusId")
        if status_id is None and body.get("complete"):
            status_id = CREDIT_COMPLETE_STATUS
        return self._change(
            req,
            "brightpearl",
            body,
            lambda v: v.raise_credit(
                req,
                int(body["orderId"]),
                body.get("rows"),
                self._copies(body),
                status_id=int(status_id) if status_id is not None else None,
            ),
        )

    @route("POST", r"/brightpearl/contacts/(?P<contact_id>\d+)")
    def bp_contact(self, req: Request, contact_id: str) -> Any:
        """Edit a contact: {"email", "firstName", "lastName", "tags": [ids], "customFields": {},
        "touch": true}. Custom-field edits alone do not move updatedOn (as in Brightpearl)."""
        body = self._body(req)

        def change(vendor: Any) -> Any:
            from connectors.brightpearl import fake as bp
            from connectors.sandbox.core import iso_ms, utcnow

            store = self.app.store
            code = req.account.code
            doc = store.get_json("brightpearl", code, "contact", contact_id)
            if doc is None:
                raise ControlError(404, f"No contact {contact_id}")
            touched = False
            if "email" in body:
                doc["communication"]["emails"] = (
                    {"PRI": {"email": body["email"]}} if body["email"] else {}
                )
                touched = True
            for field in ("firstName", "lastName"):
                if field in body:
                    doc[field] = body[field]
                    touched = True
            if "tags" in body:
                doc["contactTags"] = ",".join(str(int(t)) for t in sorted(body["tags"]))
                touched = True
            if touched or body.get("touch"):
                doc["updatedOn"] = iso_ms(utcnow())
            store.put(bp.contact_rec(code, doc))
            if "customFields" in body:
                custom = store.get_json("brightpearl", code, "contact_custom", contact_id) or {}
                custom.update(body["customFields"])
                store.put(bp.simple_rec(code, "contact_custom", int(contact_id), custom))
            if touched:
                bp.fire(
                    self.app,
                    req,
                    req.account,
                    "contact.modified",
                    int(contact_id),
                    self._copies(body),
                )
            return doc

        return self._change(req, "brightpearl", body, change)

    @route("POST", r"/brightpearl/products/(?P<product_id>\d+)/stock")
    def bp_stock(self, req: Request, product_id: str) -> Any:
        """Set stock: {"warehouseId": 1, "onHand": 10, "allocated": 0}; fires
        product.modified.on-hand-modified."""
        body = self._body(req)

        def change(vendor: Any) -> Any:
            from connectors.brightpearl import fake as bp

            store = self.app.store
            code = req.account.code
            doc = store.get_json("brightpearl", code, "availability", product_id)
            if doc is None:
                raise ControlError(404, f"No product {product_id}")
            levels = {int(k): v for k, v in doc["warehouses"].items()}
            warehouse = int(body.get("warehouseId", 1))
            level = dict(
                levels.get(warehouse) or {"inStock": 0, "onHand": 0, "allocated": 0, "inTransit": 0}
            )
            if "onHand" in body:
                level["onHand"] = int(body["onHand"])
            if "allocated" in body:
                level["allocated"] = int(body["allocated"])
            level["inStock"] = level["onHand"] + level["allocated"]
            levels[warehouse] = level
            new = bp.availability_doc(levels)
            store.put(bp.availability_rec(code, int(product_id), new))
            bp.fire(
                self.app,
                req,
                req.account,
                "product.modified.on-hand-modified",
                int(product_id),
                self._copies(body),
            )
            return new

        return self._change(req, "brightpearl", body, change)

    @route("POST", r"/mailchimp/unsubscribe")
    def mc_unsubscribe(self, req: Request) -> Any:
        """{"email", "reason": "manual", "source": "user"|"admin"} -> the member, or 404."""
        body = self._body(req)
        if not body.get("email"):
            raise ControlError(400, "email is required")
        result = self._change(
            req,
            "mailchimp",
            body,
            lambda v: v.unsubscribe(
                req,
                body["email"],
                body.get("reason", "manual"),
                body.get("source", "user"),
                self._copies(body),
            ),
        )
        if result is None:
            raise ControlError(404, f"No member {body['email']}")
        return result

    @route("GET", r"/mailchimp/batch-results/(?P<code>\w+)/(?P<name>[\w.-]+)")
    def mc_batch_results(self, req: Request, code: str, name: str) -> Response:
        """A batch's response_body_url: Mailchimp's is a pre-signed S3 URL (no auth; the
        signature is in the query), so this answers as S3 would, not as the API."""
        return results_response(self.app, code, name, req.query, req.headers)

    @route("POST", r"/bigcommerce/orders")
    def bc_order(self, req: Request) -> Any:
        """A storefront order: {"lines": [{"sku", "quantity", "price"?}], "email", "first_name",
        "last_name", "customer_id", "payment_method", "status_id"}."""
        body = self._body(req)
        return self._change(
            req, "bigcommerce", body, lambda v: v.place_order(req, body, self._copies(body))
        )

    @route("POST", r"/bigcommerce/orders/(?P<order_id>\d+)/status")
    def bc_status(self, req: Request, order_id: str) -> Any:
        body = self._body(req)
        return self._change(
            req,
            "bigcommerce",
            body,
            lambda v: v.set_status(
                req, int(order_id), body.get("status_id"), None, self._copies(body)
            ),
        )

    @route("POST", r"/bigcommerce/orders/(?P<order_id>\d+)/refund")
    def bc_refund(self, req: Request, order_id: str) -> Any:
        """{"items": [{"sku", "quantity"}]} -> the refund; fires store/order/refund/created."""
        body = self._body(req)
        return self._change(
            req,
            "bigcommerce",
            body,
            lambda v: v.refund(req, int(order_id), body.get("items"), self._copies(body)),
        )

    @route("POST", r"/salesforce/records")
    def sf_insert(self, req: Request) -> Any:
        """Insert a record directly: {"type": "Account", "fields": {...}} (e.g. a duplicate
        external id, to see the 300 Multiple Choices answer)."""
        body = self._body(req)
        if not body.get("type"):
            raise ControlError(400, "type is required")
        return self._change(
            req,
            "salesforce",
            body,
            lambda v: v.insert_raw(req.account.code, body["type"], dict(body.get("fields") or {})),
        )

    @route("POST", r"/salesforce/expire-tokens")
    def sf_expire(self, req: Request) -> dict[str, Any]:
        """Invalidate the org's access token: the next call gets 401 INVALID_SESSION_ID."""
        from connectors.salesforce.fake import access_token

        account = self._account("salesforce", self._body(req).get("account"))
        account.creds["token_generation"] = str(int(account.creds.get("token_generation", "0")) + 1)
        account.creds["access_token"] = access_token(account)
        self.app.save_account(account)
        return {"expired": True, "org_id": account.code}

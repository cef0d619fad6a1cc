"""Changes made as a back office makes them: they go through the vendor code and fire webhooks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.mailchimp.fake.batches import results_response
from connectors.sandbox.control.base import ControlBase, ControlError, _int, route
from connectors.sandbox.core import Request, Response
from connectors.sandbox.seed import CREDIT_COMPLETE_STATUS

if TYPE_CHECKING:
    pass


class ChangeRoutes(ControlBase):
    """POST /_sandbox/{vendor}/...: status changes, shipments, credits, unsubscribes…"""

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

    @route("POST", r"/brightpearl/orders/(?P<order_id>\d+)/invoice")
    def bp_invoice(self, req: Request, order_id: str) -> Any:
        """Invoice a sales order (as Sales Order Close does): it can be credited from then on."""
        body = self._body(req)
        return self._change(req, "brightpearl", body, lambda v: v.invoice(req, int(order_id)))

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
            # No event: Brightpearl lists none for contacts (help page "Subscribable resource
            # events"); the console finds changed contacts by their updatedOn.
            return doc

        return self._change(req, "brightpearl", body, change)

    @route("POST", r"/brightpearl/products/(?P<product_id>\d+)")
    def bp_product(self, req: Request, product_id: str) -> Any:
        """Edit a product: {"name", "sku", "status"}; moves its updatedOn. No event fires (the
        console finds changed products by their updatedOn)."""
        body = self._body(req)

        def change(vendor: Any) -> Any:
            from connectors.brightpearl import fake as bp
            from connectors.sandbox.core import iso_ms, utcnow

            store = self.app.store
            doc = store.get_json("brightpearl", req.account.code, "product", product_id)
            if doc is None:
                raise ControlError(404, f"No product {product_id}")
            if "name" in body:
                doc["salesChannels"][0]["productName"] = str(body["name"])
            if "sku" in body:
                doc["identity"]["sku"] = str(body["sku"])
            if "status" in body:
                doc["status"] = str(body["status"])
            doc["updatedOn"] = iso_ms(utcnow())
            store.put(bp.product_rec(req.account.code, doc))
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

    @route("POST", r"/brightpearl/products/(?P<product_id>\d+)/price")
    def bp_price(self, req: Request, product_id: str) -> Any:
        """Set a price: {"priceListId": 1, "price": "12.50"} (no webhook: Brightpearl's
        documented events name no price change)."""
        body = self._body(req)

        def change(vendor: Any) -> Any:
            from connectors.brightpearl.fake.prices import set_product_price

            try:
                return set_product_price(
                    self.app.store,
                    req.account.code,
                    int(product_id),
                    int(body.get("priceListId", 1)),
                    body.get("price"),
                )
            except KeyError:
                raise ControlError(404, f"No product {product_id}") from None

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

    @route("POST", r"/mailchimp/clean")
    def mc_clean(self, req: Request) -> Any:
        """{"email", "reason": "hard"|"abuse"} -> the member (now cleaned), or 404."""
        body = self._body(req)
        if not body.get("email"):
            raise ControlError(400, "email is required")
        result = self._change(
            req,
            "mailchimp",
            body,
            lambda v: v.clean(req, body["email"], body.get("reason", "hard"), self._copies(body)),
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

    @route("POST", r"/bigcommerce/customers")
    def bc_customer(self, req: Request) -> Any:
        """A shopper signs up: {"email", "first_name", "last_name", "customer_group_id"}."""
        body = self._body(req)
        return self._change(req, "bigcommerce", body, lambda v: v.add_customer(req, body))

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

    @route("PATCH", r"/salesforce/records/(?P<sobject>\w+)/(?P<record_id>\w+)")
    def sf_update(self, req: Request, sobject: str, record_id: str) -> Any:
        """Change a record as a sales rep would: {"fields": {...}} (LastModifiedById is the
        rep's, so the console reads it as someone else's change)."""
        body = self._body(req)

        def update(v: Any) -> Any:
            doc = v.update_raw(req.account.code, sobject, record_id, dict(body.get("fields") or {}))
            if doc is None:
                raise ControlError(404, f"no {sobject} {record_id}")
            return doc

        return self._change(req, "salesforce", body, update)

    @route("POST", r"/salesforce/jwt-certificate")
    def sf_jwt_certificate(self, req: Request) -> dict[str, Any]:
        """Upload the app's certificate: {"public_key": PEM}. From then on a JWT bearer sign-in
        must carry an RS256 signature this key verifies (before it, any signature passes)."""
        body = self._body(req)
        account = self._account("salesforce", body.get("account"))
        if not str(body.get("public_key") or "").startswith("-----BEGIN PUBLIC KEY-----"):
            raise ControlError(400, "public_key must be a PEM public key")
        account.creds["jwt_public_key"] = str(body["public_key"])
        self.app.save_account(account)
        return {"org_id": account.code, "certificate": True}

    @route("POST", r"/salesforce/expire-tokens")
    def sf_expire(self, req: Request) -> dict[str, Any]:
        """Invalidate the org's access token: the next call gets 401 INVALID_SESSION_ID."""
        from connectors.salesforce.fake import access_token

        account = self._account("salesforce", self._body(req).get("account"))
        account.creds["token_generation"] = str(int(account.creds.get("token_generation", "0")) + 1)
        account.creds["access_token"] = access_token(account)
        self.app.save_account(account)
        return {"expired": True, "org_id": account.code}

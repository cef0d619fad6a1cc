"""Brightpearl, the ERP and source of truth.

Paths: {base}/public-api/{account}/{service}-service/... Auth, one of three kinds (the
connection's `auth` setting):
- a staff token: `brightpearl-app-ref` and `brightpearl-staff-token`, what a private app made
  today uses (help.brightpearl.com/hc/en-us/articles/4414311366545);
- OAuth: `Authorization: Bearer …` with `brightpearl-app-ref` and `brightpearl-dev-ref`
  (help.brightpearl.com/hc/en-us/articles/4414330000657), the token renewed with the refresh
  token (connectors/brightpearl/oauth.py);
- an account token: `brightpearl-app-ref` and `brightpearl-account-token`, the older private
  apps (help.brightpearl.com/hc/en-us/articles/211124966): connections saved before the
  choice existed keep it.
One GET returns at most 200 orders or contacts (500 goods-out notes); the account allows 200
requests a minute, shared with every other app on it, and answers 503 when that is spent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from itertools import islice
from typing import Any
from urllib.parse import quote

import httpx

from connectors.base import Connector
from connectors.brightpearl.fields import AUTH_REFUSED, CREDENTIAL_FIELDS, SETTING_FIELDS
from connectors.brightpearl.idsets import idset, idset_text
from connectors.brightpearl.oauth import DEFAULT_TOKEN_URL, BrightpearlOAuth, SignInRefused
from connectors.budget import BudgetHint
from connectors.errors import (
    ConnectorError,
    NotFoundError,
    RejectedError,
    ThrottledError,
    TransientError,
)
from connectors.http import chunks
from connectors.webhooks import IdItem, ids_count

# Brightpearl's order types, as order-search's orderTypeId filter knows them.
ORDER_TYPE_IDS = {"SO": 1, "PO": 2, "SC": 3, "PC": 4}
# A search filter it cannot parse answers 500 with this code: not worth a retry.
_BAD_FILTER_CODES = {"CMNC-018"}


def bp_datetime(value: datetime) -> str:
    """A timestamp in the form Brightpearl's search filters take."""
    return value.isoformat(timespec="seconds")


class Brightpearl(Connector):
    system = "brightpearl"
    label = "Brightpearl"
    default_base_url = "https://euw1.brightpearlconnect.com"
    auth_setting = "auth"
    # Brands connected before the choice existed sent an account token: they keep it.
    default_auth_kind = "account_token"
    credential_fields = CREDENTIAL_FIELDS
    setting_fields = SETTING_FIELDS
    batch_size = 200
    goods_note_batch_size = 500
    default_limit = 200
    default_window = 60.0
    # Kept back from backfills so order-status events still go through.
    default_reserve = 10
    last_search_total: int | None = None
    oauth: BrightpearlOAuth | None = None

    def api_base(self) -> str:
        return f"{self.connection.base_url.rstrip('/')}/public-api/{self.settings['account']}"

    def auth_headers(self) -> dict[str, str]:
        headers = {"brightpearl-app-ref": self.creds["app_ref"]}
        kind = self.auth_kind(self.settings)
        if kind == "staff_token":
            headers["brightpearl-staff-token"] = self.creds["staff_token"]
        elif kind == "oauth":
            # The bearer token itself comes from auth(), renewed as it expires.
            headers["brightpearl-dev-ref"] = self.creds["dev_ref"]
        else:
            headers["brightpearl-account-token"] = self.creds["account_token"]
        return headers

    def auth(self) -> httpx.Auth | None:
        if self.auth_kind(self.settings) != "oauth":
            return None
        url = str(self.settings.get("oauth_token_url") or DEFAULT_TOKEN_URL)
        self.oauth = BrightpearlOAuth(
            connection_id=self.connection.pk,
            token_url=url.replace("{account}", quote(str(self.settings["account"]), safe="")),
            client_id=self.creds["app_ref"],
            client_secret=str(self.creds.get("client_secret") or ""),
            creds=dict(self.creds),
            # Renewed tokens are secrets too: the HTTP layer made after this scrubs them.
            on_token=lambda token: self.http.secrets.append(token),
        )
        return self.oauth

    def read_budget(self, response: httpx.Response) -> BudgetHint | None:
        remaining = response.headers.get("brightpearl-requests-remaining")
        if remaining is None:
            return None
        period = response.headers.get("brightpearl-next-throttle-period")
        return BudgetHint(
            remaining=int(remaining),
            reset_in=int(period) / 1000 if period is not None else None,
        )

    def classify(self, response: httpx.Response) -> ConnectorError | None:
        answer = self.error_answer(response)
        if answer is None:
            return None
        status, code, message, kw = answer.status, answer.code, answer.message, answer.kw
        if status == 503:
            period = response.headers.get("brightpearl-next-throttle-period")
            if (
                "too many requests" in message.lower()
                or response.headers.get("brightpearl-requests-remaining") == "0"
            ):
                return ThrottledError(
                    "Brightpearl's 200-requests-a-minute allowance is spent.",
                    retry_after=int(period) / 1000 if period else None,
                    **kw,
                )
            return TransientError("Brightpearl is temporarily unavailable (HTTP 503).", **kw)
        if status == 401:
            return SignInRefused(AUTH_REFUSED[self.auth_kind(self.settings)], **kw)
        if status == 404 or code == "CMNC-404":
            return NotFoundError("Brightpearl has no such record or address.", **kw)
        if code in _BAD_FILTER_CODES:
            return RejectedError("Brightpearl could not parse a search filter.", **kw)
        return None

    # --- health ------------------------------------------------------------------
    def check(self) -> str:
        statuses = self.order_statuses()
        account = self.settings["account"]
        return f"Signed in to Brightpearl account {account}: {len(statuses)} order statuses."

    # --- orders ------------------------------------------------------------------
    def _by_idset(
        self, path: str, ids: Iterable[int | str], size: int, params: dict | None = None
    ) -> Iterator[dict]:
        unique = sorted({int(i) for i in ids})
        for batch in chunks(unique, size):
            body = self._get_found(
                f"{path}/{idset(batch)}", params=params, batch_size=len(batch), ok_statuses=(207,)
            )
            records = (body or {}).get("response") or []
            yield from records.values() if isinstance(records, dict) else records

    def _get_found(self, path: str, **kwargs: Any) -> Any:
        """A GET by id set, where "none of these exist" is an answer, not an error.

        Brightpearl says so with 404 CMNC-404 ("we use 404 to indicate that your request
        returned 'nothing'": help.brightpearl.com/hc/en-us/articles/211125126), though an
        order GET was also recorded answering `200 {"response":[]}`: both mean gone, so the
        caller sees the ids missing (a flow notes them in ctx.missing) and no run fails.
        """
        try:
            return self.http.json("GET", path, **kwargs)
        except NotFoundError:
            return None

    def orders(self, ids: Iterable[int | str]) -> Iterator[dict]:
        """Sales orders by id, 200 a request. Ids that do not exist are simply absent."""
        return self._by_idset("/order-service/order", ids, self.batch_size)

    def search(
        self, path: str, params: dict[str, Any], page_size: int | None = None
    ) -> Iterator[dict]:
        """Every row of a Brightpearl search, page by page, as dicts keyed by column name."""
        size = page_size or int(self.settings.get("search_page_size", 500))
        first = 1  # Brightpearl's firstResult counts from 1.
        while True:
            body = self.http.json(
                "GET", path, params={**params, "pageSize": size, "firstResult": first}
            )
            response = (body or {}).get("response") or {}
            meta = response.get("metaData") or {}
            if first == 1:
                self.last_search_total = meta.get("resultsAvailable")
            columns = [c["name"] for c in meta.get("columns", [])]
            for row in response.get("results") or []:
                yield dict(zip(columns, row, strict=False))
            if not meta.get("morePagesAvailable"):
                return
            first = int(meta.get("lastResult", first + size - 1)) + 1

    def changed_order_ids(
        self, since: datetime, until: datetime | None = None, order_type: str = "SO"
    ) -> Iterator[dict]:
        """Search rows (orderId, updatedOn, orderStatusId, contactId…) changed in a window."""
        window = f"{bp_datetime(since)}/{bp_datetime(until) if until else ''}"
        return self.search(
            "/order-service/order-search",
            {"updatedOn": window, "orderTypeId": ORDER_TYPE_IDS[order_type]},
        )

    def all_order_ids(self, order_type: str = "SO") -> Iterator[dict]:
        return self.search(
            "/order-service/order-search", {"orderTypeId": ORDER_TYPE_IDS[order_type]}
        )

    def order_statuses(self) -> list[dict]:
        return (self.http.json("GET", "/order-service/order-status") or {}).get("response") or []

    def set_order_status(self, order_id: int, status_id: int) -> None:
        self.http.request(
            "PUT",
            f"/order-service/order/{int(order_id)}/status",
            json_body={"orderStatusId": status_id},
        )

    def create_order(self, order: dict) -> int:
        """Create a sales order. Not retried once sent: a lost answer must not make two."""
        body = self.http.json("POST", "/order-service/order", json_body=order, idempotent=False)
        return int(body["response"])

    def create_sales_order(self, order: dict) -> int:
        """The atomic sales-order POST: the order and its rows in one call (it fires
        sales-order.created). Never sent twice by this layer: after a lost answer the engine
        looks the order up by its external ref instead (order_ids_by_external_ref)."""
        body = self.http.json(
            "POST", "/order-service/sales-order", json_body=order, idempotent=False
        )
        return int(body["response"])

    def order_ids_by_external_ref(self, refs: Iterable[str]) -> dict[str, int]:
        """The sales order carrying each external ref (an order a channel created), by ref.
        Several for one ref would be duplicates: the oldest is the one the console keeps."""
        found: dict[str, int] = {}
        for ref in dict.fromkeys(str(r) for r in refs if str(r)):
            rows = self.search("/order-service/order-search", {"externalRef": ref})
            ids = sorted(int(r["orderId"]) for r in rows if str(r.get("externalRef")) == ref)
            if ids:
                found[ref] = ids[0]
        return found

    def orders_by_reference(self, reference: str) -> list[dict]:
        """The orders and credits whose customer reference is this one (the “#1001” a
        customer quotes), as search rows: orderId, orderTypeId. The search may match more
        loosely than the whole reference; only exact matches (case aside) are kept."""
        wanted = reference.strip().lower()
        if not wanted:
            return []
        rows = islice(
            self.search(
                "/order-service/order-search", {"customerRef": reference.strip()}, page_size=50
            ),
            50,  # a reference many orders share is not one to look up: one page is enough
        )
        return [
            {"orderId": int(r["orderId"]), "orderTypeId": int(r.get("orderTypeId") or 1)}
            for r in rows
            if str(r.get("customerRef") or "").strip().lower() == wanted
        ]

    def product_ids_by_sku(self, skus: Iterable[str]) -> dict[str, int]:
        """Each SKU's product id (a search a SKU); SKUs Brightpearl does not know are absent."""
        found: dict[str, int] = {}
        for sku in dict.fromkeys(str(s) for s in skus if str(s)):
            for row in self.search("/product-service/product-search", {"SKU": sku}):
                if str(row.get("SKU", "")).lower() == sku.lower():
                    found[sku] = int(row["productId"])
                    break
        return found

    # Which search finds a kind of record by an id set (its id column is an IDSET filter).
    _ID_SEARCHES = {
        "order": ("/order-service/order-search", "orderId"),
        "contact": ("/contact-service/contact-search", "contactId"),
        "product": ("/product-service/product-search", "productId"),
    }

    def existing_ids(self, kind: str, items: Sequence[IdItem]) -> set[int]:
        """Which of these ids (an id set, compact) Brightpearl has: one search filtered by
        the id set, asking for the id column only (a further page only for every 500 found),
        or for goods-out notes one GET of at most 500 (their search cannot filter by an id
        set). An id set of unknown ids costs exactly one call."""
        text = idset_text(items)
        if kind == "goods-out-note":
            path = f"/warehouse-service/order/*/goods-note/goods-out/{text}"
            try:
                return {note_id for note_id, _ in self._notes(path, ids_count(items))}
            except NotFoundError:
                # A GET naming only ids that do not exist may answer 404 rather than an
                # empty map (issue 16, "Brightpearl empty multi-GET"): none of them exist.
                return set()
        path, column = self._ID_SEARCHES[kind]
        rows = self.search(path, {column: text, "columns": column}, page_size=500)
        return {int(row[column]) for row in rows}

    # --- sales credits (refunds and returns) -----------------------------------------
    def sales_credits(self, ids: Iterable[int | str]) -> Iterator[dict]:
        return self._by_idset("/order-service/sales-credit", ids, self.batch_size)

    def changed_sales_credit_ids(
        self, since: datetime, until: datetime | None = None
    ) -> Iterator[dict]:
        return self.changed_order_ids(since, until, order_type="SC")

    def sales_credit_ids_of(self, order_ids: Iterable[int | str]) -> list[int]:
        """The sales credits raised on these sales orders (a search by parentOrderId, 200
        orders a request)."""
        found: list[int] = []
        for batch in chunks(sorted({int(i) for i in order_ids}), self.batch_size):
            rows = self.search(
                "/order-service/order-search",
                {"orderTypeId": ORDER_TYPE_IDS["SC"], "parentOrderId": idset(batch)},
            )
            found.extend(int(r["orderId"]) for r in rows)
        return found

    def create_sales_credit(self, credit: dict) -> int:
        body = self.http.json(
            "POST", "/order-service/sales-credit", json_body=credit, idempotent=False
        )
        return int(body["response"])

    # --- customer payments ---------------------------------------------------------
    def create_customer_payment(self, payment: dict) -> int:
        """Record a customer payment (accounting-service/customer-payment). Never sent twice
        by this layer: after a lost answer the engine looks it up by its transactionRef."""
        body = self.http.json(
            "POST", "/accounting-service/customer-payment", json_body=payment, idempotent=False
        )
        return int(body["response"])

    def customer_payment_ids_by_ref(self, refs: Iterable[str]) -> dict[str, int]:
        """The payment carrying each transactionRef, by ref (a search a ref)."""
        found: dict[str, int] = {}
        for ref in dict.fromkeys(str(r) for r in refs if str(r)):
            rows = self.search(
                "/accounting-service/customer-payment-search", {"transactionRef": ref}
            )
            ids = sorted(int(r["paymentId"]) for r in rows if str(r.get("transactionRef")) == ref)
            if ids:
                found[ref] = ids[0]
        return found

    def customer_payments_of_orders(self, order_ids: Iterable[int | str]) -> dict[int, list[dict]]:
        """{order id: its customer payments (search rows)}, one search per 200 orders."""
        found: dict[int, list[dict]] = {}
        for batch in chunks(sorted({int(i) for i in order_ids}), self.batch_size):
            rows = self.search(
                "/accounting-service/customer-payment-search", {"orderId": idset(batch)}
            )
            for row in rows:
                found.setdefault(int(row["orderId"]), []).append(row)
        return found

    # --- goods-out notes (shipments) -------------------------------------------------
    def goods_out_notes(
        self,
        order_ids: Iterable[int | str] | None = None,
        note_ids: Iterable[int | str] | None = None,
    ) -> Iterator[tuple[int, dict]]:
        """(note id, note) for the given orders or notes. A partial shipment has several."""
        if note_ids is not None:
            for batch in chunks(sorted({int(i) for i in note_ids}), self.goods_note_batch_size):
                path = f"/warehouse-service/order/*/goods-note/goods-out/{idset(batch)}"
                yield from self._notes(path, len(batch))
        if order_ids is not None:
            for batch in chunks(sorted({int(i) for i in order_ids}), self.batch_size):
                path = f"/warehouse-service/order/{idset(batch)}/goods-note/goods-out"
                yield from self._notes(path, len(batch))

    def _notes(self, path: str, size: int) -> Iterator[tuple[int, dict]]:
        body = self._get_found(path, batch_size=size)
        for note_id, note in ((body or {}).get("response") or {}).items():
            yield int(note_id), note

    # --- contacts --------------------------------------------------------------------
    def contacts(self, ids: Iterable[int | str], *, custom_fields: bool = False) -> Iterator[dict]:
        """Contacts by id, 200 a request; with `custom_fields`, each carries its
        `customFields` too (Brightpearl sends them only when asked: includeOptional)."""
        params = {"includeOptional": "customFields"} if custom_fields else None
        return self._by_idset("/contact-service/contact", ids, self.batch_size, params)

    def postal_addresses(self, ids: Iterable[int | str]) -> dict[int, dict]:
        """Postal addresses by id (a contact's postAddressIds), 200 a request:
        GET /contact-service/postal-address/{idset} (api-docs.brightpearl.com/contact/
        postal-address/get.html). Ids that do not exist are simply absent."""
        return {
            int(a["addressId"]): a
            for a in self._by_idset("/contact-service/postal-address", ids, self.batch_size)
        }

    def contact_ids_by_email(self, email: str) -> list[int]:
        rows = self.search("/contact-service/contact-search", {"primaryEmail": email})
        # The search matches words, not the whole address: keep exact matches only.
        return sorted(
            int(r["contactId"])
            for r in rows
            if str(r.get("primaryEmail", email)).strip().lower() == email.strip().lower()
        )

    def changed_contact_ids(self, since: datetime, until: datetime | None = None) -> Iterator[dict]:
        window = f"{bp_datetime(since)}/{bp_datetime(until) if until else ''}"
        return self.search("/contact-service/contact-search", {"updatedOn": window})

    def create_contact(self, contact: dict) -> int:
        body = self.http.json(
            "POST", "/contact-service/contact", json_body=contact, idempotent=False
        )
        return int(body["response"])

    def patch_contact(self, contact_id: int | str, ops: list[dict]) -> None:
        """JSON-Patch on a contact's own fields (contact/contact/patch.html): such as
        [{"op": "add", "path": "/communication/telephones/MOB", "value": "07700 900123"}]."""
        self.http.request(
            "PATCH",
            f"/contact-service/contact/{int(contact_id)}",
            json_body=ops,
            idempotent=True,  # the same values set twice are set once
        )

    def tags(self) -> dict[int, str]:
        body = self.http.json("GET", "/contact-service/tag")
        tags = (body or {}).get("response") or {}
        items = tags.values() if isinstance(tags, dict) else tags
        return {int(t["tagId"]): t["tagName"] for t in items}

    def add_tags(self, contact_ids: Iterable[int | str], tag_ids: Iterable[int | str]) -> None:
        tag_set = idset(tag_ids)
        for batch in chunks(sorted({int(i) for i in contact_ids}), self.batch_size):
            self.http.request(
                "POST",
                f"/contact-service/contact/{idset(batch)}/tag/{tag_set}",
                batch_size=len(batch),
            )

    def custom_fields(self, contact_id: int) -> dict:
        body = self.http.json("GET", f"/contact-service/contact/{int(contact_id)}/custom-field")
        return (body or {}).get("response") or {}

    def set_custom_fields(self, contact_id: int, values: dict[str, Any]) -> None:
        patch = [
            {"op": "add", "path": f"/{name}", "value": value} for name, value in values.items()
        ]
        self.http.request(
            "PATCH",
            f"/contact-service/contact/{int(contact_id)}/custom-field",
            json_body=patch,
            idempotent=True,
        )

    # --- stock -----------------------------------------------------------------------
    def availability(self, product_ids: Iterable[int | str]) -> dict[int, dict]:
        out: dict[int, dict] = {}
        for batch in chunks(sorted({int(i) for i in product_ids}), self.batch_size):
            body = self._get_found(
                f"/warehouse-service/product-availability/{idset(batch)}", batch_size=len(batch)
            )
            for pid, levels in ((body or {}).get("response") or {}).items():
                out[int(pid)] = levels
        return out

    def warehouses(self) -> list[dict]:
        """The account's warehouses: {id, name, …} each."""
        return (self.http.json("GET", "/warehouse-service/warehouse") or {}).get("response") or []

    def products(self, ids: Iterable[int | str]) -> Iterator[dict]:
        return self._by_idset("/product-service/product", ids, self.batch_size)

    # --- webhooks --------------------------------------------------------------------
    def webhooks(self) -> list[dict]:
        """The account's webhooks; none is a 404 (the "empty" id set), read as an empty list."""
        return (self._get_found("/integration-service/webhook") or {}).get("response") or []

    def register_webhook(self, subscribe_to: str, uri: str, body_template: str) -> int:
        """Register (once) a POST webhook with an ids-only JSON body; returns its id."""
        for hook in self.webhooks():
            if hook.get("subscribeTo") == subscribe_to and hook.get("uriTemplate") == uri:
                return int(hook["id"])
        body = self.http.json(
            "POST",
            "/integration-service/webhook",
            json_body={
                "subscribeTo": subscribe_to,
                "httpMethod": "POST",
                "uriTemplate": uri,
                "bodyTemplate": body_template,
                "contentType": "application/json",
                "idSetAccepted": True,
                "qualityOfService": 1,
            },
            idempotent=False,
        )
        return int(body["response"])

    def delete_webhook(self, webhook_id: int) -> None:
        self.http.request("DELETE", f"/integration-service/webhook/{int(webhook_id)}")

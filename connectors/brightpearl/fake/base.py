"""The Brightpearl fake's base: its router, auth, rate headers, error answers and shared readers
(id sets, OPTIONS, resource searches). The services' routes are mixins on top of it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from connectors.brightpearl.fake.columns import Col, search_filter, search_sort
from connectors.brightpearl.fake.constants import (
    JSON_UTF8,
    ORDER_TYPE_NAMES,
    PAYMENT_STATUS_IDS,
    SHIPPING_STATUS_NAMES,
    STOCK_STATUS_NAMES,
    V,
    errors,
)
from connectors.brightpearl.fake.records import order_rec
from connectors.brightpearl.fake.tokens import token_state
from connectors.sandbox.core import (
    Request,
    Response,
    Router,
    Vendor,
    compress_ids,
    dumps,
    idset_size,
    iso_ms,
    json_object,
    json_response,
    parse_idset,
    raw_json,
    utcnow,
)
from connectors.sandbox.throttle import Hit

router = Router()
route = router.route


def unauthorised(message: str) -> Response:
    """Brightpearl's 401: {"response": message} (recorded: client_error_expired.yml,
    client_error_invalid.yml)."""
    return json_response({"response": message}, 401, content_type=JSON_UTF8)


# The message of the 404 for a GET that found nothing. Recorded: a contact GET ("No Contact
# Found", recorded/customer/get/empty_not_found.yml in ruby-brightpearl, 2025) and a webhook
# GET ("No webhooks available in ID Set 99999", recorded/webhook/get/not_found.yml); the
# others are the sandbox's, in the same words.
EMPTY_MESSAGES = {
    "contact": "No Contact Found",
    "webhook": "No webhooks available in ID Set {ids}",
    "order": "No Order Found",
    "product": "No Product Found",
    "sales_credit": "No Sales Credit Found",
    "goods_out_note": "No Goods-Out Note Found",
    "availability": "No Product Availability Found",
}


class BrightpearlBase(Vendor):
    """What every Brightpearl route shares; see the package docstring."""

    name = V
    router = router

    def _parts(self, req: Request) -> tuple[str, str]:
        """(account code, the path after it) from /public-api/{account}/..."""
        parts = req.path.split("/", 3)
        if len(parts) < 3 or parts[1] != "public-api":
            return "", req.path
        return parts[2], "/" + (parts[3] if len(parts) > 3 else "")

    def bucket(self, req: Request) -> str:
        return self._parts(req)[0] or "-"

    def write_keys(self, req: Request) -> list[str]:
        """The record a write names: an order or contact by id, or a create's natural keys
        (an order's reference and externalRef, a credit's parentId, a contact's email)."""
        parts = req.sent_path.split("/", 3)
        path = "/" + (parts[3] if len(parts) > 3 else "")
        body = json_object(req)
        segments = path.strip("/").split("/")
        if len(segments) >= 3 and segments[2].isdigit():
            kind = {"order": "order", "contact": "contact"}.get(segments[1])
            if kind:
                return [f"{kind}:{segments[2]}"]
        keys = []
        if path.rstrip("/") in ("/order-service/order", "/order-service/sales-order"):
            reference = body.get("reference") or body.get("ref")
            keys += [f"reference:{reference}"] if reference else []
            keys += [f"externalRef:{body['externalRef']}"] if body.get("externalRef") else []
        elif path.rstrip("/") == "/order-service/sales-credit":
            keys += [f"reference:{body['ref']}"] if body.get("ref") else []
            keys += [f"externalRef:{body['externalRef']}"] if body.get("externalRef") else []
            keys += [f"parentId:{body['parentId']}"] if body.get("parentId") else []
        elif path.rstrip("/") == "/accounting-service/customer-payment":
            ref = body.get("transactionRef")
            keys += [f"transactionRef:{ref}"] if ref else []
            keys += [f"order:{body['orderId']}"] if body.get("orderId") else []
        elif path.rstrip("/") == "/contact-service/contact":
            emails = (body.get("communication") or {}).get("emails") or {}
            email = (emails.get("PRI") or {}).get("email")
            keys += [f"email:{str(email).lower()}"] if email else []
        return keys

    def counts_toward_limit(self, req: Request) -> bool:
        # The token endpoint is another host (oauth.brightpearlapp.com), not the API's.
        return req.path.startswith("/public-api/")

    def authenticate(self, req: Request) -> Response | None:
        """Three kinds of credential, each with brightpearl-app-ref: an account token (older
        private apps), a staff token (private apps made today), or an OAuth bearer token with
        brightpearl-dev-ref. The token endpoint itself takes none."""
        if req.path.startswith("/token/"):
            return None
        code, rest = self._parts(req)
        req.path = rest
        account = self.app.accounts.get(V, code)
        app_ref = req.headers.get("brightpearl-app-ref")
        token = req.headers.get("brightpearl-account-token")
        staff = req.headers.get("brightpearl-staff-token")
        bearer = (req.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        if not app_ref or not (token or staff or bearer):
            return unauthorised("Not authenticated. You must provide a valid authentication token.")
        if account is None:
            return unauthorised(f"Invalid account code: {code}")
        creds = account.creds
        if token:
            ok, shown = app_ref == creds["app_ref"] and token == creds["account_token"], token
        elif staff:
            ok, shown = app_ref == creds["app_ref"] and staff == creds["staff_token"], staff
        else:
            state = token_state(self.app, account, bearer)
            if state == "expired":
                return unauthorised("Authorization token expired")  # as recorded
            ok = (
                app_ref == creds["app_ref"]
                and req.headers.get("brightpearl-dev-ref") == creds["dev_ref"]
                and state == "valid"
            )
            shown = bearer
        if not ok:
            return unauthorised(f"Invalid instance token: {shown}")
        req.account = account
        return None

    def limit_headers(self, req: Request, hit: Hit | None) -> dict[str, str]:
        if hit is None:
            return {}
        # Unlimited (limit 0/None) still reports a plausible budget: the real range is 0-199.
        remaining = hit.remaining if hit.limit else 199
        return {
            "brightpearl-requests-remaining": str(remaining),
            "brightpearl-next-throttle-period": str(hit.reset_ms),
        }

    def throttled(self, req: Request) -> Response:
        return json_response(
            {
                "response": "You have sent too many requests. "
                "Please wait before sending another request"
            },
            503,
            content_type=JSON_UTF8,
        )

    def server_error(self, req: Request) -> Response:
        return errors("CMNU-003", "Internal Server Error", 500)

    def not_found(self, req: Request) -> Response:
        return errors("CMNC-404", f"Cannot find the resource {req.path}", 404)

    def bad_request(self, req: Request, message: str) -> Response:
        return errors("CMNC-400", message, 400)

    # --- helpers ---------------------------------------------------------------------------

    @property
    def settings(self) -> Any:
        return self.app.settings

    def _ids(self, text: str, limit: int) -> list[int] | Response:
        """Parse an id set, refusing one larger than the resource allows.

        What Brightpearl answers for an oversized set is not recorded: the sandbox answers
        413 with Brightpearl's error structure (documented in the README).
        """
        try:
            size = idset_size(text)
            if size > limit:
                return errors(
                    "CMNC-413",
                    f"Too many ids requested ({size}). The maximum for this resource is {limit}; "
                    "use OPTIONS on the id set to get URIs of acceptable size.",
                    413,
                )
            return parse_idset(text)
        except ValueError:
            return errors("CMNC-404", f"Cannot parse the id set {text}", 404)

    def _nothing_found(self, kind: str, ids_text: str = "") -> Response | None:
        """Brightpearl's answer to a GET whose id set matched nothing: 404 (help page "Empty
        list response codes"), unless the sandbox is set to answer the older `200 []`."""
        if not self.settings.brightpearl_empty_get_404:
            return None
        return errors("CMNC-404", EMPTY_MESSAGES[kind].format(ids=ids_text), 404)

    def _get_list(self, req: Request, kind: str, ids_text: str, limit: int) -> Response:
        ids = self._ids(ids_text, limit)
        if isinstance(ids, Response):
            return ids
        found = self.app.store.get_many(V, req.account.code, kind, ids)
        present = [str(i) for i in sorted(ids) if str(i) in found]
        if not present and (empty := self._nothing_found(kind, ids_text)):
            return empty
        parts = [found[i] for i in present]
        optional = set((req.q("includeOptional") or "").split(","))
        if "customFields" in optional and kind in ("order", "contact"):
            # Like Brightpearl, custom fields come only when asked for.
            customs = self.app.store.get_many(V, req.account.code, kind + "_custom", present)
            parts = [_with_custom(found[i], customs.get(i, "{}")) for i in present]
        return raw_json('{"response":[' + ",".join(parts) + "]}", content_type=JSON_UTF8)

    def _options(self, req: Request, kind: str, ids_text: str, prefix: str, limit: int) -> Response:
        if ids_text:
            try:
                wanted = parse_idset(ids_text)
            except ValueError:
                return errors("CMNC-404", f"Cannot parse the id set {ids_text}", 404)
            found = self.app.store.get_many(V, req.account.code, kind, wanted)
            ids = sorted(int(i) for i in found)
        else:
            ids = [r[0] for r in self.app.store.rows(V, req.account.code, kind, columns="num")]
        uris = [
            f"/{prefix}/{compress_ids(ids[start : start + limit])}"
            for start in range(0, len(ids), limit)
        ]
        return json_response({"response": {"getUris": uris}}, content_type=JSON_UTF8)

    def _search(
        self,
        req: Request,
        kind: str,
        columns: tuple[Col, ...],
        reference: dict[str, Any] | None = None,
        extra_where: str = "",
        extra_params: tuple[Any, ...] = (),
    ) -> Response:
        """Brightpearl's resource search: filters by column, 1-based firstResult, pageSize."""
        by_name = {c.name: (i, c) for i, c in enumerate(columns)}
        where: list[str] = [extra_where] if extra_where else []
        params: list[Any] = list(extra_params)
        for name, values in req.query.items():
            if name not in by_name:
                continue  # filters the sandbox does not know are ignored (unconfirmed)
            index, col = by_name[name]
            value = values[0]
            expr = col.sql or f"json_extract(row, '$[{index}]')"
            try:
                clause, clause_params = search_filter(col, expr, value)
            except ValueError:
                return errors(
                    "CMNC-018",
                    f"The filter {name}={value} cannot be parsed as: {col.type}",
                    500,
                )
            where.append(clause)
            params.extend(clause_params)
        try:
            page_size = int(req.q("pageSize") or self.settings.brightpearl_default_page_size)
            first = int(req.q("firstResult") or 1)
        except ValueError:
            return errors("CMNC-018", "pageSize and firstResult must be integers", 500)
        page_size = max(1, min(page_size, self.settings.brightpearl_max_page_size))
        first = max(first, 1)
        order_sql, sort_meta = search_sort(req.q("sort"), columns, by_name)
        if order_sql is None:
            return errors("CMNC-018", f"The sort {req.q('sort')} cannot be parsed", 500)
        where_sql = " AND ".join(f"({w})" for w in where)
        total, rows = self.app.store.search_page(
            V, req.account.code, kind, where_sql, params, order_sql, page_size, first - 1
        )
        picked = req.q("columns")
        shown = columns
        if picked:
            names = [n.strip() for n in picked.split(",") if n.strip() in by_name]
            shown = tuple(by_name[n][1] for n in names)
            indexes = [by_name[n][0] for n in names]
            rows = [dumps([json.loads(r)[i] for i in indexes]) for r in rows]
        returned = len(rows)
        meta = {
            "morePagesAvailable": first - 1 + returned < total,
            "resultsAvailable": total,
            "resultsReturned": returned,
            "firstResult": first if returned else 0,
            "lastResult": first - 1 + returned if returned else 0,
            "columns": [c.meta() for c in shown],
            "sorting": sort_meta,
        }
        text = (
            '{"response":{"results":['
            + ",".join(rows)
            + '],"metaData":'
            + dumps(meta)
            + '},"reference":'
            + dumps(reference or {})
            + "}"
        )
        return raw_json(text, content_type=JSON_UTF8)

    def _statuses(self, account: str) -> dict[int, dict[str, Any]]:
        return {int(i): json.loads(d) for i, d in self.app.store.rows(V, account, "order_status")}

    def _order_reference(self, account: str) -> dict[str, Any]:
        return {
            "orderShippingStatusNames": SHIPPING_STATUS_NAMES,
            "orderTypeNames": ORDER_TYPE_NAMES,
            "orderPaymentStatusNames": {str(v): k for k, v in PAYMENT_STATUS_IDS.items()},
            "orderStockStatusNames": STOCK_STATUS_NAMES,
            "orderStatusNames": {str(k): v["name"] for k, v in self._statuses(account).items()},
        }

    def _touch_order(self, account: str, doc: dict[str, Any], when: datetime | None = None) -> None:
        doc["updatedOn"] = iso_ms(when or utcnow())
        doc["version"] = doc.get("version", 1) + 1
        self.app.store.put(order_rec(account, doc))


def _with_custom(text: str, custom: str) -> str:
    """Splice customFields into a stored record without re-serialising it."""
    return text[:-1] + ',"customFields":' + custom + "}"

"""BigCommerce, the storefront.

{base}/stores/{store_hash}/v2|v3, header X-Auth-Token. A quota of requests per 30-second
window per store (150 on Standard and Plus, 450 on Pro), reported on every answer in the
X-Rate-Limit-* headers; over it, 429 until X-Rate-Limit-Time-Reset-Ms has passed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import httpx

from connectors.base import Connector
from connectors.budget import BudgetHint
from connectors.errors import (
    AuthError,
    ConfigurationError,
    ConnectorError,
    NotFoundError,
    RejectedError,
    ThrottledError,
)
from connectors.fields import Field
from connectors.http import BatchResult, RecordError, chunks


class BigCommerce(Connector):
    system = "bigcommerce"
    label = "BigCommerce"
    default_base_url = "https://api.bigcommerce.com"
    credential_fields = (
        Field("access_token", "Access token", "Sent as X-Auth-Token."),
        Field(
            "client_secret",
            "Client secret",
            "The app's client secret, if it has one: webhooks signed with it are checked.",
            required=False,
        ),
    )
    setting_fields = (
        Field("store_hash", "Store hash", "The code in /stores/{store_hash}/."),
        Field(
            "safety_stock",
            "Safety stock",
            "Units of each SKU held back from the storefront at every location, so that a "
            "last sale in the warehouse cannot be sold twice (a whole number; empty: none).",
            required=False,
        ),
        Field(
            "store_id",
            "Store id",
            "The store's number in its webhooks (optional: the store hash is checked anyway).",
            required=False,
        ),
        Field(
            "go_live",
            "Go-live date",
            "Orders placed in BigCommerce before this day (YYYY-MM-DD, UTC) are never imported "
            "into Brightpearl, nor their payments or refunds. Empty: every order is.",
            required=False,
            date=True,
        ),
    )
    batch_size = 2000  # stock levels per absolute adjustment
    variant_batch_size = 50
    page_size = 250  # v2 order lists
    default_limit = 150
    default_window = 30.0
    default_reserve = 5

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Locations stock was sent to that the store does not have (checked only after a
        # refusal that named no item: a wrong location refuses every item sent there).
        self.missing_locations: set[int] = set()
        self._known_locations: set[int] | None = None

    def go_live(self) -> datetime | None:
        """The brand's go-live day (its start, UTC), or None: every order is imported."""
        value = str(self.settings.get("go_live") or "").strip()
        if not value:
            return None
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ConfigurationError(
                f"The BigCommerce go-live date “{value}” is not a day: enter it as "
                "year-month-day, such as 2026-01-31.",
                vendor=self.system,
            ) from None
        return datetime(day.year, day.month, day.day, tzinfo=UTC)

    def api_base(self) -> str:
        return f"{self.connection.base_url.rstrip('/')}/stores/{self.settings['store_hash']}"

    def auth_headers(self) -> dict[str, str]:
        return {"X-Auth-Token": self.creds["access_token"], "Content-Type": "application/json"}

    def read_budget(self, response: httpx.Response) -> BudgetHint | None:
        left = response.headers.get("X-Rate-Limit-Requests-Left")
        if left is None:
            return None
        reset = response.headers.get("X-Rate-Limit-Time-Reset-Ms")
        quota = response.headers.get("X-Rate-Limit-Requests-Quota")
        return BudgetHint(
            remaining=int(left),
            reset_in=int(reset) / 1000 if reset is not None else None,
            limit=int(quota) if quota else None,
        )

    def classify(self, response: httpx.Response) -> ConnectorError | None:
        answer = self.error_answer(response)
        if answer is None:
            return None
        if answer.status == 429:
            reset = response.headers.get("X-Rate-Limit-Time-Reset-Ms")
            return ThrottledError(
                "BigCommerce's request quota for this window is spent.",
                retry_after=int(reset) / 1000 if reset else None,
                **answer.kw,
            )
        if answer.status in (401, 403):
            return AuthError("BigCommerce did not accept the access token.", **answer.kw)
        return None

    def check(self) -> str:
        hooks = (self.http.json("GET", "/v3/hooks") or {}).get("data", [])
        store = self.settings["store_hash"]
        return f"Signed in to BigCommerce store {store}: {len(hooks)} webhooks registered."

    # --- orders ----------------------------------------------------------------------
    def orders_modified_since(self, since: datetime) -> Iterator[dict]:
        page = 1
        while True:
            reply = self.http.request(
                "GET",
                "/v2/orders",
                params={
                    "min_date_modified": since.isoformat(timespec="seconds"),
                    "page": page,
                    "limit": self.page_size,
                },
            )
            # v2 answers an empty page with 204 and no body.
            orders = reply.body or []
            yield from orders
            if len(orders) < self.page_size:
                return
            page += 1

    def order(self, order_id: int) -> dict:
        return self.http.json("GET", f"/v2/orders/{int(order_id)}")

    def orders(self, order_ids: Iterable[int | str]) -> Iterator[dict]:
        """Orders by id, one request each (v2 reads no id set); ids the store does not have
        are absent."""
        for order_id in order_ids:
            try:
                yield self.order(int(order_id))
            except NotFoundError:
                continue

    def order_products(self, order_id: int) -> list[dict]:
        return self.http.json("GET", f"/v2/orders/{int(order_id)}/products") or []

    def shipping_addresses(self, order_id: int) -> list[dict]:
        return self.http.json("GET", f"/v2/orders/{int(order_id)}/shipping_addresses") or []

    def shipments(self, order_id: int) -> list[dict]:
        return self.http.json("GET", f"/v2/orders/{int(order_id)}/shipments") or []

    def create_shipment(self, order_id: int, shipment: dict) -> dict:
        """Not retried once sent: a lost answer must not ship the customer two emails."""
        return self.http.json(
            "POST", f"/v2/orders/{int(order_id)}/shipments", json_body=shipment, idempotent=False
        )

    def refunds(self, order_id: int) -> list[dict]:
        """An order's refunds (v3 payment actions): {id, order_id, created, total_amount,
        items[{item_type, item_id, quantity}], payments[{provider_id, amount, offline}]}."""
        body = self.http.json("GET", f"/v3/orders/{int(order_id)}/payment_actions/refunds")
        return (body or {}).get("data") or []

    def transactions(self, order_id: int) -> list[dict]:
        """An order's payment transactions (v3): {event, method, amount, currency, gateway,
        gateway_transaction_id, status…}; none (204) for an order not paid."""
        body = self.http.json("GET", f"/v3/orders/{int(order_id)}/transactions")
        return (body or {}).get("data") or []

    def customer_groups(self, customer_ids: Iterable[int | str]) -> dict[str, str]:
        """{customer id: their customer group id} (v3 customers, 50 ids a call); a customer
        the store does not have is absent."""
        groups: dict[str, str] = {}
        ids = sorted({int(i) for i in customer_ids if int(i) > 0})
        for batch in chunks(ids, 50):
            body = self.http.json(
                "GET",
                "/v3/customers",
                params={"id:in": ",".join(str(i) for i in batch), "limit": len(batch)},
            )
            for customer in (body or {}).get("data") or []:
                groups[str(customer["id"])] = str(customer.get("customer_group_id") or 0)
        return groups

    def order_statuses(self) -> list[dict]:
        """The store's order statuses: the fixed ids 0–14, each with the store's own label."""
        return self.http.json("GET", "/v2/order_statuses") or []

    def set_order_status(self, order_id: int, status_id: int) -> dict:
        return self.http.json(
            "PUT", f"/v2/orders/{int(order_id)}", json_body={"status_id": status_id}
        )

    # --- stock -----------------------------------------------------------------------
    def locations(self) -> list[dict]:
        """The store's inventory locations: {id, code, label, enabled, …} each."""
        return (self.http.json("GET", "/v3/inventory/locations") or {}).get("data") or []

    def set_stock_levels(
        self, items: Iterable[dict], reason: str = "Brightpearl stock sync"
    ) -> BatchResult:
        """Absolute stock levels (idempotent), 2,000 a call.

        Items: {location_id, sku | variant_id | product_id, quantity}; the result is keyed by
        the item's identity (its sku, variant id or product id).

        One invalid item makes BigCommerce refuse the whole call (422). Its documented
        answers name the item only in `title` ("Items with identity: [product_id 113] …",
        "[Item with variant_id 106 is tracked by product …]") with `errors: {}`: the items
        named there are set aside and the rest sent again. A refusal that names no item of
        the call is split in halves until each bad item stands alone (one bad item among
        2,000 costs about 11 calls), so the good items are always written.
        """
        result = BatchResult()
        for batch in chunks(list(items), self.batch_size):
            self._adjust(batch, reason, result)
        return result

    def _adjust(self, batch: list[dict], reason: str, result: BatchResult) -> None:
        parts = [batch]
        while parts:
            part = parts.pop()
            try:
                self.http.request(
                    "PUT",
                    "/v3/inventory/adjustments/absolute",
                    json_body={"reason": reason, "items": part},
                    batch_size=len(part),
                )
            except RejectedError as exc:
                if exc.status != 422:
                    raise
                named = named_items(problem_title(exc), part)
                if named and len(named) < len(part):
                    self._refused([part[i] for i in sorted(named)], exc, result)
                    parts.append([item for i, item in enumerate(part) if i not in named])
                elif len(part) == 1 or named:
                    self._refused(part, exc, result)
                elif self._set_aside_missing_locations(part, exc, result, parts):
                    pass
                else:
                    middle = len(part) // 2
                    parts += [part[middle:], part[:middle]]
                continue
            result.ok.extend(item_key(item) for item in part)

    def _set_aside_missing_locations(
        self, part: list[dict], exc: RejectedError, result: BatchResult, parts: list
    ) -> bool:
        """A refusal that names no item may be a location the store lacks: every item sent
        there would fail one by one. Asked once (one call); those items are refused at once
        and the rest sent again. False: no such item here."""
        if self._known_locations is None:
            self._known_locations = {
                int(loc["id"]) for loc in self.locations() if loc.get("id") is not None
            }
        missing = [i for i in part if int(i["location_id"]) not in self._known_locations]
        if not missing:
            return False
        self.missing_locations.update(int(i["location_id"]) for i in missing)
        self._refused(missing, exc, result)
        rest = [i for i in part if int(i["location_id"]) in self._known_locations]
        if rest:
            parts.append(rest)
        return True

    @staticmethod
    def _refused(items: list[dict], exc: RejectedError, result: BatchResult) -> None:
        for item in items:
            result.failed[item_key(item)] = RecordError("rejected", problem_title(exc) or str(exc))

    def update_variants(self, variants: Iterable[dict]) -> BatchResult:
        result = BatchResult()
        for batch in chunks(list(variants), self.variant_batch_size):
            self.http.request("PUT", "/v3/catalog/variants", json_body=batch, batch_size=len(batch))
            result.ok.extend(str(v.get("id")) for v in batch)
        return result


def problem_title(exc: RejectedError) -> str:
    """The `title` of a v3 problem answer: the only place a 422 names its item."""
    if exc.vendor_message:
        return exc.vendor_message
    details = exc.details
    return str(details.get("title") or "") if isinstance(details, dict) else ""


def item_key(item: dict) -> str:
    """An adjustment item's identity, as its results are keyed."""
    return str(item.get("sku") or item.get("variant_id") or item.get("product_id"))


# "[sku ABC-1]", "[product_id 113]", "Item with variant_id 106 …": the documented 422 titles.
IDENTITY = re.compile(r"\b(sku|variant_id|product_id)[ :]+([^\s,\]]+)")


def named_items(title: str, items: list[dict]) -> set[int]:
    """The positions of the items a 422 title names by identity (none when it names none)."""
    wanted = {(field, value.lower()) for field, value in IDENTITY.findall(title)}
    return {
        i
        for i, item in enumerate(items)
        for field in ("sku", "variant_id", "product_id")
        if item.get(field) is not None and (field, str(item[field]).lower()) in wanted
    }

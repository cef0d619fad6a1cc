"""BigCommerce, the storefront.

{base}/stores/{store_hash}/v2|v3, header X-Auth-Token. A quota of requests per 30-second
window per store (150 on Standard and Plus, 450 on Pro), reported on every answer in the
X-Rate-Limit-* headers; over it, 429 until X-Rate-Limit-Time-Reset-Ms has passed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime

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
    def set_stock_levels(
        self, items: Iterable[dict], reason: str = "Brightpearl stock sync"
    ) -> BatchResult:
        """Absolute stock levels (idempotent), 2,000 a call.

        Items: {location_id, sku | variant_id, quantity}.

        BigCommerce refuses a whole call for one bad item (422), so the bad items it names
        are set aside and the rest sent again.
        """
        result = BatchResult()
        for batch in chunks(list(items), self.batch_size):
            self._adjust(batch, reason, result)
        return result

    def _adjust(self, batch: list[dict], reason: str, result: BatchResult) -> None:
        keys = [str(i.get("sku") or i.get("variant_id") or i.get("product_id")) for i in batch]
        try:
            self.http.request(
                "PUT",
                "/v3/inventory/adjustments/absolute",
                json_body={"reason": reason, "items": batch},
                batch_size=len(batch),
            )
        except RejectedError as exc:
            bad = _bad_item_indexes(exc, len(batch))
            if not bad or len(bad) == len(batch):
                for key in keys:
                    result.failed[key] = RecordError(
                        exc.code or "rejected", exc.vendor_message or str(exc)
                    )
                return
            for i in bad:
                result.failed[keys[i]] = RecordError(
                    exc.code or "rejected", exc.vendor_message or str(exc)
                )
            self._adjust([item for i, item in enumerate(batch) if i not in bad], reason, result)
            return
        result.ok.extend(keys)

    def update_variants(self, variants: Iterable[dict]) -> BatchResult:
        result = BatchResult()
        for batch in chunks(list(variants), self.variant_batch_size):
            self.http.request("PUT", "/v3/catalog/variants", json_body=batch, batch_size=len(batch))
            result.ok.extend(str(v.get("id")) for v in batch)
        return result


def _bad_item_indexes(exc: RejectedError, size: int) -> set[int]:
    """Item positions named in a 422 problem body, such as {"errors": {"items.3.sku": ...}}."""
    found: set[int] = set()
    text = f"{exc.vendor_message} {json.dumps(exc.details)}"
    for match in re.finditer(r"items[.\[](\d+)", text):
        index = int(match.group(1))
        if index < size:
            found.add(index)
    return found

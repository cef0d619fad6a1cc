"""Orders, Brightpearl → Salesforce: each sales order a Salesforce Order with its OrderItems.

- **Exactly once.** The Order carries the Brightpearl order id in an External Id field (the
  connection's "Brightpearl order id field", Brightpearl_Order_Id__c by default) and each
  OrderItem its row id (Brightpearl_Row_Id__c). The engine's safe-create protocol keeps a
  pending link before the first write and looks the Order up by that id after a lost answer;
  the writes themselves are upserts by those ids, so a resent call updates what the lost one
  made and never makes a second Order.
- **Why sObject Collections upserts and not composite/tree.** The tree
  (`POST /composite/tree/Order`) would create an Order and its items in one request, but it
  only inserts: a tree resent after a lost answer fails on the unique external id (or, without
  one, doubles the order), and one bad order rolls back every other record in the request.
  The collection upsert (`PATCH /composite/sobjects/{Object}/{Field}`, 200 records a call,
  `allOrNone: false`) is idempotent and answers per record, so one refused order holds only
  itself. A batch of 200 orders costs two look-up queries (products, price-book entries: only
  for SKUs not met earlier in the run), one goods-out-note GET at Brightpearl, and three upsert
  calls: the Orders, their items (200 a call), then the new Orders' status.
- **Draft first.** Salesforce adds order products only to an Order in Draft, and activates an
  Order only once it has products: a new Order is upserted as Draft, its items go, then its
  mapped Status. Items go again only when the lines changed (their digest is kept on the
  Order's link).
- **AccountId from the accounts flow's link; the order waits for it.** The customer's Account
  is written by "Customers → Salesforce accounts", which owns it: its Type map, its duplicate
  check (a Brightpearl id on two Accounts is a ticket there, never a guess). Creating the
  Account here would skip both, so an order whose customer has no Account yet waits, with one
  ticket, and goes on the first run after the Account is made.
- **Never guessed.** `orderStatus` → `Order.Status` through the value map "Order statuses →
  Salesforce" (an unmapped status holds the order with that value's ticket); a SKU with no
  active Product2 of that Product Code, or no active PricebookEntry in the brand's price book
  and the order's currency, holds the order with a ticket for operations, and it goes on the
  run after the product or price is added (waiting records are read again every run).
- **Tracking.** The references of the order's shipped goods-out notes go, joined, into the
  connection's tracking field (Brightpearl_Tracking__c by default).
- **Currency.** Amounts go in the order's currency with its CurrencyIsoCode; a brand that sets
  "Convert amounts to" gets them converted at Brightpearl's rate of the day the order was
  placed (connectors/brightpearl/rates.py), the rate written on the Order and kept on the link.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from connectors.errors import ConfigurationError
from connectors.http import BatchResult
from connectors.salesforce.catalog import ids_by_field, pricebook_entries, products_by_code
from connectors.salesforce.order_fields import (
    ORDER_ID_FIELD,
    RATE_FIELD,
    ROW_ID_FIELD,
    TRACKING_FIELD,
)
from syncs import links
from syncs.flows.base import Flow, Push, Skip, TicketSpec, Wait
from syncs.flows.reading import fetched, id_order, source_ids, when
from syncs.flows.salesforce.maps import BP_ORDER_STATUS_TO_SF, ORDERS
from syncs.flows.salesforce.money import converted, order_conversion
from syncs.models import RecordLink
from syncs.states import content_hash
from syncs.valuemaps.quarantine import unmapped_wait, used

if TYPE_CHECKING:
    from syncs.engine import FlowContext

FLOW = ORDERS
STATUS_MAP = BP_ORDER_STATUS_TO_SF.code
DRAFT = "Draft"
CENT = Decimal("0.01")


def setting(ctx: FlowContext, name: str, default: str = "") -> str:
    sf = ctx.connector("salesforce")
    return str(sf.settings.get(name) or default).strip()


def account_ids(ctx: FlowContext, contact_ids: list[str]) -> dict[str, str]:
    """{Brightpearl contact id: the Salesforce Account the accounts flow made for it}."""
    return links.links_ids_across(
        brand_id=ctx.brand_id,
        kind="contact",
        source="brightpearl",
        target="salesforce",
        ids=contact_ids,
        target_kind="account",
    )


def tracking_refs(ctx: FlowContext, order_ids: list[str]) -> dict[str, str]:
    """{order id: the references of its shipped goods-out notes, joined}: one GET a 200."""
    bp = ctx.connector("brightpearl")
    refs: dict[str, list[str]] = {}
    for _note_id, note in sorted(bp.goods_out_notes(order_ids=order_ids), key=lambda n: n[0]):
        reference = str((note.get("shipping") or {}).get("reference") or "").strip()
        if (note.get("status") or {}).get("shipped") and reference:
            refs.setdefault(str(note.get("orderId")), []).append(reference)
    return {k: ", ".join(dict.fromkeys(v)) for k, v in refs.items()}


class SalesforceOrdersFlow(Flow):
    code = FLOW
    label = "Orders → Salesforce"
    description = (
        "Each Brightpearl sales order as a Salesforce Order with its products, upserted by the "
        "Brightpearl order id, with its status (by the brand’s map), tracking and currency."
    )
    target = "salesforce"
    kind = "order"
    creates = True
    owners = {
        "Order Status, dates, amounts, currency, tracking and its products": "brightpearl",
    }
    noun = "orders"
    batch_size = 200
    request_size = 200
    default_schedule_minutes = 15
    set_up_first = (
        "In Salesforce: a custom text field on Order (by default Brightpearl_Order_Id__c) and on "
        "Order Product (Brightpearl_Row_Id__c), each marked External ID and Unique; a text field "
        "on Order for tracking references (Brightpearl_Tracking__c) and a number field for the "
        "exchange rate (Brightpearl_Exchange_Rate__c); the brand's price book id in the "
        "connection's settings, with every product (Product Code = Brightpearl SKU) in it in "
        "each currency the brand sells in; the integration user allowed to “Edit Activated "
        "Orders” (a changed line of an activated order); and every order status mapped."
    )

    # --- the source side ----------------------------------------------------------------
    def read(self, ctx: FlowContext) -> Iterator[list[dict]]:
        bp = ctx.connector("brightpearl")
        if not setting(ctx, "pricebook_id"):
            raise ConfigurationError(
                "The Salesforce connection has no price book: set its “Price book” setting to "
                "the id of the brand's Pricebook2 before switching orders on.",
                vendor="salesforce",
            )
        ids = source_ids(
            ctx, full=bp.all_order_ids, changed=bp.changed_order_ids, id_column="orderId"
        )
        for batch in fetched(ctx, ids, bp.orders, key=lambda o: o["id"]):
            sales = [o for o in batch if o.get("orderTypeCode", "SO") == "SO"]
            order_ids = [str(o["id"]) for o in sales]
            contacts = sorted(
                {
                    str((o.get("parties") or {}).get("customer", {}).get("contactId", ""))
                    for o in sales
                }
                - {""},
                key=id_order,
            )
            ctx.cache["accounts"] = account_ids(ctx, contacts)
            ctx.cache["tracking"] = tracking_refs(ctx, order_ids) if order_ids else {}
            self._catalog(ctx, sales)
            yield batch

    def _catalog(self, ctx: FlowContext, orders: list[dict]) -> None:
        """Products by SKU and their price-book entries, for SKUs this run has not met."""
        sf = ctx.connector("salesforce")
        products: dict[str, list[str]] = ctx.cache.setdefault("products", {})
        entries: dict[tuple[str, str], dict] = ctx.cache.setdefault("entries", {})
        skus = {
            str(row.get("productSku") or "")
            for o in orders
            for row in (o.get("orderRows") or {}).values()
        } - {""}
        new = sorted(skus - set(products))
        if new:
            found = products_by_code(sf, new)
            products.update({sku: found.get(sku, []) for sku in new})
        currencies = {self._currency(ctx, o) for o in orders}
        asked: set[tuple[str, str]] = ctx.cache.setdefault("entries_asked", set())
        wanted = {
            (product_id, currency)
            for sku in skus
            for product_id in products.get(sku) or []
            for currency in currencies
        } - asked
        if wanted:
            asked.update(wanted)
            entries.update(
                pricebook_entries(
                    sf,
                    setting(ctx, "pricebook_id"),
                    {p for p, _ in wanted},
                    {c for _, c in wanted},
                )
            )

    def _currency(self, ctx: FlowContext, order: dict) -> str:
        """The currency the Order is in: the brand's conversion currency, else the order's."""
        own = str((order.get("currency") or {}).get("orderCurrencyCode") or "").upper()
        return setting(ctx, "convert_currency").upper() or own

    # --- one order ------------------------------------------------------------------------
    def transform(self, ctx: FlowContext, order: dict) -> Push | Wait | Skip:
        order_id = str(order["id"])
        if order.get("orderTypeCode", "SO") != "SO":
            return Skip(order_id, "Not a sales order.")
        updated = when(order.get("updatedOn"))
        status = order.get("orderStatus") or {}
        status_id = status.get("orderStatusId")
        mapped = ctx.mapped(STATUS_MAP, status_id)
        if mapped is None:
            return unmapped_wait(
                STATUS_MAP,
                status_id,
                source_id=order_id,
                label=str(status.get("name") or ""),
                source_updated=updated,
            )
        contact_id = str((order.get("parties") or {}).get("customer", {}).get("contactId", ""))
        account_id = ctx.cache.get("accounts", {}).get(contact_id)
        if not account_id:
            return self._no_account(order_id, contact_id, updated)
        conversion = order_conversion(ctx, order)
        currency = self._currency(ctx, order)
        items, missing = self._items(ctx, order, currency, conversion)
        if missing:
            return self._no_product(order_id, currency, missing, updated)
        field = setting(ctx, "order_id_field", ORDER_ID_FIELD)
        header: dict[str, Any] = {
            field: order_id,
            "AccountId": account_id,
            "EffectiveDate": str(order.get("placedOn") or order.get("createdOn") or "")[:10],
            "Pricebook2Id": setting(ctx, "pricebook_id"),
            "CurrencyIsoCode": currency,
            "OrderReferenceNumber": str(order.get("reference") or "")[:80],
            setting(ctx, "tracking_field", TRACKING_FIELD): ctx.cache.get("tracking", {}).get(
                order_id, ""
            ),
        }
        if conversion is not None:
            header[RATE_FIELD] = float(conversion.factor)
        payload: dict[str, Any] = {
            "Order": header,
            "Items": items,
            "Status": str(mapped),
            "_total": str(
                sum(Decimal(str(i["UnitPrice"])) * Decimal(str(i["Quantity"])) for i in items)
            ),
            "_conversion": conversion.record() if conversion is not None else {},
            "_rate_words": conversion.sentence() if conversion is not None else "",
            "_tracking": ctx.cache.get("tracking", {}).get(order_id, ""),
        }
        used(payload, STATUS_MAP, status_id)
        return Push(
            source_id=order_id,
            payload=payload,
            natural_key=order_id,
            match_key=str(status_id),
            source_updated=updated,
        )

    def _items(
        self, ctx: FlowContext, order: dict, currency: str, conversion: Any
    ) -> tuple[list[dict], list[dict]]:
        items, missing = [], []
        products = ctx.cache.get("products", {})
        entries = ctx.cache.get("entries", {})
        order_id = str(order["id"])
        rows = sorted((order.get("orderRows") or {}).items(), key=lambda kv: id_order(kv[0]))
        for row_id, row in rows:
            sku = str(row.get("productSku") or "")
            quantity = Decimal(str((row.get("quantity") or {}).get("magnitude") or 0))
            ids = products.get(sku) or []
            # Product Code is not unique in Salesforce: the line needs the one product of that
            # code priced in the brand's price book; two priced ones are never chosen between.
            priced = [entries[(p, currency)] for p in ids if (p, currency) in entries]
            if len(priced) != 1:
                if not ids:
                    why = "no active product with this Product Code"
                elif not priced:
                    why = f"no active {currency} entry in the brand's price book"
                else:
                    why = f"{len(priced)} products with this Product Code are in the price book"
                missing.append({"row": str(row_id), "sku": sku, "products": ids, "why": why})
                continue
            entry = priced[0]
            net = Decimal(str(((row.get("rowValue") or {}).get("rowNet") or {}).get("value", 0)))
            unit = converted(net / quantity if quantity else Decimal(0), conversion)
            items.append(
                {
                    ROW_ID_FIELD: f"{order_id}-{row_id}",
                    "PricebookEntryId": str(entry["Id"]),
                    "Quantity": float(quantity),
                    "UnitPrice": float(unit.quantize(CENT, ROUND_HALF_UP)),
                }
            )
        return items, missing

    def _no_account(self, order_id: str, contact_id: str, updated: Any) -> Wait:
        return Wait(
            source_id=order_id,
            reason=f"Its customer (Brightpearl contact {contact_id}) has no Salesforce Account "
            "yet; it goes once Customers → Salesforce accounts has made it.",
            source_updated=updated,
            ticket=TicketSpec(
                type_code="salesforce_parent_missing",
                title=f"Order {order_id} waits for its customer's Salesforce Account",
                source_id=order_id,
                snapshot={"contact_id": contact_id, "flow": "Customers → Salesforce accounts"},
            ),
        )

    def _no_product(self, order_id: str, currency: str, missing: list[dict], updated: Any) -> Wait:
        skus = ", ".join(m["sku"] or f"row {m['row']}" for m in missing)
        return Wait(
            source_id=order_id,
            reason="Salesforce cannot price "
            + "; ".join(f"{m['sku'] or 'row ' + m['row']}: {m['why']}" for m in missing)
            + ".",
            source_updated=updated,
            ticket=TicketSpec(
                type_code="salesforce_product_missing",
                title=f"Order {order_id}: no Salesforce product or {currency} price for {skus}",
                source_id=order_id,
                snapshot={"currency": currency, "lines": missing},
            ),
        )

    # --- the target side ----------------------------------------------------------------
    def lookup(self, ctx: FlowContext, pushes: list[Push]) -> dict[str, str]:
        """After a lost answer: the Orders Salesforce holds under these Brightpearl order ids
        (one SOQL query a 200). An id on several Orders is not settled here: the upsert then
        refuses it, and the order gets its ticket."""
        field = setting(ctx, "order_id_field", ORDER_ID_FIELD)
        found = ids_by_field(
            ctx.connector("salesforce"), "Order", field, [p.natural_key for p in pushes]
        )
        return {
            p.source_id: found[p.natural_key][0]
            for p in pushes
            if len(found.get(p.natural_key, [])) == 1
        }

    def write(self, ctx: FlowContext, pushes: list[Push]) -> BatchResult:
        sf = ctx.connector("salesforce")
        field = setting(ctx, "order_id_field", ORDER_ID_FIELD)
        result = BatchResult()
        views = self._written_views(ctx, pushes)
        # New to Salesforce, or found there after a lost answer (its items may never have
        # gone): Draft first, then the items, then the Status.
        new = {p.source_id for p in pushes if not views.get(p.source_id)}
        headers = sf.upsert(
            "Order",
            field,
            [
                {
                    **p.payload["Order"],
                    "Status": DRAFT if p.source_id in new else p.payload["Status"],
                }
                for p in pushes
            ],
        )
        result.failed.update(headers.failed)
        placed = [p for p in pushes if p.source_id in set(headers.ok)]
        with_items = [
            p
            for p in placed
            if views.get(p.source_id, {}).get("items") != content_hash(p.payload["Items"])
        ]
        rows = [
            {**item, "Order": {field: p.source_id}}
            for p in with_items
            for item in p.payload["Items"]
        ]
        items = sf.upsert("OrderItem", ROW_ID_FIELD, rows) if rows else BatchResult()
        refused: dict[str, Any] = {}
        for key, error in items.failed.items():
            refused.setdefault(key.rsplit("-", 1)[0], error)
        result.failed.update(refused)
        # Then the status the map gives, for the new Orders now holding their products.
        activate = [
            p
            for p in placed
            if p.source_id in new and p.source_id not in refused and p.payload["Status"] != DRAFT
        ]
        status = (
            sf.upsert(
                "Order",
                field,
                [{field: p.source_id, "Status": p.payload["Status"]} for p in activate],
            )
            if activate
            else BatchResult()
        )
        result.failed.update(status.failed)
        for push in placed:
            if push.source_id in result.failed:
                continue
            order_id = str(headers.info[push.source_id])
            if push.target_id:
                push.target_id = order_id
                result.ok.append(push.source_id)
            else:
                result.created[push.source_id] = order_id
        return result

    def _written_views(self, ctx: FlowContext, pushes: list[Push]) -> dict[str, dict]:
        """What the console last wrote into each Order it has written, by source id (from the
        Order's link): its Status and its lines' digest."""
        by_entity = {p.entity: p.source_id for p in pushes if p.target_id and p.entity}
        if not by_entity:
            return {}
        views = RecordLink.objects.filter(
            brand_id=ctx.brand_id, kind=self.kind, system=self.target, entity__in=list(by_entity)
        ).values_list("entity", "written")
        return {by_entity[entity]: view or {} for entity, view in views}

    def written_view(self, push: Push) -> dict:
        """What the console set on the Order: its fields and status, its lines' digest (to
        know when they change), and the exchange rate used, if any."""
        view = {**push.payload["Order"], "Status": push.payload["Status"]}
        view["items"] = content_hash(push.payload["Items"])
        if push.payload.get("_conversion"):
            view["exchange_rate"] = push.payload["_conversion"]
        return view

    def echo_view(self, order: dict) -> dict:
        """A Brightpearl order as Salesforce → Brightpearl orders (orders_in.py) records what it
        created: its external ref, the Salesforce Order's id. Equal, the order came from
        Salesforce and already is an Order there: sending it would make a second one."""
        return {"externalRef": str(order.get("externalRef") or "")}

    def state_of(self, payload: dict) -> dict:
        """The record page's summary of what went (with the rate used)."""
        header = payload.get("Order") or {}
        summary: dict[str, Any] = {
            "status": payload.get("Status"),
            "total": payload.get("_total"),
            "currency": header.get("CurrencyIsoCode"),
            "lines": len(payload.get("Items") or []),
        }
        if payload.get("_tracking"):
            summary["tracking"] = payload["_tracking"]
        if payload.get("_rate_words"):
            summary["exchange_rate"] = payload["_rate_words"]
        if payload.get("_maps"):
            summary["_maps"] = payload["_maps"]
        return summary

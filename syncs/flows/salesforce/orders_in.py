"""Salesforce orders → Brightpearl: each order made in Salesforce becomes one sales order, once.

Read by polling (polling.py): the Orders changed since the watermark, their OrderItems (an
`OrderId IN (…)` query per 200 orders) and the items' products (`Product2`, for their
ProductCode), and the orders' Accounts (for the Brightpearl id the accounts flow stamps on
them). Plain-field queries only, so a batch of up to 200 orders costs three queries.

- **Exactly once.** The sales order is created through the engine's safe-create protocol: a
  pending link before the POST, the Salesforce Order Id as the order's `externalRef`, and
  Brightpearl searched by that ref before any create (`lookup_first`: after a lost answer or a
  killed worker, and for an order someone posted by hand), so it is never posted twice.
- **Not ours.** An order the console itself put in Salesforce (the Brightpearl → Salesforce
  orders flow: `CreatedById` is the integration user, or its record is linked to a Brightpearl
  order already) is Brightpearl's: it is never posted back.
- **Drafts wait.** A Draft is still being written by sales; the order goes once it is
  activated (its SystemModstamp moves then, so the next poll reads it).
- **Lines by SKU.** Each OrderItem's `Product2.ProductCode` is a Brightpearl SKU. An unknown
  SKU holds the order with one operations ticket (`unmapped_sku`), and so does an Account that
  is not a Brightpearl customer yet (`salesforce_account_unlinked`): the order waits, is read
  again on every run, and posts once the product or the customer exists (or on Retry).
- **Owners.** Salesforce owns the order as placed (lines, quantities, prices); Brightpearl owns
  it from then on (status, fulfilment): a posted order is not updated from Salesforce.

Amounts go net as Salesforce holds them (`TotalPrice`, tax 0: a standard Salesforce Order has
no tax), in Brightpearl's base currency: `CurrencyIsoCode` exists only in multi-currency
orgs, and reading it is left for when a brand has one.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connectors.errors import AuthError, ConfigurationError, ConnectorError, RejectedError
from connectors.http import BatchResult, RecordError, chunks
from syncs import links
from syncs.flows.base import Flow, Push, Skip, TicketSpec, Wait
from syncs.flows.reading import unique, when
from syncs.flows.salesforce.polling import by_ids, changed, integration_user, watermarks_keep
from syncs.models import RecordStatus

if TYPE_CHECKING:
    from syncs.engine import FlowContext

FLOW = "salesforce_orders_in"
ORDER_FIELDS = (
    "Id",
    "OrderNumber",
    "AccountId",
    "Status",
    "EffectiveDate",
    "TotalAmount",
    "CreatedById",
    "LastModifiedById",
    "SystemModstamp",
)
ITEM_FIELDS = ("Id", "OrderId", "Product2Id", "Quantity", "UnitPrice", "TotalPrice")
DRAFT = "Draft"


def money(value: Any) -> str:
    return str(Decimal(str(value or 0)).quantize(Decimal("0.01")))


class SalesforceOrdersInFlow(Flow):
    code = FLOW
    label = "Salesforce orders → Brightpearl"
    description = (
        "Orders made in Salesforce as Brightpearl sales orders, each created exactly once, "
        "their lines by product code = SKU."
    )
    source = "salesforce"
    target = "brightpearl"
    kind = "order"
    creates = True
    # Posted once: Salesforce owns the order as placed, Brightpearl owns it from then on.
    updates = False
    # Brightpearl may hold it already (a create whose answer was lost, or posted by hand):
    # searched by external ref before every create.
    lookup_first = True
    owners = {"lines, quantities and prices as placed": "salesforce", "status": "brightpearl"}
    noun = "orders"
    batch_size = 100
    default_schedule_minutes = 15
    set_up_first = (
        "In Salesforce, each product's Product Code equal to its Brightpearl SKU, and the "
        "integration user allowed to read Orders, Order Products, Products and Accounts."
    )

    # --- the source side ----------------------------------------------------------------
    def read(self, ctx: FlowContext) -> Iterator[list[dict]]:
        if ctx.scope:
            ctx.total_hint = len(ctx.scope)
            orders: Iterator[dict] = self._asked(ctx, list(unique(ctx.scope)))
        else:
            orders = self._polled(ctx)
        for batch in chunks(orders, self.batch_size):
            posted = {
                source_id
                for source_id, state in ctx.states(FLOW, [o["Id"] for o in batch]).items()
                if state.status == RecordStatus.SYNCED
            }
            ctx.cache["posted"] = posted
            todo = [o for o in batch if o["Id"] not in posted]
            self._items(ctx, todo)
            self._customers(ctx, todo)
            yield batch

    def _asked(self, ctx: FlowContext, ids: list[str]) -> Iterator[dict]:
        found = list(by_ids(ctx.connector("salesforce"), "Order", ORDER_FIELDS, ids))
        seen = {o["Id"] for o in found}
        ctx.missing.extend(i for i in ids if i not in seen)
        return iter(found)

    def _polled(self, ctx: FlowContext) -> Iterator[dict]:
        seen: set[str] = set()
        for order in changed(ctx, ctx.connector("salesforce"), "Order", ORDER_FIELDS):
            if order["Id"] not in seen:
                seen.add(order["Id"])
                yield order
        # Orders that waited last time (an unknown SKU, an unlinked account): read again.
        left = [i for i in ctx.retry_ids if i not in seen]
        if left:
            yield from self._asked(ctx, left)

    def _items(self, ctx: FlowContext, orders: list[dict]) -> None:
        """Each order's items, with their product's code, and the codes as Brightpearl
        products (once per run for each SKU)."""
        sf = ctx.connector("salesforce")
        items = list(by_ids(sf, "OrderItem", ITEM_FIELDS, [o["Id"] for o in orders], "OrderId"))
        codes = {
            p["Id"]: str(p.get("ProductCode") or "")
            for p in by_ids(sf, "Product2", ("Id", "ProductCode"), [i["Product2Id"] for i in items])
        }
        by_order: dict[str, list[dict]] = {}
        for item in items:
            item["_sku"] = codes.get(item.get("Product2Id"), "")
            by_order.setdefault(item["OrderId"], []).append(item)
        for order in orders:
            order["_items"] = sorted(by_order.get(order["Id"], []), key=lambda i: i["Id"])
        products: dict[str, int] = ctx.cache.setdefault("products", {})
        asked: set[str] = ctx.cache.setdefault("asked_skus", set())
        wanted = {i["_sku"] for i in items if i["_sku"] and i["_sku"] not in asked}
        if wanted:
            products.update(ctx.connector("brightpearl").product_ids_by_sku(sorted(wanted)))
            asked.update(wanted)

    def _customers(self, ctx: FlowContext, orders: list[dict]) -> None:
        """Each order's Account as a Brightpearl contact id: the Brightpearl id the accounts
        flow keeps in the Account's external id field, else the record link between them."""
        sf = ctx.connector("salesforce")
        field = sf.external_id_field
        account_ids = [o["AccountId"] for o in orders if o.get("AccountId")]
        customers: dict[str, str] = ctx.cache.setdefault("customers", {})
        for account in by_ids(sf, "Account", ("Id", field), account_ids):
            if str(account.get(field) or "").strip():
                customers[account["Id"]] = str(account[field]).strip()
        unstamped = [a for a in account_ids if a not in customers]
        if unstamped:
            accounts = links.links_resolve(
                brand_id=ctx.brand_id, kind="account", system="salesforce", ids=unstamped
            )
            contacts = links.links_of_entities(
                brand_id=ctx.brand_id,
                kind="contact",
                system="brightpearl",
                entities=[link.entity for link in accounts.values()],
            )
            for account_id, link in accounts.items():
                contact = contacts.get(link.entity)
                if contact is not None and contact.external_id:
                    customers[account_id] = contact.external_id

    def source_id_of(self, record: Any) -> str:
        return str(record.get("Id", "unknown")) if isinstance(record, dict) else "unknown"

    def stamped_echo(self, ctx: FlowContext, order: dict) -> bool | None:
        """An Order the console made (Brightpearl → Salesforce orders: CreatedById is the
        integration user) is a Brightpearl order coming back, whoever edited it since: never
        posted back. Otherwise the stamps do not say (sales made it)."""
        ours = integration_user(ctx)
        return True if ours and order.get("CreatedById") == ours else None

    def transform(self, ctx: FlowContext, order: dict) -> Push | Wait | Skip:
        order_id = order["Id"]
        updated = when(order.get("SystemModstamp"))
        if order_id in ctx.cache.get("posted", ()):
            return Skip(order_id, "Posted to Brightpearl already.")
        if str(order.get("Status") or "") == DRAFT:
            return Skip(order_id, "A draft in Salesforce: it goes once it is activated.")
        items = order.get("_items") or []
        if not items:
            return Skip(order_id, "No products on it yet.")
        products = ctx.cache.get("products", {})
        skus = {i["_sku"] or f"(no code: {i.get('Product2Id')})" for i in items}
        unknown = sorted(skus - set(products))
        if unknown:
            return Wait(
                source_id=order_id,
                reason=f"SKU {', '.join(unknown)} is not in Brightpearl.",
                source_updated=updated,
                ticket=TicketSpec(
                    type_code="unmapped_sku",
                    title=f"Salesforce order {order.get('OrderNumber') or order_id} has a "
                    "product Brightpearl does not know",
                    source_id=order_id,
                    source_system="salesforce",
                    snapshot={"order": order_id, "unknown_skus": unknown},
                    error_message=f"No Brightpearl product has SKU {', '.join(unknown)} (the "
                    "Product Code of the order's product in Salesforce).",
                ),
            )
        customer = ctx.cache.get("customers", {}).get(order.get("AccountId") or "")
        if not customer:
            return Wait(
                source_id=order_id,
                reason=f"Account {order.get('AccountId')} is not a Brightpearl customer yet.",
                source_updated=updated,
                ticket=TicketSpec(
                    type_code="salesforce_account_unlinked",
                    title=f"Salesforce order {order.get('OrderNumber') or order_id}: its "
                    "account is not a Brightpearl customer yet",
                    source_id=order_id,
                    source_system="salesforce",
                    snapshot={"order": order_id, "account": order.get("AccountId")},
                    error_message=f"Salesforce Account {order.get('AccountId')} has no "
                    "Brightpearl id and no link to a Brightpearl customer.",
                ),
            )
        rows = [
            {
                "productId": products[item["_sku"]],
                "quantity": int(Decimal(str(item.get("Quantity") or 1))),
                "net": money(item.get("TotalPrice")),
                "tax": "0.00",
            }
            for item in items
        ]
        payload: dict[str, Any] = {
            "ref": f"SF{order.get('OrderNumber') or order_id}",
            "externalRef": order_id,
            "customer": {"id": int(customer)},
            "rows": rows,
        }
        if order.get("EffectiveDate"):
            payload["placedOn"] = f"{order['EffectiveDate']}T00:00:00+00:00"
        return Push(
            source_id=order_id, payload=payload, natural_key=order_id, source_updated=updated
        )

    # --- the target side ----------------------------------------------------------------
    def lookup(self, ctx: FlowContext, pushes: list[Push]) -> dict[str, str]:
        found = ctx.connector("brightpearl").order_ids_by_external_ref(
            p.natural_key for p in pushes
        )
        by_ref = {p.natural_key: p.source_id for p in pushes}
        return {by_ref[ref]: str(order_id) for ref, order_id in found.items()}

    def write(self, ctx: FlowContext, pushes: list[Push]) -> BatchResult:
        bp = ctx.connector("brightpearl")
        result = BatchResult()
        for push in pushes:
            if push.target_id:
                result.ok.append(push.source_id)
                continue
            try:
                result.created[push.source_id] = str(bp.create_sales_order(push.payload))
            except (AuthError, ConfigurationError):
                raise  # the whole run fails: nothing else would get through either
            except RejectedError as exc:
                result.failed[push.source_id] = RecordError(exc.code or "rejected", exc.plain)
            except ConnectorError as exc:
                # Sent, perhaps taken: the engine keeps the create pending and looks it up.
                result.failed[push.source_id] = RecordError(
                    exc.code or exc.kind, str(exc), definite=False
                )
        return result

    def state_of(self, payload: dict) -> dict:
        return {
            "external_ref": payload["externalRef"],
            "customer": payload["customer"]["id"],
            "lines": len(payload["rows"]),
        }

    def written_view(self, push: Push) -> dict:
        """What marks the Brightpearl order as Salesforce's own, kept on its link: a flow
        sending Brightpearl orders to Salesforce whose `echo_view` is
        `{"externalRef": order["externalRef"]}` recognises it and does not send it back as
        a second Salesforce Order."""
        return {"externalRef": str(push.payload["externalRef"])}

    def finish(self, ctx: FlowContext) -> None:
        watermarks_keep(ctx)  # everything read was handled: the watermarks move

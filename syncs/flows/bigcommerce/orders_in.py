"""Storefront orders: each BigCommerce order becomes one Brightpearl sales order, once.

The sales order is created through the engine's safe-create protocol: its external ref is
the BigCommerce order id, and after a lost answer or a crash the order is looked up by it
before anything is sent again, so a customer's order is never posted twice. Its customer is
found by email in Brightpearl, or created (once, the same way). Lines match Brightpearl
products by SKU; an unknown SKU holds the order with a ticket. The status it is created in
comes from the brand's value map: an unmapped status holds the order too. An order
Brightpearl holds already is linked, not posted, and its goods are checked against the
storefront's: a difference is a ticket for finance (totals.py).

BigCommerce owns the order as placed, Brightpearl owns its status from then on: an order
already posted is not posted again, and a status set in BigCommerce by hand is a conflict
that Brightpearl's status wins (audited).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from brands.audit import audit
from connectors.brightpearl.lookups import ContactEmailIndex, OrderRefIndex
from connectors.errors import AuthError, ConfigurationError, ConnectorError, RejectedError
from connectors.http import BatchResult, RecordError, chunks
from syncs import links
from syncs.flows.base import Flow, Push, Skip, TicketSpec, Wait
from syncs.flows.bigcommerce.totals import totals_check
from syncs.flows.reading import EPOCH, unique
from syncs.models import RecordLink, RecordStatus
from syncs.valuemaps.quarantine import unmapped_wait, used

if TYPE_CHECKING:
    from syncs.engine import FlowContext

FLOW = "storefront_orders"
STATUS_MAP = "bc_order_status"
GROUP_MAP = "bc_customer_group"
# A guest, or a customer in no group: BigCommerce's group 0. Unmapped, the order goes with no
# price list and Brightpearl prices it from the customer's own ("If no price list ID is sent
# in the customer's assigned price list is used": api-docs.brightpearl.com/order/order/post).
NO_GROUP = "0"
# An order still being checked out (status 0) is not an order yet.
NOT_PLACED = {0}


def when(value: str | None):
    """BigCommerce v2 dates are RFC 2822 ("Tue, 20 Nov 2012 00:00:00 +0000")."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def money(value: Any) -> str:
    return str(Decimal(str(value or 0)).quantize(Decimal("0.01")))


def go_live(ctx: FlowContext) -> Any:
    """The brand's go-live day (the BigCommerce connection's setting), read once a run."""
    if "go_live" not in ctx.cache:
        ctx.cache["go_live"] = ctx.connector("bigcommerce").go_live()
    return ctx.cache["go_live"]


def before_go_live(ctx: FlowContext, order: dict) -> bool:
    """Placed before the brand went live with the console: never imported (nor its payment
    or refunds). An order with no date is not judged by it."""
    start = go_live(ctx)
    placed = when(order.get("date_created"))
    return bool(start and placed and placed < start)


def customer_email(order: dict) -> str:
    return str((order.get("billing_address") or {}).get("email", "")).strip().lower()


class StorefrontOrdersFlow(Flow):
    code = FLOW
    label = "Storefront orders → Brightpearl"
    description = "BigCommerce orders as Brightpearl sales orders, each created exactly once."
    source = "bigcommerce"
    target = "brightpearl"
    kind = "order"
    creates = True
    # Posted once: BigCommerce owns the order as placed, Brightpearl owns it from then on.
    updates = False
    # Brightpearl may hold it already (posted by another channel app before the console, or
    # by a create whose answer was lost): searched by external ref before every create.
    lookup_first = True
    owners = {"lines, prices and totals as placed": "bigcommerce", "status": "brightpearl"}
    noun = "orders"
    batch_size = 50
    default_schedule_minutes = 60
    webhook_events = ("store/order/created", "store/order/updated", "store/order/statusUpdated")

    def read(self, ctx: FlowContext) -> Iterator[list[dict]]:
        bc = ctx.connector("bigcommerce")
        if ctx.scope:
            ctx.total_hint = len(ctx.scope)
            batches: Iterator[list[dict]] = (
                self._found(ctx, batch, list(bc.orders(batch)))
                for batch in chunks(unique(ctx.scope), self.batch_size)
            )
        else:
            # Nothing changed before the go-live day can be an order to import.
            since = max(ctx.since or EPOCH, go_live(ctx) or EPOCH)
            listed = bc.orders_modified_since(since)
            retry = list(ctx.retry_ids)
            batches = chunks(self._with_retry(ctx, listed, retry), self.batch_size)
        for orders in batches:
            # Posted already: BigCommerce owns it as placed and it goes once, so its lines
            # are not read again (v2 reads them one order at a time).
            posted = {
                source_id
                for source_id, state in ctx.states(FLOW, [str(o["id"]) for o in orders]).items()
                if state.status == RecordStatus.SYNCED
            }
            ctx.cache["posted"] = posted
            for order in orders:
                if str(order["id"]) not in posted and not before_go_live(ctx, order):
                    order["_products"] = bc.order_products(int(order["id"]))
            self._prefetch(ctx, orders)
            self._groups(ctx, [o for o in orders if str(o["id"]) not in posted])
            yield orders

    def _found(self, ctx: FlowContext, asked: list[str], orders: list[dict]) -> list[dict]:
        seen = {str(o["id"]) for o in orders}
        ctx.missing.extend(i for i in asked if i not in seen)
        return orders

    def _with_retry(self, ctx: FlowContext, listed, retry: list[str]) -> Iterator[dict]:
        seen: set[str] = set()
        for order in listed:
            seen.add(str(order["id"]))
            yield order
        left = [i for i in retry if i not in seen]
        if left:
            yield from self._found(ctx, left, list(ctx.connector("bigcommerce").orders(left)))

    def _prefetch(self, ctx: FlowContext, orders: list[dict]) -> None:
        """The batch's SKUs as Brightpearl products, once per run for each SKU."""
        products: dict[str, int] = ctx.cache.setdefault("products", {})
        skus = {
            str(line.get("sku", ""))
            for order in orders
            for line in order.get("_products") or []
            if str(line.get("sku", "")) not in products
        }
        if skus:
            products.update(ctx.connector("brightpearl").product_ids_by_sku(sorted(skus)))
            ctx.cache.setdefault("asked_skus", set()).update(skus)

    def _groups(self, ctx: FlowContext, orders: list[dict]) -> None:
        """The customer group of each order's customer (a v2 order names the customer, not
        their group), once per run for each customer; guests are in no group."""
        groups: dict[str, str] = ctx.cache.setdefault("groups", {})
        wanted = {
            str(o.get("customer_id"))
            for o in orders
            if int(o.get("customer_id") or 0) > 0 and str(o.get("customer_id")) not in groups
        }
        if wanted:
            found = ctx.connector("bigcommerce").customer_groups(wanted)
            # A customer deleted since: their group is unknown, so they count as a guest.
            groups.update({c: found.get(c, NO_GROUP) for c in wanted})

    def _price_list(self, ctx: FlowContext, order: dict) -> tuple[str, Any]:
        """(the order's customer group, the price list it maps to or None)."""
        customer = str(order.get("customer_id") or 0)
        group = ctx.cache.get("groups", {}).get(customer, NO_GROUP) if customer != "0" else NO_GROUP
        return group, ctx.mapped(GROUP_MAP, group)

    def transform(self, ctx: FlowContext, order: dict) -> Push | Wait | Skip:
        order_id = str(order["id"])
        status_id = int(order.get("status_id", 0))
        if order_id in ctx.cache.get("posted", ()):
            return Skip(order_id, "Posted to Brightpearl already.")
        if status_id in NOT_PLACED:
            return Skip(order_id, "Still being checked out.")
        if before_go_live(ctx, order):
            return Skip(order_id, f"Placed before the go-live date ({go_live(ctx):%Y-%m-%d}).")
        products = ctx.cache.get("products", {})
        unknown = sorted(
            {
                str(line.get("sku", ""))
                for line in order.get("_products") or []
                if str(line.get("sku", "")) not in products
            }
        )
        if unknown:
            return Wait(
                source_id=order_id,
                reason=f"SKU {', '.join(unknown)} is not in Brightpearl.",
                source_updated=when(order.get("date_modified")),
                ticket=TicketSpec(
                    type_code="unmapped_sku",
                    title=f"Storefront order {order_id} has a SKU Brightpearl does not know",
                    source_id=order_id,
                    source_system="bigcommerce",
                    snapshot={"order": order_id, "unknown_skus": unknown},
                    error_message=f"No Brightpearl product has SKU {', '.join(unknown)}.",
                ),
            )
        status = ctx.mapped(STATUS_MAP, status_id)
        if status is None:
            return unmapped_wait(
                STATUS_MAP,
                status_id,
                source_id=order_id,
                label=str(order.get("status", "")),
                source_updated=when(order.get("date_modified")),
            )
        group, price_list = self._price_list(ctx, order)
        if price_list is None and group != NO_GROUP:
            # Posted at the wrong prices it would be wrong in the ledger: it waits instead.
            return unmapped_wait(
                GROUP_MAP,
                group,
                source_id=order_id,
                source_updated=when(order.get("date_modified")),
            )
        email = customer_email(order)
        billing = order.get("billing_address") or {}
        rows = [
            {
                "productId": products[str(line["sku"])],
                "name": line.get("name", ""),
                "quantity": int(line.get("quantity", 1)),
                "net": money(line.get("total_ex_tax")),
                "tax": money(line.get("total_tax")),
            }
            for line in sorted(order.get("_products") or [], key=lambda line: int(line["id"]))
        ]
        payload = {
            "ref": f"BC{order_id}",
            "externalRef": order_id,
            "placedOn": (when(order.get("date_created")) or ctx.now).isoformat(),
            # The earliest its Brightpearl twin can have been created (lookups.py); none
            # when BigCommerce gave no date, so it is looked up by itself.
            "_placed": placed.isoformat() if (placed := when(order.get("date_created"))) else "",
            "statusId": int(str(status)),
            "currency": {"code": order.get("currency_code", "")},
            "rows": rows,
            "_customer": {
                "email": email,
                "firstName": billing.get("first_name", ""),
                "lastName": billing.get("last_name", "") or email,
            },
        }
        if price_list is not None:
            payload["priceListId"] = int(str(price_list))
            used(payload, GROUP_MAP, group)
        return Push(
            source_id=order_id,
            # Which storefront status it came from: the value map's page counts its uses.
            payload=used(payload, STATUS_MAP, status_id),
            natural_key=order_id,
            match_key=email,
            source_updated=when(order.get("date_modified")),
        )

    # --- the target side ----------------------------------------------------------------
    def lookup(self, ctx: FlowContext, pushes: list[Push]) -> dict[str, str]:
        # One creation window for the batch (then what is new since, one call a batch),
        # not one search a ref: connectors/brightpearl/lookups.py.
        found = order_index(ctx).find({p.natural_key: placed_at(p) for p in pushes})
        by_ref = {p.natural_key: p.source_id for p in pushes}
        linked = {by_ref[ref]: str(order_id) for ref, order_id in found.items() if ref in by_ref}
        # Linked, not posted: Brightpearl's lines stand, so they must be the shopper's.
        totals_check(ctx, pushes, linked)
        return linked

    def write(self, ctx: FlowContext, pushes: list[Push]) -> BatchResult:
        bp = ctx.connector("brightpearl")
        result = BatchResult()
        customers_prefetch(ctx, [p for p in pushes if not p.target_id])
        for push in pushes:
            if push.target_id:
                result.ok.append(push.source_id)
                continue
            try:
                contact_id = self._customer(ctx, push)
                body = {k: v for k, v in push.payload.items() if not k.startswith("_")}
                body["customer"] = {"id": int(contact_id)}
                result.created[push.source_id] = str(bp.create_sales_order(body))
                ctx.cache.setdefault("created_orders", []).append(push.source_id)
            except (AuthError, ConfigurationError):
                raise  # the whole run fails: nothing else would get through either
            except RejectedError as exc:
                result.failed[push.source_id] = RecordError(exc.code or "rejected", exc.plain)
            except ConnectorError as exc:
                # Sent, perhaps taken: the engine keeps the create pending and looks it up.
                # The customer's too, perhaps: what the index said of them no longer holds.
                ctx.cache.get("customers", {}).pop(push.payload["_customer"]["email"], None)
                result.failed[push.source_id] = RecordError(
                    exc.code or exc.kind, str(exc), definite=False
                )
        return result

    def _customer(self, ctx: FlowContext, push: Push) -> str:
        """The order's customer in Brightpearl: found by email, or created, exactly once."""
        bp = ctx.connector("brightpearl")
        customer = push.payload["_customer"]
        email = customer["email"]

        def find() -> str | None:
            if not email:
                return None
            known = ctx.cache.get("customers", {})
            if email in known:
                # Read for the batch from the run's contact index (customers_prefetch).
                return str(known[email]) if known[email] else None
            ids = bp.contact_ids_by_email(email)
            return str(ids[0]) if ids else None

        def create() -> str:
            return str(
                bp.create_contact(
                    {
                        "firstName": customer["firstName"],
                        "lastName": customer["lastName"],
                        "communication": {"emails": {"PRI": {"email": email}}},
                        "relationshipToAccount": {"isCustomer": True},
                    }
                )
            )

        return links.link_or_create(
            brand_id=ctx.brand_id,
            kind="contact",
            system="brightpearl",
            entity=links.entity_of("contact", "email", email or f"order-{push.source_id}"),
            natural_key=email,
            create_key=f"{FLOW}:customer:{email or push.source_id}",
            find=find,
            create=create,
        )

    def state_of(self, payload: dict) -> dict:
        return {
            "external_ref": payload["externalRef"],
            "status_id": payload["statusId"],
            "lines": len(payload["rows"]),
            "email": payload["_customer"]["email"],
            "price_list": payload.get("priceListId"),
            "_maps": payload.get("_maps", {}),
        }

    def finish(self, ctx: FlowContext) -> None:
        """The payments of the orders just posted follow at once, not at the payments
        flow's next sweep (their webhook came while the order was not in Brightpearl yet)."""
        created = ctx.cache.get("created_orders") or []
        if created:
            payments_follow(ctx, created)

    # --- echoes and conflicts -------------------------------------------------------------
    def written_view(self, push: Push) -> dict:
        """What the create set that Brightpearl's own flows read back: the order's status."""
        return {"orderStatusId": int(push.payload["statusId"])}

    def echo_view(self, order: dict) -> dict:
        """A BigCommerce order's status, as the order-status flow writes it there."""
        return {"status_id": int(order.get("status_id", 0))}

    def diverged(self, ctx: FlowContext, order: dict, link: Any) -> None:
        """The order's status was set in BigCommerce since the console set it. Brightpearl
        owns order status, so Brightpearl's wins: noted in the audit trail, and the status
        flow sets it back on its next run. A cancellation is the one exception: it is the
        storefront's to make, and the cancellations flow carries it to Brightpearl."""
        from syncs.flows.bigcommerce.cancellations_in import CANCELLED
        from syncs.flows.bigcommerce.shipments_out import SHIPPED_STATUSES, console_shipped

        status_id = int(order.get("status_id", 0))
        if status_id in CANCELLED:
            return
        if status_id in SHIPPED_STATUSES and console_shipped(ctx.brand_id, order["id"]):
            # BigCommerce moved it on when the console made its shipment: not a person's
            # change, so nothing to settle (the status flow still sends Brightpearl's next).
            return
        audit(
            "conflict.owner_wins",
            brand=ctx.brand_id,
            target=f"BigCommerce order {order['id']}",
            summary=(
                f"BigCommerce order {order['id']} was set to “{order.get('status', '')}” in "
                "BigCommerce; Brightpearl owns order status, so Brightpearl's status stands."
            ),
            field="status",
            owner="brightpearl",
            written=RecordLink.objects.get(pk=link.pk).written,
            found={"status_id": order.get("status_id")},
        )
        status_flow_resend(ctx, link.entity)


def status_flow_resend(ctx: FlowContext, entity: str) -> None:
    """Have the order-status flow send Brightpearl's status to BigCommerce again."""
    from syncs.flows.bigcommerce.status_out import FLOW as STATUS_FLOW
    from syncs.models import RecordState
    from syncs.services import flow_enqueue

    bp = links.links_of_entities(
        brand_id=ctx.brand_id, kind="order", system="brightpearl", entities=[entity]
    ).get(entity)
    if bp is None or not bp.external_id:
        return
    # What it sent last no longer stands in BigCommerce: the next run must not skip it.
    RecordState.objects.filter(
        brand_id=ctx.brand_id, flow=STATUS_FLOW, source_id=bp.external_id
    ).update(content_hash="")
    flow_enqueue(brand_id=ctx.brand_id, flow=STATUS_FLOW, trigger="webhook", scope=[bp.external_id])


def placed_at(push: Push) -> datetime | None:
    text = str(push.payload.get("_placed") or "")
    return datetime.fromisoformat(text) if text else None


def order_index(ctx: FlowContext) -> OrderRefIndex:
    """The run's index of Brightpearl sales orders by external ref."""
    if "order_index" not in ctx.cache:
        ctx.cache["order_index"] = OrderRefIndex(ctx.connector("brightpearl"))
    return ctx.cache["order_index"]


def customers_prefetch(ctx: FlowContext, pushes: list[Push]) -> None:
    """The batch's customers not linked yet, looked up in Brightpearl together (the run's
    contact index: connectors/brightpearl/lookups.py) into ctx.cache["customers"]; a linked
    customer costs no call. A customer whose create's answer was lost (a pending link) is
    searched by itself instead, at the moment it is needed: the index may predate that
    create, and must not be trusted to say it did not happen."""
    emails = {str(p.payload["_customer"]["email"]) for p in pushes}
    emails.discard("")
    entities = {links.entity_of("contact", "email", e): e for e in emails}
    linked = links.links_of_entities(
        brand_id=ctx.brand_id, kind="contact", system="brightpearl", entities=list(entities)
    )
    known: dict[str, int | None] = ctx.cache.setdefault("customers", {})
    for entity in linked:
        known.pop(entities[entity], None)
    # Asked again even when an earlier batch asked: the index's top-up says what changed since.
    wanted = [e for entity, e in entities.items() if entity not in linked]
    if "contact_index" not in ctx.cache:
        ctx.cache["contact_index"] = ContactEmailIndex(ctx.connector("brightpearl"))
    known.update(ctx.cache["contact_index"].find(wanted))


def payments_follow(ctx: FlowContext, order_ids: list[str]) -> None:
    """Queue the payments flow for these storefront orders, if the brand has it on."""
    from syncs.flows.bigcommerce.maps import STOREFRONT_PAYMENTS
    from syncs.models import FlowConfig
    from syncs.services import flow_enqueue

    if FlowConfig.objects.filter(
        brand_id=ctx.brand_id, flow=STOREFRONT_PAYMENTS, enabled=True
    ).exists():
        flow_enqueue(
            brand_id=ctx.brand_id,
            flow=STOREFRONT_PAYMENTS,
            trigger="webhook",
            scope=sorted(set(order_ids), key=int),
        )

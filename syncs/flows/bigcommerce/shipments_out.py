"""Shipments back to the storefront: each shipped Brightpearl goods-out note of an order that
came from BigCommerce becomes one BigCommerce shipment, with its items, tracking number and
carrier (from the brand's shipping-method value map). BigCommerce then moves the order to
Shipped or Partially Shipped and sends the shopper their dispatch email.

The shipment is created through the engine's safe-create protocol, keyed by the note id: the
shipment's `comments` carry "Brightpearl goods-out note <id>", and after a lost answer or a
killed worker the order's shipments are read and searched for that mark before anything is
sent again, so a shopper never gets two dispatch emails for one parcel.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from connectors.errors import AuthError, ConfigurationError, ConnectorError, RejectedError
from connectors.http import BatchResult, RecordError
from syncs import links
from syncs.flows.base import Flow, Push, Skip, TicketSpec, Wait
from syncs.flows.bigcommerce.maps import SHIPMENTS
from syncs.flows.notes import is_shipped, note_batches
from syncs.flows.reading import when
from syncs.models import RecordStatus
from syncs.valuemaps.quarantine import unmapped_wait, used

if TYPE_CHECKING:
    from syncs.engine import FlowContext

FLOW = SHIPMENTS
METHOD_MAP = "bp_shipping_method"
TICKET_TYPE = "shipment_not_notified"


def note_mark(note_id: int | str) -> str:
    """What a shipment made for this note says in its comments: its natural key."""
    return f"Brightpearl goods-out note {note_id}"


def storefront_orders_of(brand_id: int, bp_order_ids: list[str]) -> dict[str, str]:
    """{Brightpearl order id: BigCommerce order id} for the orders that came from the
    storefront (linked to a BigCommerce order by the storefront-orders flow)."""
    return links.links_ids_across(
        brand_id=brand_id,
        kind="order",
        source="brightpearl",
        target="bigcommerce",
        ids=bp_order_ids,
    )


# What BigCommerce moves an order to when a shipment is made on it.
SHIPPED_STATUSES = {2, 3}


def console_shipped(brand_id: int, bc_order_id: int | str) -> bool:
    """Whether the console made a shipment on this storefront order (so the order's move to
    Shipped or Partially Shipped is BigCommerce answering the console, not a person)."""
    from syncs.models import RecordState

    return RecordState.objects.filter(
        brand_id=brand_id,
        flow=FLOW,
        status=RecordStatus.SYNCED,
        last_pushed__order_id=int(bc_order_id),
    ).exists()


class ShipmentsToStorefrontFlow(Flow):
    code = FLOW
    label = "Shipments → BigCommerce"
    description = "One BigCommerce shipment per shipped goods-out note, created exactly once."
    source = "brightpearl"
    target = "bigcommerce"
    kind = "shipment"
    creates = True
    # A shipment goes once: BigCommerce emails the shopper when it is made.
    updates = False
    noun = "notes"
    default_schedule_minutes = 15
    webhook_events = ("goods-out-note.modified.shipped",)
    owners = {"shipment": "brightpearl"}

    def read(self, ctx: FlowContext) -> Iterator[list[tuple[int, dict]]]:
        for notes, _by_note in note_batches(ctx):
            self._prefetch(ctx, notes)
            yield notes

    def _prefetch(self, ctx: FlowContext, notes: list[tuple[int, dict]]) -> None:
        """For the shipped notes not sent yet: their storefront order, Brightpearl's order
        rows (a note names rows, the storefront knows SKUs), and the storefront order's
        products and shipping address. A re-run of sent notes reads nothing more."""
        sent = {
            source_id
            for source_id, state in ctx.states(FLOW, [str(n) for n, _ in notes]).items()
            if state.status == RecordStatus.SYNCED
        }
        pending = [(n, note) for n, note in notes if is_shipped(note) and str(n) not in sent]
        bp_orders = sorted({str(note["orderId"]) for _, note in pending})
        storefront = storefront_orders_of(ctx.brand_id, bp_orders)
        ctx.cache["storefront"] = storefront
        rows: dict[str, dict] = {}
        if storefront:
            for order in ctx.connector("brightpearl").orders(sorted(storefront)):
                rows[str(order["id"])] = order.get("orderRows") or {}
        ctx.cache["bp_rows"] = rows
        bc = ctx.connector("bigcommerce")
        orders: dict[str, dict] = ctx.cache.setdefault("bc_orders", {})
        for bc_id in sorted(set(storefront.values()) - set(orders)):
            orders[bc_id] = {
                "products": bc.order_products(int(bc_id)),
                "addresses": bc.shipping_addresses(int(bc_id)),
            }

    def transform(self, ctx: FlowContext, item: tuple[int, dict]) -> Push | Wait | Skip:
        note_id, note = item
        source_id = str(note_id)
        if not is_shipped(note):
            return Skip(source_id, "Not shipped yet.")
        bp_order = str(note["orderId"])
        bc_order = ctx.cache["storefront"].get(bp_order)
        if not bc_order:
            return Skip(source_id, "Its order did not come from the storefront.")
        shipping = note.get("shipping") or {}
        status = note.get("status") or {}
        shipped_on = when(status.get("shippedOn"))
        method = shipping.get("shippingMethodId")
        provider = ctx.mapped(METHOD_MAP, method) if method not in (None, "") else None
        if provider is None:
            if method in (None, ""):
                return self._cannot(
                    source_id, bp_order, bc_order, "The goods-out note names no shipping method."
                )
            return unmapped_wait(METHOD_MAP, method, source_id=source_id, source_updated=shipped_on)
        found = ctx.cache["bc_orders"].get(bc_order) or {}
        items, problem = self._items(note, ctx.cache["bp_rows"].get(bp_order) or {}, found)
        if problem:
            return self._cannot(source_id, bp_order, bc_order, problem)
        addresses = found.get("addresses") or []
        payload = {
            "_order_id": int(bc_order),
            "order_address_id": int(addresses[0]["id"]),
            "items": items,
            "tracking_number": str(shipping.get("reference") or ""),
            "shipping_provider": str(provider),
            "comments": note_mark(note_id),
        }
        return Push(
            source_id=source_id,
            payload=used(payload, METHOD_MAP, method),
            natural_key=source_id,
            source_updated=shipped_on,
        )

    def _items(self, note: dict, bp_rows: dict, found: dict) -> tuple[list[dict], str]:
        """The note's lines as storefront order products: a note names Brightpearl order
        rows, whose SKUs name the storefront's products."""
        products = found.get("products") or []
        if not products or not found.get("addresses"):
            return [], "The storefront order could not be read (no products or address)."
        # An order may hold one SKU on several lines: each takes what it has left to ship.
        by_sku: dict[str, list[dict]] = {}
        for product in sorted(products, key=lambda p: int(p["id"])):
            by_sku.setdefault(str(product.get("sku", "")).lower(), []).append(product)
        quantities: dict[int, int] = {}
        for row_id, lines in sorted((note.get("orderRows") or {}).items()):
            row = bp_rows.get(str(row_id)) or {}
            candidates = by_sku.get(str(row.get("productSku") or "").lower())
            if not candidates:
                return [], (
                    f"Row {row_id} (SKU {row.get('productSku') or 'unknown'}) of the note is not "
                    "on the storefront order."
                )
            for line in lines or []:
                wanted = int(float(line.get("quantity") or 0))
                for product in candidates:
                    pid = int(product["id"])
                    left = (
                        int(product.get("quantity") or 0)
                        - int(product.get("quantity_shipped") or 0)
                        - quantities.get(pid, 0)
                    )
                    take = min(left, wanted) if product is not candidates[-1] else wanted
                    if take > 0:
                        quantities[pid] = quantities.get(pid, 0) + take
                        wanted -= take
                    if wanted <= 0:
                        break
        items = [
            {"order_product_id": pid, "quantity": qty}
            for pid, qty in sorted(quantities.items())
            if qty > 0
        ]
        return items, "" if items else "The goods-out note has no quantities to ship."

    def _cannot(self, source_id: str, bp_order: str, bc_order: str, why: str) -> Wait:
        return Wait(
            source_id=source_id,
            reason=why,
            failed=True,
            ticket=TicketSpec(
                type_code=TICKET_TYPE,
                title=f"Goods-out note {source_id} shipped, but BigCommerce order {bc_order} "
                "was not told",
                source_id=source_id,
                snapshot={
                    "notes": [source_id],
                    "orders": {source_id: bc_order},
                    "brightpearl_orders": {source_id: bp_order},
                    "reason": why,
                },
                error_message=why,
            ),
        )

    # --- the target side ----------------------------------------------------------------
    def write(self, ctx: FlowContext, pushes: list[Push]) -> BatchResult:
        bc = ctx.connector("bigcommerce")
        result = BatchResult()
        for push in pushes:
            if push.target_id:
                result.ok.append(push.source_id)
                continue
            body = {k: v for k, v in push.payload.items() if not k.startswith("_")}
            try:
                shipment = bc.create_shipment(push.payload["_order_id"], body)
                result.created[push.source_id] = str(shipment["id"])
            except (AuthError, ConfigurationError):
                raise
            except RejectedError as exc:
                result.failed[push.source_id] = RecordError(
                    exc.code or "rejected", exc.vendor_message or exc.plain
                )
            except ConnectorError as exc:
                # Sent, perhaps made: the link stays pending and the next attempt looks first.
                result.failed[push.source_id] = RecordError(
                    exc.code or exc.kind, str(exc), definite=False
                )
        return result

    def lookup(self, ctx: FlowContext, pushes: list[Push]) -> dict[str, str]:
        """Shipments whose create answer was lost: the order's shipments, by the note's mark."""
        bc = ctx.connector("bigcommerce")
        found: dict[str, str] = {}
        by_order: dict[int, list[dict]] = {}
        for push in pushes:
            order_id = int(push.payload["_order_id"])
            if order_id not in by_order:
                by_order[order_id] = bc.shipments(order_id)
            mark = note_mark(push.source_id)
            for shipment in by_order[order_id]:
                if str(shipment.get("comments") or "").strip() == mark:
                    found[push.source_id] = str(shipment["id"])
                    break
        return found

    def finish(self, ctx: FlowContext) -> None:
        """The daily full run ends with the reconciliation report: every note shipped in
        Brightpearl lately whose storefront order has no shipment for it is ticketed."""
        if ctx.full and not ctx.scope:
            from syncs.flows.bigcommerce.shipment_check import shipments_check

            report = shipments_check(
                brand_id=ctx.brand_id,
                bp=ctx.connector("brightpearl"),
                bc=ctx.connector("bigcommerce"),
            )
            ctx.log(
                f"Reconciliation: {report['checked']} shipped notes of storefront orders "
                f"checked, {len(report['missing'])} without a BigCommerce shipment."
            )

    def source_id_of(self, record: tuple[int, dict]) -> str:
        return str(record[0])

    def state_of(self, payload: dict) -> dict:
        return {
            "order_id": payload["_order_id"],
            "items": payload["items"],
            "tracking_number": payload["tracking_number"],
            "shipping_provider": payload["shipping_provider"],
            "_maps": payload.get("_maps", {}),
        }

    def written_view(self, push: Push) -> dict:
        """What the shipment set in BigCommerce, as its record there reads back."""
        return {"order_id": push.payload["_order_id"], "comments": push.payload["comments"]}

"""Storefront cancellations: a storefront order cancelled in BigCommerce moves its Brightpearl
sales order to the status the brand maps a cancellation to, so the warehouse does not pick
and ship it.

Brightpearl owns an order's status from the moment it is posted, but for one change: a
cancellation made in the storefront (by the shopper, or by customer service there) is
BigCommerce's to make. The storefront-orders flow lets it stand (it does not set the status
back), and this flow carries it over. The console's own status writes coming back (the
status flow setting BigCommerce to Cancelled after Brightpearl cancelled) are echoes, not
sent back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from connectors.errors import AuthError, ConfigurationError, ConnectorError
from connectors.http import BatchResult, RecordError, chunks
from syncs.flows.base import Flow, Push, Skip, Wait
from syncs.flows.bigcommerce.maps import CANCELLATIONS
from syncs.flows.bigcommerce.orders_in import go_live, when
from syncs.flows.bigcommerce.refunds_in import posted_orders
from syncs.flows.reading import EPOCH, unique
from syncs.valuemaps.quarantine import unmapped_wait, used

if TYPE_CHECKING:
    from syncs.engine import FlowContext

FLOW = CANCELLATIONS
CANCEL_MAP = "bc_cancellation"
# BigCommerce's Cancelled (its ids are fixed).
CANCELLED = {5}


class StorefrontCancellationsFlow(Flow):
    code = FLOW
    label = "Cancellations → Brightpearl"
    description = "Storefront orders cancelled in BigCommerce, cancelled in Brightpearl too."
    source = "bigcommerce"
    target = "brightpearl"
    kind = "order"
    owners = {"cancellation": "bigcommerce", "status otherwise": "brightpearl"}
    noun = "orders"
    batch_size = 50
    default_schedule_minutes = 60
    webhook_events = ("store/order/statusUpdated",)

    def read(self, ctx: FlowContext) -> Iterator[list[dict]]:
        bc = ctx.connector("bigcommerce")
        if ctx.scope:
            ctx.total_hint = len(ctx.scope)
            ids = [i for i in unique(ctx.scope) if i.isdigit()]
            batches: Iterator[list[dict]] = (list(bc.orders(b)) for b in chunks(ids, 50))
        else:
            since = max(ctx.since or EPOCH, go_live(ctx) or EPOCH)
            batches = chunks(self._listed(ctx, bc.orders_modified_since(since)), self.batch_size)
        for orders in batches:
            cancelled = [str(o["id"]) for o in orders if int(o.get("status_id", 0)) in CANCELLED]
            ctx.cache["posted"] = posted_orders(ctx.brand_id, cancelled)
            yield orders

    def _listed(self, ctx: FlowContext, listed) -> Iterator[dict]:
        seen: set[str] = set()
        for order in listed:
            seen.add(str(order["id"]))
            yield order
        left = [i for i in ctx.retry_ids if i not in seen]
        if left:
            yield from ctx.connector("bigcommerce").orders(left)

    def transform(self, ctx: FlowContext, order: dict) -> Push | Wait | Skip:
        order_id = str(order["id"])
        status_id = int(order.get("status_id", 0))
        if status_id not in CANCELLED:
            return Skip(order_id, "Not cancelled.")
        bp_id = ctx.cache["posted"].get(order_id)
        if not bp_id:
            return Skip(order_id, "Not in Brightpearl: nothing to cancel there.")
        mapped = ctx.mapped(CANCEL_MAP, status_id)
        updated = when(order.get("date_modified"))
        if mapped is None:
            return unmapped_wait(
                CANCEL_MAP,
                status_id,
                source_id=order_id,
                label=str(order.get("status") or ""),
                source_updated=updated,
            )
        return Push(
            source_id=order_id,
            payload=used({"orderStatusId": int(str(mapped))}, CANCEL_MAP, status_id),
            target_id=str(bp_id),
            source_updated=updated,
            match_key=str(status_id),
        )

    def write(self, ctx: FlowContext, pushes: list[Push]) -> BatchResult:
        bp = ctx.connector("brightpearl")
        result = BatchResult()
        for push in pushes:
            try:
                bp.set_order_status(int(push.target_id), push.payload["orderStatusId"])
                result.ok.append(push.source_id)
            except (AuthError, ConfigurationError):
                raise
            except ConnectorError as exc:
                # Setting a status is idempotent: whatever happened, the next run sets it.
                result.failed[push.source_id] = RecordError(exc.code or exc.kind, exc.plain)
        return result

    def state_of(self, payload: dict) -> dict:
        return {"orderStatusId": payload["orderStatusId"], "_maps": payload.get("_maps", {})}

    def written_view(self, push: Push) -> dict:
        """As the order-status flow reads a Brightpearl order back (its echo_view)."""
        return {"orderStatusId": push.payload["orderStatusId"]}

    def echo_view(self, order: dict) -> dict:
        """A BigCommerce order's status, as the order-status flow writes it there."""
        return {"status_id": int(order.get("status_id", 0))}

"""Order status back to the storefront: a Brightpearl status change sets the BigCommerce
order's status, through the brand's value map, for orders that came from BigCommerce.

Brightpearl owns order status. The change the storefront-orders flow itself made (the
status an order was created in) comes back from Brightpearl by webhook; it is recognised
as the console's own and not sent back. An order in a Brightpearl status with no mapping to
a BigCommerce status waits, with one ticket per status for ecommerce.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from connectors.errors import AuthError, ConfigurationError, ConnectorError
from connectors.http import BatchResult, RecordError
from syncs import links
from syncs.flows.base import Flow, Push, Skip, Wait
from syncs.flows.ometria.order_lifecycle import order_status
from syncs.flows.reading import fetched, source_ids, when
from syncs.valuemaps.quarantine import unmapped_wait, used

if TYPE_CHECKING:
    from syncs.engine import FlowContext

FLOW = "bigcommerce_order_status"
STATUS_MAP = "bp_order_status_to_bc"


class OrderStatusToStorefrontFlow(Flow):
    code = FLOW
    label = "Order status → BigCommerce"
    description = "Brightpearl order statuses on the BigCommerce orders they came from."
    source = "brightpearl"
    target = "bigcommerce"
    kind = "order"
    owners = {"status": "brightpearl"}
    noun = "orders"
    default_schedule_minutes = 15
    webhook_events = ("order.modified.order-status",)

    def read(self, ctx: FlowContext) -> Iterator[list[dict]]:
        bp = ctx.connector("brightpearl")
        ids = source_ids(
            ctx, full=bp.all_order_ids, changed=bp.changed_order_ids, id_column="orderId"
        )
        for orders in fetched(ctx, ids, bp.orders, key=lambda o: o["id"]):
            # Which of them came from the storefront: their BigCommerce order, by entity.
            sources = links.links_resolve(
                brand_id=ctx.brand_id,
                kind=self.kind,
                system=self.source,
                ids=[str(o["id"]) for o in orders],
            )
            ctx.cache["storefront"] = {
                link.entity: link.external_id
                for link in links.links_of_entities(
                    brand_id=ctx.brand_id,
                    kind=self.kind,
                    system=self.target,
                    entities=[link.entity for link in sources.values()],
                ).values()
                if link.external_id
            }
            ctx.cache["entities"] = {bp_id: link.entity for bp_id, link in sources.items()}
            yield orders

    def transform(self, ctx: FlowContext, order: dict) -> Push | Wait | Skip:
        order_id = str(order["id"])
        entity = ctx.cache["entities"].get(order_id, "")
        storefront_id = ctx.cache["storefront"].get(entity)
        if not storefront_id:
            return Skip(order_id, "Not a storefront order.")
        status_id, name = order_status(order)
        status = ctx.mapped(STATUS_MAP, status_id)
        if status is None:
            return unmapped_wait(
                STATUS_MAP,
                status_id,
                source_id=order_id,
                label=name,
                source_updated=when(order.get("updatedOn")),
            )
        return Push(
            source_id=order_id,
            # Which Brightpearl status it came from: the value map's page counts its uses.
            payload=used({"status_id": int(str(status))}, STATUS_MAP, status_id),
            target_id=storefront_id,
            source_updated=when(order.get("updatedOn")),
            match_key=str(status_id),
        )

    def write(self, ctx: FlowContext, pushes: list[Push]) -> BatchResult:
        bc = ctx.connector("bigcommerce")
        result = BatchResult()
        for push in pushes:
            try:
                bc.set_order_status(int(push.target_id), push.payload["status_id"])
                result.ok.append(push.source_id)
            except (AuthError, ConfigurationError):
                raise
            except ConnectorError as exc:
                # Setting a status is idempotent: whatever happened, the next run sets it.
                result.failed[push.source_id] = RecordError(exc.code or exc.kind, exc.plain)
        return result

    def state_of(self, payload: dict) -> dict:
        return {"status_id": payload["status_id"], "_maps": payload.get("_maps", {})}

    def written_view(self, push: Push) -> dict:
        return {"status_id": push.payload["status_id"]}

    def echo_view(self, order: dict) -> dict:
        """A Brightpearl order's status, as the storefront-orders flow records creating it."""
        return {"orderStatusId": order_status(order)[0]}

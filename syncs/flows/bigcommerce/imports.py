"""The manual import of one storefront order by its BigCommerce number (the "Import an order"
form on the Find a record page, and `manage.py import_order`).

It runs the storefront-orders flow for that order alone, then its payment: the same flow, the
same rules (created exactly once, an unknown SKU or unmapped value holds it with a ticket,
an order placed before the go-live date is never imported), so an import is never a way
round them. Audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from brands.audit import audit
from brands.models import Brand, Membership
from connectors.errors import ConnectorError, NotFoundError
from connectors.models import Connection
from connectors.registry import connector_for
from syncs.flows.bigcommerce.maps import STOREFRONT_PAYMENTS
from syncs.flows.bigcommerce.orders_in import FLOW as ORDERS
from syncs.models import FlowConfig, RecordLink, RecordState, RecordStatus, SyncRun, Trigger
from syncs.services import flow_enqueue, flow_run_now


class ImportRefused(Exception):
    """Why an import cannot start, in words for the person who asked."""


@dataclass
class ImportOutcome:
    number: str
    runs: list[SyncRun]
    sentence: str


def order_number(text: str) -> str:
    number = str(text or "").strip().lstrip("#").strip()
    if not number.isdigit() or len(number) > 12:
        raise ImportRefused(
            f"“{text}” is not a BigCommerce order number: type the number the storefront shows, "
            "such as 10234."
        )
    return str(int(number))


def storefront_order_import(
    *, brand: Brand, number: str, actor=None, now: bool = False
) -> ImportOutcome:
    """Import BigCommerce order `number` into Brightpearl: queued for the workers (the web
    form), or run here and now (`now`, the command). Refused in words when it cannot go."""
    number = order_number(number)
    if actor is not None and not (
        getattr(actor, "is_superuser", False)
        or Membership.objects.filter(user_id=getattr(actor, "pk", None), brand=brand).exists()
    ):
        raise ImportRefused(f"Only the people of {brand} can import its orders.")
    connection = Connection.objects.filter(brand=brand, system="bigcommerce").first()
    if connection is None:
        raise ImportRefused(f"{brand} has no BigCommerce connection to import an order from.")
    enabled = set(
        FlowConfig.objects.filter(brand=brand, enabled=True).values_list("flow", flat=True)
    )
    if ORDERS not in enabled:
        raise ImportRefused(
            f"Storefront orders → Brightpearl is switched off for {brand}: switch it on "
            "(the brand's flows) to import an order."
        )
    _check_exists(connection, number)
    flows = [ORDERS] + ([STOREFRONT_PAYMENTS] if STOREFRONT_PAYMENTS in enabled else [])
    audit(
        "storefront.order_import",
        brand=brand,
        actor=actor,
        target=f"BigCommerce order {number}",
        summary=f"Import of BigCommerce order {number} into Brightpearl asked for.",
        flows=flows,
    )
    if now:
        runs = [
            flow_run_now(brand=brand, flow=flow, scope=[number], trigger=Trigger.MANUAL)
            for flow in flows
        ]
        return ImportOutcome(number, runs, import_outcome(brand=brand, number=number))
    with transaction.atomic():
        runs = [
            flow_enqueue(brand_id=brand.pk, flow=flow, trigger=Trigger.MANUAL, scope=[number])
            for flow in flows
        ]
    return ImportOutcome(
        number,
        runs,
        f"Import of BigCommerce order {number} queued (run {runs[0].pk}). It starts within a "
        "few seconds; find the order here to see how it went.",
    )


def _check_exists(connection: Connection, number: str) -> None:
    """One read of the order: a mistyped number is told at once, and raises no ticket."""
    try:
        connector_for(connection, priority=True).order(int(number))
    except NotFoundError:
        raise ImportRefused(
            f"BigCommerce has no order {number}: check the number the storefront shows."
        ) from None
    except ConnectorError as exc:
        raise ImportRefused(
            f"BigCommerce could not be asked for order {number}: {exc.plain}"
        ) from None


def import_outcome(*, brand: Brand, number: str) -> str:
    """Where BigCommerce order `number` stands now, in one sentence."""
    state = RecordState.objects.filter(brand=brand, flow=ORDERS, source_id=number).first()
    bc = RecordLink.objects.filter(
        brand=brand, kind="order", system="bigcommerce", external_id=number
    ).first()
    bp = (
        RecordLink.objects.filter(brand=brand, kind="order", system="brightpearl", entity=bc.entity)
        .exclude(external_id="")
        .first()
        if bc
        else None
    )
    if bp is not None:
        return f"BigCommerce order {number} is Brightpearl sales order {bp.external_id}."
    if state is not None and state.status == RecordStatus.WAITING:
        return f"BigCommerce order {number} waits: {state.detail} Its ticket says how to fix it."
    if state is not None and state.status == RecordStatus.FAILED:
        return f"BigCommerce order {number} was refused: {state.detail}"
    return (
        f"BigCommerce order {number} was not imported: it is still being checked out, or it "
        "was placed before the go-live date."
    )

"""The weekly catalogue audit: SKUs in BigCommerce and not in Brightpearl, and the other way
round (the seed's "periodic data integrity audit", before a gap becomes a held order).

Both catalogues are read whole: Brightpearl's product search (SKU column) and BigCommerce's
variants (every sellable SKU is a variant's). SKUs match trimmed and regardless of case, as
the price push matches them. Each gap is one ticket for ecommerce, keyed by its SKU, so a
re-run counts a repeat on the same ticket and opens no second one; a gap that has closed
resolves its ticket. The open gap tickets are the report: the catalogue page lists them and
downloads them as CSV (catalogue_report.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from brands.audit import audit
from connectors.bigcommerce.catalog import variants
from connectors.brightpearl.prices import product_skus
from connectors.models import Connection
from connectors.registry import connector_for
from exceptions.models import OPEN_STATUSES, Ticket
from exceptions.services import ticket_raise, tickets_autoresolve
from syncs.flows.bigcommerce.prices_out import sku_key

ONLY_IN_BIGCOMMERCE = "sku_only_in_bigcommerce"
ONLY_IN_BRIGHTPEARL = "sku_only_in_brightpearl"
GAP_TYPES = (ONLY_IN_BIGCOMMERCE, ONLY_IN_BRIGHTPEARL)
AUDIT_ACTION = "catalogue.audited"


def catalogue_audit(
    *, brand_id: int, bp: Any = None, bc: Any = None, now: datetime | None = None, actor=None
) -> dict[str, Any]:
    """Compare the two catalogues; ticket each gap, resolve the tickets of closed ones.
    Returns {bigcommerce_skus, brightpearl_skus, only_in_bigcommerce, only_in_brightpearl,
    resolved}: the counts, and the SKUs of each gap."""
    now = now or timezone.now()
    bp = bp or _connector(brand_id, "brightpearl")
    bc = bc or _connector(brand_id, "bigcommerce")
    in_bp: dict[str, tuple[str, int]] = {}
    for sku, product_id in product_skus(bp).items():
        in_bp.setdefault(sku_key(sku), (sku, product_id))
    in_bc: dict[str, dict] = {}
    for variant in variants(bc):
        key = sku_key(variant.get("sku"))
        if key:
            in_bc.setdefault(key, variant)
    only_bc = sorted(k for k in in_bc if k not in in_bp)
    only_bp = sorted(k for k in in_bp if k not in in_bc)
    day = now.strftime("%Y-%m-%d")
    with transaction.atomic():
        for key in only_bc:
            variant = in_bc[key]
            sku = str(variant["sku"]).strip()
            ticket_raise(
                brand=brand_id,
                type_code=ONLY_IN_BIGCOMMERCE,
                title=f"SKU {sku} is in BigCommerce but not in Brightpearl",
                source_system="bigcommerce",
                source_id=sku,
                snapshot={
                    "sku": sku,
                    "bigcommerce_product": str(variant.get("product_id") or ""),
                    "bigcommerce_variant": str(variant.get("id") or ""),
                    "audited_on": day,
                },
                error_message="The catalogue audit found no Brightpearl product with this SKU.",
            )
        for key in only_bp:
            sku, product_id = in_bp[key]
            ticket_raise(
                brand=brand_id,
                type_code=ONLY_IN_BRIGHTPEARL,
                title=f"SKU {sku} is in Brightpearl but not in BigCommerce",
                source_system="brightpearl",
                source_id=sku,
                snapshot={"sku": sku, "brightpearl_product": str(product_id), "audited_on": day},
                error_message="The catalogue audit found no BigCommerce variant with this SKU.",
            )
        resolved = _resolve_closed(brand_id, set(only_bc), set(only_bp))
        audit(
            AUDIT_ACTION,
            brand=brand_id,
            actor=actor,
            target="BigCommerce ↔ Brightpearl catalogue",
            summary=f"{_skus(len(only_bc))} only in BigCommerce, {_skus(len(only_bp))} only "
            f"in Brightpearl, {resolved} gap{'' if resolved == 1 else 's'} closed",
            bigcommerce_skus=len(in_bc),
            brightpearl_skus=len(in_bp),
            only_in_bigcommerce=len(only_bc),
            only_in_brightpearl=len(only_bp),
            resolved=resolved,
        )
    return {
        "bigcommerce_skus": len(in_bc),
        "brightpearl_skus": len(in_bp),
        "only_in_bigcommerce": [str(in_bc[k]["sku"]).strip() for k in only_bc],
        "only_in_brightpearl": [in_bp[k][0] for k in only_bp],
        "resolved": resolved,
    }


def _resolve_closed(brand_id: int, only_bc: set[str], only_bp: set[str]) -> int:
    """Resolve the open gap tickets whose SKU is no longer a gap of their kind."""
    still = {ONLY_IN_BIGCOMMERCE: only_bc, ONLY_IN_BRIGHTPEARL: only_bp}
    resolved = 0
    for type_code, system in (
        (ONLY_IN_BIGCOMMERCE, "bigcommerce"),
        (ONLY_IN_BRIGHTPEARL, "brightpearl"),
    ):
        open_ids = Ticket.objects.filter(
            brand_id=brand_id, type__code=type_code, status__in=OPEN_STATUSES
        ).values_list("source_id", flat=True)
        closed = [s for s in open_ids if sku_key(s) not in still[type_code]]
        resolved += tickets_autoresolve(
            brand=brand_id,
            source_system=system,
            source_ids=closed,
            type_codes=[type_code],
            note="The catalogue audit found this SKU in both catalogues.",
        )
    return resolved


def _skus(n: int) -> str:
    return f"{n} SKU{'' if n == 1 else 's'}"


def catalogue_audit_brand_ids() -> list[int]:
    """The active brands with both a Brightpearl and a BigCommerce connection."""
    with_store = Connection.objects.filter(system="bigcommerce", brand__active=True)
    with_erp = Connection.objects.filter(system="brightpearl").values_list("brand_id", flat=True)
    return sorted(set(with_store.filter(brand_id__in=with_erp).values_list("brand_id", flat=True)))


def _connector(brand_id: int, system: str) -> Any:
    return connector_for(Connection.objects.get(brand_id=brand_id, system=system))

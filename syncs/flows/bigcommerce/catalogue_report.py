"""The catalogue audit as people read it: its open gaps (one row per ticket) and when it last
ran, for the catalogue page and its CSV download. Reads only the console's own tables."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime

from brands.models import AuditEvent, Brand
from exceptions.models import OPEN_STATUSES, Ticket
from syncs.flows.bigcommerce.catalogue_audit import (
    AUDIT_ACTION,
    ONLY_IN_BIGCOMMERCE,
    ONLY_IN_BRIGHTPEARL,
)

WHERE = {
    ONLY_IN_BIGCOMMERCE: ("BigCommerce", "Brightpearl"),
    ONLY_IN_BRIGHTPEARL: ("Brightpearl", "BigCommerce"),
}
CSV_COLUMNS = [
    "SKU",
    "Found in",
    "Missing from",
    "Brightpearl product",
    "BigCommerce product",
    "BigCommerce variant",
    "First found (UTC)",
    "Last found (UTC)",
    "Times found",
    "Ticket",
    "Ticket status",
    "Owner",
]


@dataclass(frozen=True)
class Gap:
    sku: str
    found_in: str
    missing_from: str
    brightpearl_product: str
    bigcommerce_product: str
    bigcommerce_variant: str
    first_found: datetime
    last_found: datetime
    times_found: int
    ticket_id: int
    ticket_status: str
    owner: str


def catalogue_gaps(*, brand: Brand) -> list[Gap]:
    """The open gaps, BigCommerce-only first (orders for them cannot post), then by SKU."""
    tickets = (
        Ticket.objects.filter(
            brand=brand,
            type__code__in=list(WHERE),
            status__in=OPEN_STATUSES,
        )
        .select_related("type", "assignee")
        .order_by("source_id")
    )
    gaps = []
    for t in tickets:
        snap = t.snapshot if isinstance(t.snapshot, dict) else {}
        found_in, missing_from = WHERE[t.type.code]
        gaps.append(
            Gap(
                sku=t.source_id,
                found_in=found_in,
                missing_from=missing_from,
                brightpearl_product=str(snap.get("brightpearl_product") or ""),
                bigcommerce_product=str(snap.get("bigcommerce_product") or ""),
                bigcommerce_variant=str(snap.get("bigcommerce_variant") or ""),
                first_found=t.first_seen,
                last_found=t.last_seen,
                times_found=t.occurrences,
                ticket_id=t.pk,
                ticket_status=t.get_status_display(),
                owner=t.assignee.get_username() if t.assignee else t.get_team_display(),
            )
        )
    gaps.sort(key=lambda g: (g.found_in != "BigCommerce", g.sku.lower()))
    return gaps


def catalogue_last_audit(*, brand: Brand) -> AuditEvent | None:
    return AuditEvent.objects.filter(brand=brand, action=AUDIT_ACTION).order_by("-created").first()


def catalogue_csv(*, brand: Brand) -> str:
    """The open gaps as CSV, one row each, in the columns the page shows."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for g in catalogue_gaps(brand=brand):
        writer.writerow(
            [
                _cell(g.sku),
                g.found_in,
                g.missing_from,
                g.brightpearl_product,
                g.bigcommerce_product,
                g.bigcommerce_variant,
                g.first_found.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
                g.last_found.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
                g.times_found,
                g.ticket_id,
                g.ticket_status,
                g.owner,
            ]
        )
    return out.getvalue()


def _cell(text: str) -> str:
    """A SKU opened in a spreadsheet must stay text: one starting like a formula is quoted."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text

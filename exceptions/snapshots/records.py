"""Renderers of the tickets about one record: refused by its target (at once, or later by
Ometria's own check), gone from its source, unreadable, or one of several contacts that
share an e-mail address."""

from __future__ import annotations

from typing import TYPE_CHECKING

from exceptions.hooks import flow_label, flow_target
from exceptions.snapshots.base import SnapshotView, Table, plain, renderer, rows_of
from exceptions.words import count, joined, system_name, vendor_name

if TYPE_CHECKING:
    from exceptions.models import Ticket


def _code(ticket: Ticket) -> str:
    return f" (code {ticket.error_code})" if ticket.error_code else ""


@renderer("rejected_by_target", keys=("sent",))
def rejected_by_target(ticket: Ticket, data: dict) -> SnapshotView | None:
    target = vendor_name(flow_target(ticket.flow))
    reason = ticket.error_message or "it gave no reason"
    sent = data.get("sent")
    tables = []
    if isinstance(sent, dict) and sent:
        tables.append(Table("What was sent", ["Field", "Value"], rows_of(sent, ticket)))
    elif sent not in (None, ""):
        tables.append(Table("What was sent", ["Field", "Value"], [["Sent", plain(sent, ticket)]]))
    return SnapshotView(sentence=f"{target} refused: {reason}{_code(ticket)}", tables=tables)


@renderer("stock_level_refused", keys=("sku", "levels", "reason"))
def stock_level_refused(ticket: Ticket, data: dict) -> SnapshotView | None:
    sku = data.get("sku")
    if not sku:
        return None
    reason = str(data.get("reason") or ticket.error_message or "it gave no reason")
    # BigCommerce names the item in brackets ("Items with identity: [sku X] not found").
    reason = reason.replace("[", "").replace("]", "").strip()
    levels = data.get("levels")
    tables = []
    if isinstance(levels, dict) and levels:
        tables.append(
            Table(
                "The stock levels sent",
                ["BigCommerce location", "Units"],
                [[str(loc), plain(units, ticket)] for loc, units in sorted(levels.items())],
            )
        )
    return SnapshotView(
        sentence=f"BigCommerce refused the stock level of SKU {sku}: {reason}. The other "
        "SKUs sent with it were written; this one still shows its old stock on the storefront.",
        facts=[("SKU", str(sku)), ("Brightpearl product", ticket.source_id or "—")],
        tables=tables,
    )


# Ometria's documented fields of a push error, and the sandbox's extra ones, in words.
OMETRIA_ERROR_FIELDS = {
    "error_path": "Field",
    "error_message": "Reason",
    "@type": "Record type",
    "id": "Ometria id",
    "timestamp": "Reported",
    "request_id": "Push request",
}


@renderer("async_rejection", keys=("ometria_error", "matched", "candidates"))
def async_rejection(ticket: Ticket, data: dict) -> SnapshotView | None:
    error = data.get("ometria_error")
    if not isinstance(error, dict):
        return None
    reason = ticket.error_message or error.get("error_message") or "no reason given"
    rows = [
        [OMETRIA_ERROR_FIELDS[key], plain(error[key], ticket)]
        for key in OMETRIA_ERROR_FIELDS
        if error.get(key) not in (None, "")
    ]
    rest = {k: v for k, v in error.items() if k not in OMETRIA_ERROR_FIELDS}
    # "visible_at" is the sandbox's own clock for when the error shows: not the vendor's.
    rest.pop("visible_at", None)
    rows += rows_of(rest, ticket)
    facts = []
    if data.get("matched"):
        facts.append(("How the record was found", str(data["matched"])))
    candidates = data.get("candidates")
    if isinstance(candidates, list):
        named = [
            f"{flow_label(c[0]) or c[0]} {c[1]}"
            for c in candidates
            if isinstance(c, list | tuple) and len(c) == 2
        ]
        facts.append(("It is one of", joined(named, len(candidates)) or "none the console knows"))
    return SnapshotView(
        sentence=f"Ometria accepted it, then refused it on its own check: {reason}",
        facts=facts,
        tables=[Table("What Ometria reported", ["", ""], rows)] if rows else [],
    )


@renderer("duplicate_contact", keys=("email", "contact_ids"))
def duplicate_contact(ticket: Ticket, data: dict) -> SnapshotView | None:
    ids = data.get("contact_ids") or []
    email = data.get("email") or ticket.source_id
    if not ids:
        return None
    return SnapshotView(
        sentence=f"{count(len(ids), 'Brightpearl contact')} use the e-mail address {email}: "
        f"{joined(ids)}.",
        facts=[("E-mail address", str(email)), ("Brightpearl contact ids", joined(ids))],
    )


@renderer("record_missing")
def record_missing(ticket: Ticket, data: dict) -> SnapshotView | None:
    # Its raiser keeps no snapshot: the ticket's own record says it all.
    system = system_name(ticket.source_system) or "The source system"
    return SnapshotView(
        sentence=f"{system} has no record {ticket.source_id} any more: a run asked for it "
        "and got nothing back. It may have been deleted or merged there.",
    )


@renderer("record_unreadable")
def record_unreadable(ticket: Ticket, data: dict) -> SnapshotView | None:
    system = system_name(ticket.source_system) or "its source system"
    return SnapshotView(
        sentence=f"The console could not read record {ticket.source_id} from {system}"
        + (f": {ticket.error_message}" if ticket.error_message else ".")
    )


SHIPMENT_KEYS = ("notes", "orders", "brightpearl_orders", "reason", "checked_since")


@renderer("shipment_not_notified", keys=SHIPMENT_KEYS)
def shipment_not_notified(ticket: Ticket, data: dict) -> SnapshotView | None:
    notes = [str(n) for n in data.get("notes") or []]
    if not notes:
        return None
    orders = data.get("orders") if isinstance(data.get("orders"), dict) else {}
    bp_orders = data.get("brightpearl_orders")
    bp_orders = bp_orders if isinstance(bp_orders, dict) else {}
    facts = [("Goods-out notes", joined(notes))]
    if len(notes) == 1:
        note = notes[0]
        if orders.get(note):
            facts.append(("BigCommerce order", str(orders[note])))
        if bp_orders.get(note):
            facts.append(("Brightpearl order", str(bp_orders[note])))
    if data.get("reason"):
        facts.append(("Why", str(data["reason"])))
    if data.get("checked_since"):
        facts.append(("Checked back to", str(data["checked_since"])))
    tables = []
    if len(notes) > 1 and orders:
        tables.append(
            Table(
                caption="Shipped in Brightpearl, no shipment in BigCommerce",
                columns=["Goods-out note", "Brightpearl order", "BigCommerce order"],
                rows=[[n, str(bp_orders.get(n, "—")), str(orders.get(n, "—"))] for n in notes],
            )
        )
    return SnapshotView(
        sentence=f"{count(len(notes), 'goods-out note')} shipped in Brightpearl "
        f"{'has' if len(notes) == 1 else 'have'} no shipment in BigCommerce, so the shopper "
        "got no dispatch email and the storefront order does not show it as shipped.",
        facts=facts,
        tables=tables,
    )


@renderer(
    "salesforce_multiple_matches",
    keys=("sobject", "external_id_field", "value", "candidates", "instance_url"),
)
def salesforce_multiple_matches(ticket: Ticket, data: dict) -> SnapshotView | None:
    candidates = data.get("candidates")
    if not isinstance(candidates, list) or not candidates:
        return None
    sobject = str(data.get("sobject") or "record")
    field = str(data.get("external_id_field") or "its external id field")
    value = str(data.get("value") or ticket.source_id)
    base = str(data.get("instance_url") or "").rstrip("/")
    rows = [[str(c), f"{base}/{c}" if base else "—"] for c in candidates]
    return SnapshotView(
        sentence=f"{count(len(candidates), f'Salesforce {sobject}')} hold {value} in {field}, "
        "so Salesforce wrote none of them and the console picked none: keep the right one, "
        "merge or clear the others, then retry.",
        facts=[
            ("Salesforce object", sobject),
            ("External Id field", field),
            ("The value they share", value),
        ],
        tables=[Table(f"The {sobject} records that match", ["Salesforce id", "Open it"], rows)],
    )


@renderer("salesforce_account_unlinked", keys=("order", "account"))
def salesforce_account_unlinked(ticket: Ticket, data: dict) -> SnapshotView | None:
    account = str(data.get("account") or "")
    if not account:
        return None
    order = str(data.get("order") or ticket.source_id)
    return SnapshotView(
        sentence=f"Salesforce order {order} is for Account {account}, which is not a "
        "Brightpearl customer yet: the order waits, and posts once the account is one.",
        facts=[("Salesforce order", order), ("Salesforce Account", account)],
    )

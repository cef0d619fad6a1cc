"""Settling a “several Salesforce records carry one Brightpearl id” ticket: ops choose the right
record, the console empties the Brightpearl id field on the others (they stay in Salesforce, to
be merged or deleted there), and the customer is synced again, now to the one record left.

The console never picks one itself: the choice is a person's, named in the ticket's history
and in the audit trail.
"""

from __future__ import annotations

from brands.audit import audit
from connectors.errors import ConnectorError
from connectors.models import Connection
from connectors.registry import connector_for
from exceptions.models import EventKind, Ticket
from exceptions.services import (
    TicketActionError,
    _event,
    retry_blocker,
    ticket_retry,
)

TYPE_CODE = "salesforce_multiple_matches"


def ticket_salesforce_keep(*, ticket: Ticket, keep_id: str, actor) -> list[str]:
    """Keep `keep_id`, empty the Brightpearl id on the ticket's other candidates, then retry.
    Returns the ids emptied. Raises TicketActionError with what to do instead."""
    if ticket.type.code != TYPE_CODE:
        raise TicketActionError("Only a “several Salesforce records” ticket offers this choice.")
    if not ticket.is_open:
        raise TicketActionError("This ticket is closed: reopen it first if the problem is back.")
    data = ticket.snapshot or {}
    candidates = [str(c) for c in data.get("candidates") or []]
    sobject, field = str(data.get("sobject") or ""), str(data.get("external_id_field") or "")
    if keep_id not in candidates:
        raise TicketActionError("Choose one of the records the ticket lists.")
    if not (sobject and field):
        raise TicketActionError(
            "The ticket does not say which object and field: settle it in Salesforce by hand."
        )
    connection = Connection.objects.filter(brand_id=ticket.brand_id, system="salesforce").first()
    if connection is None:
        raise TicketActionError("The brand has no Salesforce connection any more.")
    others = [c for c in candidates if c != keep_id]
    cleared: list[str] = []
    try:
        with connector_for(connection, priority=True, max_attempts=3, timeout=15) as sf:
            for record_id in others:
                sf.clear_field(sobject, record_id, field)
                cleared.append(record_id)
    except ConnectorError as exc:
        done = f" (emptied on {', '.join(cleared)} already)" if cleared else ""
        raise TicketActionError(f"Salesforce did not take the change{done}: {exc.plain}") from exc
    finally:
        if cleared:
            note = (
                f"Kept {sobject} {keep_id}; emptied {field} on {', '.join(cleared)} so that only "
                "the kept record holds the Brightpearl id."
            )
            _event(ticket, EventKind.COMMENTED, actor=actor, note=note, kept=keep_id)
            audit(
                "salesforce.duplicate_settled",
                brand=ticket.brand_id,
                actor=actor,
                target=ticket,
                summary=note,
                kept=keep_id,
                cleared=cleared,
            )
    if not retry_blocker(ticket):
        ticket_retry(ticket=ticket, actor=actor)
    return cleared

"""Tickets for the exceptions tests, raised the way the flows raise them."""

from __future__ import annotations

import itertools

import pytest

from exceptions.models import Ticket
from exceptions.services import ticket_raise

_records = itertools.count(1000)


def raise_ticket(brand, type_code: str = "rejected_by_target", **extra) -> Ticket:
    """A ticket through the service (never Ticket.objects.create), with sensible defaults."""
    record = str(extra.pop("source_id", next(_records)))
    values = {
        "flow": "order_lifecycle",
        "title": f"Order {record} refused by ometria",
        "source_system": "brightpearl",
        "source_id": record,
        "snapshot": {"sent": {"id": record, "status": "pending"}},
        "error_code": "INVALID",
        "error_message": "The email address is not valid.",
    }
    values.update(extra)
    return ticket_raise(brand=brand, type_code=type_code, **values)


@pytest.fixture
def make_ticket(db):
    return raise_ticket

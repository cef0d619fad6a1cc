"""A ticket's data in words: `snapshot_view(ticket)` for everyone, `snapshot_raw(ticket,
user)` (the stored JSON) for admins only.

base.py holds the registry and the generic rules; values.py, records.py and runs.py hold one
renderer per ticket type, each registered by the type's code. Adding a type: add its
renderer beside its kind, naming the snapshot keys it shows.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from brands.models import is_brand_admin
from exceptions.services import snapshot_clean
from exceptions.snapshots import (  # noqa: F401 - they register
    catalogue,
    records,
    runs,
    salesforce,
    values,
)
from exceptions.snapshots.base import RENDERERS, SnapshotView, Table, render

if TYPE_CHECKING:
    from exceptions.models import Ticket

__all__ = ["RENDERERS", "SnapshotView", "Table", "snapshot_raw", "snapshot_view"]


def snapshot_view(ticket: Ticket) -> SnapshotView:
    """What the ticket page shows of the ticket's data, never JSON."""
    data = ticket.snapshot
    if not isinstance(data, dict):
        data = {"data": data} if data not in (None, "") else {}
    # Cleaned again: a ticket raised before a key was known to be secret keeps it hidden.
    return render(ticket, snapshot_clean(data))


def raw_visible(user, ticket: Ticket) -> bool:
    """The raw data is for the people who fix the console, not the brand's teams: agency
    staff and the brand's admins."""
    return bool(getattr(user, "is_staff", False)) or is_brand_admin(user, ticket.brand)


def snapshot_raw(ticket: Ticket, user) -> str:
    """The stored data as indented JSON, for an admin's "Details"; empty for anyone else."""
    if not ticket.snapshot or not raw_visible(user, ticket):
        return ""
    return json.dumps(
        snapshot_clean(ticket.snapshot), indent=2, ensure_ascii=False, sort_keys=True, default=str
    )

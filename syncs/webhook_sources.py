"""What a webhook source's ids cost: only ids the vendor has are read, and a source that keeps
naming ids the vendor does not have is refused for a while.

A webhook names records by id and the console reads them from the vendor afterwards, at the
brand's expense: Brightpearl allows 200 requests a minute for everything the brand does.
Ids that do not exist used to cost a GET per 200 of them and a "record missing" ticket each,
so anyone holding a webhook address could spend a brand's allowance and bury its inbox.
Now the drain asks the vendor which ids exist (VendorWebhooks.known: at most one lookup per
id set of unknown ids) and reads only those; the unknown are counted per source (the
connection whose address received them).

A source whose events name WEBHOOK_UNKNOWN_LIMIT or more unknown ids within
WEBHOOK_UNKNOWN_WINDOW_MINUTES, more unknown than known, is throttled: its deliveries are
refused (429) for WEBHOOK_THROTTLE_MINUTES, and operations get one ticket ("Webhook source
sending ids that do not exist"). Nothing is lost by refusing: every flow that takes webhooks
also reads every change on its schedule. The ticket resolves itself once a whole window has
passed since the throttle ended without a new one (the source stopped).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from connectors.errors import ConnectorError
from connectors.models import Connection
from connectors.registry import connector_for, webhooks_for
from connectors.webhooks import VendorWebhooks, ids_count
from exceptions.services import ticket_raise, tickets_autoresolve
from syncs.models import Checkpoint, WebhookEvent

logger = logging.getLogger("syncs")

TICKET_TYPE = "webhook_unknown_ids"
_PREFIX = "webhook-source:"


def _name(connection_id: int) -> str:
    return f"{_PREFIX}{connection_id}"


def _ticket_key(connection_id: int) -> str:
    return f"webhooks:{connection_id}"


def _window() -> timedelta:
    return timedelta(minutes=settings.WEBHOOK_UNKNOWN_WINDOW_MINUTES)


def _when(value: object) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) and value else None


# --- receiving ----------------------------------------------------------------------------
def webhook_source_throttled(*, connection: Connection) -> datetime | None:
    """Until when this source's deliveries are refused, or None."""
    value = (
        Checkpoint.objects.filter(brand_id=connection.brand_id, name=_name(connection.pk))
        .values_list("value", flat=True)
        .first()
    ) or {}
    until = _when(value.get("until"))
    return until if until and until > timezone.now() else None


# --- draining -----------------------------------------------------------------------------
def webhook_ids_known(
    *, connection: Connection, hooks: VendorWebhooks, events: Sequence[WebhookEvent]
) -> list[list[str] | None]:
    """For each event, the ids of it that the vendor has (None: not checked, read them all),
    and the unknown ones counted against the source. If the vendor cannot be asked (down,
    refusing), nothing is dropped: the runs read every id, as they did before the check."""
    if not hooks.checks_ids:
        return [None] * len(events)
    asked = [(e.event, list(e.resource_ids)) for e in events]
    try:
        # Two tries, not six: if the vendor is down, the runs read every id instead.
        with connector_for(connection, priority=True, max_attempts=2) as api:
            found = hooks.known(api, asked)
    except ConnectorError as exc:
        logger.warning("could not check the ids of %s's webhooks: %s", connection, exc)
        return [None] * len(events)
    unknown = known = 0
    for (_, ids), hits in zip(asked, found, strict=True):
        if hits is not None:
            unknown += ids_count(ids) - len(hits)
            known += len(hits)
    if unknown or known:
        webhook_source_tally(connection=connection, unknown=unknown, known=known)
    return [sorted(hits) if hits is not None else None for hits in found]


def webhook_source_tally(*, connection: Connection, unknown: int, known: int) -> bool:
    """Count a drain's unknown and known ids against the source; throttle it (one ticket)
    when the window's unknown ids reach the limit and outnumber the known. True if throttled
    now."""
    now = timezone.now()
    throttled: dict | None = None
    with transaction.atomic():
        point, _ = Checkpoint.objects.select_for_update().get_or_create(
            brand_id=connection.brand_id, name=_name(connection.pk)
        )
        state = dict(point.value or {})
        start = _when(state.get("start"))
        if start is None or now - start > _window():
            state.update(start=now.isoformat(), unknown=0, known=0)
        state["unknown"] += unknown
        state["known"] += known
        if state["unknown"] >= settings.WEBHOOK_UNKNOWN_LIMIT and state["unknown"] > state["known"]:
            throttled = dict(state)
            until = now + timedelta(minutes=settings.WEBHOOK_THROTTLE_MINUTES)
            # A fresh window once the deliveries come back.
            state.update(until=until.isoformat(), start=now.isoformat(), unknown=0, known=0)
        point.value = state
        point.save(update_fields=["value", "updated"])
    if throttled is None:
        _stopped(connection.brand_id, connection.pk, point, now)
        return False
    _raise(connection, throttled, now)
    return True


def _raise(connection: Connection, counts: dict, now: datetime) -> None:
    hooks = webhooks_for(connection.system)
    label = hooks.label if hooks else connection.system.title()
    unknown, known = counts["unknown"], counts["known"]
    minutes = settings.WEBHOOK_THROTTLE_MINUTES
    ticket_raise(
        brand=connection.brand_id,
        type_code=TICKET_TYPE,
        title=f"{label} webhook source sending ids that do not exist",
        source_system=connection.system,
        source_id=_ticket_key(connection.pk),
        snapshot={"unknown_ids": unknown, "known_ids": known, "connection": connection.pk},
        error_message=(
            f"Since {timezone.localtime(_when(counts['start']) or now):%H:%M}, webhooks sent to "
            f"this brand's {label} address named {unknown:,} id{pluralize(unknown)} that "
            f"{label} does not have (and {known:,} that it has). Its webhooks are refused "
            f"for {minutes} minutes, until "
            f"{timezone.localtime(now + timedelta(minutes=minutes)):%H:%M}; the flows' "
            "scheduled runs still pick up every real change."
        ),
    )


def _stopped(brand_id: int, connection_id: int, point: Checkpoint, now: datetime) -> bool:
    """Resolve the source's ticket once a whole window has passed since its throttle ended
    without a new one."""
    until = _when((point.value or {}).get("until"))
    if until is None or now < until + _window():
        return False
    Checkpoint.objects.filter(pk=point.pk).update(
        value={k: v for k, v in point.value.items() if k != "until"}
    )
    tickets_autoresolve(
        brand=brand_id,
        source_system=Connection.objects.filter(pk=connection_id)
        .values_list("system", flat=True)
        .first()
        or "",
        source_ids=[_ticket_key(connection_id)],
        type_codes=[TICKET_TYPE],
        note=(
            "Since its webhooks were let in again, the source has not sent ids that do not "
            "exist in any number: it stopped."
        ),
    )
    return True


def webhook_sources_review() -> int:
    """Every few minutes (the sweep): resolve the tickets of sources that stopped, also
    those that sent nothing since. Returns how many."""
    now = timezone.now()
    resolved = 0
    for point in Checkpoint.objects.filter(name__startswith=_PREFIX, value__has_key="until"):
        connection_id = int(point.name.removeprefix(_PREFIX))
        resolved += _stopped(point.brand_id, connection_id, point, now)
    return resolved

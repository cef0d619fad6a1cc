"""The webhook inbox: every vendor's events come in at /hooks/<vendor>/<secret>/, are stored
first, and are turned into scoped runs of the flows that read from that vendor.

The rules hold for every vendor:
- an event is stored before anything else and answered at once: nothing in the request
  calls a vendor (the records are read by the run, later, on the task queue);
- the vendor delivers at least once: a redelivery is stored and processed once;
- a wrong address, an unproven sender or a body that is not the vendor's is refused with
  a reason, and nothing is stored or queued.

Each vendor's contract (what proves a delivery, how it is read, how hooks are registered)
lives in its own package, connectors/<vendor>/webhooks.py.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from brands.audit import audit
from brands.models import Brand
from connectors.errors import ConnectorError
from connectors.models import Connection
from connectors.registry import connector_for, webhooks_for
from connectors.webhooks import Inbound, InboundEvent, WebhookRefused, ids_count, ids_expand
from syncs import services
from syncs.flows import REGISTRY
from syncs.flows.reading import id_order
from syncs.models import FlowConfig, InboxState, SyncRun, Trigger, WebhookEvent
from syncs.webhook_sources import webhook_ids_known, webhook_source_throttled

logger = logging.getLogger("syncs")
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")


# --- receiving ----------------------------------------------------------------------------
def webhook_inbound(*, vendor: str, secret: str, inbound: Inbound) -> dict[str, Any]:
    """One delivery to /hooks/<vendor>/<secret>/: find the connection, let the vendor's
    package prove and read it, store its events. Returns the answer's JSON; raises
    WebhookRefused (with the status and reason to answer) for anything it will not store."""
    hooks = webhooks_for(vendor)
    if hooks is None:
        raise WebhookRefused(f"This console takes no webhooks from “{vendor}”.", status=404)
    if hooks.closed:
        raise WebhookRefused(hooks.closed, status=404)
    # Secrets are token_urlsafe: anything else (a NUL, which PostgreSQL cannot even compare)
    # is no connection's, and is not looked up.
    connection = (
        Connection.objects.filter(system=vendor, webhook_secret=secret).first()
        if _SECRET_SHAPE.fullmatch(secret)
        else None
    )
    if connection is None:
        raise WebhookRefused("No connection has this webhook address.", status=404)
    if inbound.method in ("GET", "HEAD") and hooks.handshake(connection, inbound):
        # The vendor checking that the address answers: nothing to store.
        return {"status": "ok"}
    if inbound.method != "POST":
        raise WebhookRefused(f"This address takes {hooks.label}'s POSTs only.", status=405)
    until = webhook_source_throttled(connection=connection)
    if until is not None:
        wait = max(1, int((until - timezone.now()).total_seconds()))
        raise WebhookRefused(
            f"This address is refusing webhooks until {timezone.localtime(until):%H:%M} "
            f"because its events kept naming {hooks.label} records that do not exist. "
            "Changes made meanwhile are picked up by the scheduled sync.",
            status=429,
            retry_after=wait,
        )
    events = hooks.parse(connection, inbound)
    for event in events:
        # Counted, not expanded: "1-10000" is ten thousand ids and seven characters.
        if event.size > settings.WEBHOOK_MAX_IDS:
            raise WebhookRefused(
                f"The event names {event.size:,} ids; this console takes at most "
                f"{settings.WEBHOOK_MAX_IDS:,} in one event (a range counts every id in it). "
                "Nothing was stored."
            )
    with transaction.atomic():
        stored = [webhook_receive(connection=connection, event=event) for event in events]
    return {
        "status": "accepted" if any(created for _, created in stored) else "duplicate",
        "event": stored[0][0].pk if stored else None,
        "events": [row.pk for row, _ in stored],
    }


def webhook_receive(*, connection: Connection, event: InboundEvent) -> tuple[WebhookEvent, bool]:
    """Store an inbound event first (so none is lost), then queue its processing.

    The vendor delivers at least once: the same event twice (by its dedupe key) is stored
    and processed once.
    """
    key = hashlib.sha256(f"{connection.pk}:{event.dedupe_key}".encode()).hexdigest()
    with transaction.atomic():
        stored, created = WebhookEvent.objects.get_or_create(
            dedupe_key=key,
            defaults={
                "connection": connection,
                "brand_id": connection.brand_id,
                "event": event.event[:120],
                # Compact: ids and [first, last] ranges (connectors.webhooks.IdItem).
                "resource_ids": event.resource_ids,
                "body": event.body,
            },
        )
        if created:
            transaction.on_commit(
                lambda: async_task(
                    "syncs.tasks.drain_webhooks",
                    connection.pk,
                    task_name=f"webhook-{stored.pk}",
                    group="webhooks",
                )
            )
    return stored, created


# --- processing ---------------------------------------------------------------------------
def webhooks_drain(*, connection_id: int) -> list[SyncRun]:
    """Turn stored, unprocessed events of a connection into one scoped run per flow: the
    enabled flows that read from the connection's system and declare the event.

    One drain takes events up to WEBHOOK_MAX_IDS ids between them (at least one event), so a
    run's scope stays bounded however many arrived; what it leaves is drained next. Only the
    ids the vendor has are read (syncs/webhook_sources.py)."""
    with transaction.atomic():
        pending = _take(
            WebhookEvent.objects.select_for_update()
            .filter(connection_id=connection_id, state=InboxState.RECEIVED)
            .order_by("pk")[:2000]
        )
        WebhookEvent.objects.filter(pk__in=[e.pk for e in pending]).update(
            state=InboxState.PROCESSING
        )
        if (
            pending
            and WebhookEvent.objects.filter(
                connection_id=connection_id, state=InboxState.RECEIVED
            ).exists()
        ):
            transaction.on_commit(
                lambda: async_task("syncs.tasks.drain_webhooks", connection_id, group="webhooks")
            )
    if not pending:
        return []
    brand_id = pending[0].brand_id
    connection = Connection.objects.get(pk=connection_id)
    hooks = webhooks_for(connection.system)
    active = Brand.objects.filter(pk=brand_id, active=True).exists()
    enabled = (
        set(
            FlowConfig.objects.filter(brand_id=brand_id, enabled=True).values_list(
                "flow", flat=True
            )
        )
        if active and hooks is not None
        else set()
    )
    readers = {
        code: cls
        for code, cls in REGISTRY.items()
        if code in enabled and cls.source == connection.system
    }
    used: dict[int, list[str]] = {}
    for event in pending:
        for code, cls in readers.items():
            if hooks.matches(event.event, cls.webhook_events):
                used.setdefault(event.pk, []).append(code)
    # Only events some flow reads are checked: an ignored event costs no lookup.
    wanted = [e for e in pending if e.pk in used]
    kept = webhook_ids_known(connection=connection, hooks=hooks, events=wanted) if wanted else []
    scopes: dict[str, list[str]] = {}
    for event, ids in zip(wanted, kept, strict=True):
        if ids is None:
            ids = [str(i) for i in ids_expand(event.resource_ids)]
        if not ids:
            used.pop(event.pk)  # none of its ids exist: nothing to read
            continue
        for code in used[event.pk]:
            scopes.setdefault(code, []).extend(ids)
    runs: list[SyncRun] = []
    for code, ids in scopes.items():
        run = SyncRun.objects.create(
            brand_id=brand_id,
            flow=code,
            trigger=Trigger.WEBHOOK,
            scope=sorted(set(ids), key=id_order),
        )
        runs.append(services.flow_run(run_id=run.pk) or run)
    now = timezone.now()
    for event in pending:
        codes = used.get(event.pk, [])
        event.state = InboxState.PROCESSED if codes else InboxState.IGNORED
        event.processed_at = now
        event.runs = [r.pk for r in runs if r.flow in codes]
        event.save(update_fields=["state", "processed_at", "runs"])
    return runs


def _take(events) -> list[WebhookEvent]:
    """The events, in order, while their ids add up to WEBHOOK_MAX_IDS (always the first)."""
    taken: list[WebhookEvent] = []
    total = 0
    for event in events:
        size = ids_count(event.resource_ids)
        if taken and total + size > settings.WEBHOOK_MAX_IDS:
            break
        taken.append(event)
        total += size
    return taken


# --- registering --------------------------------------------------------------------------
def webhook_base(system: str) -> str:
    """Where this console receives a system's webhooks; each connection adds its secret."""
    return f"{settings.CONSOLE_PUBLIC_URL.rstrip('/')}/hooks/{system}/"


def webhook_url(connection: Connection) -> str:
    return f"{webhook_base(connection.system)}{connection.webhook_secret}/"


def webhooks_register(*, brand: Brand, actor=None) -> list[str]:
    """Register, through each vendor's API, the events the brand's enabled flows need from it,
    and remove this console's hooks that are no longer wanted. Returns the events subscribed.

    A vendor is called only if some flow can read from it by webhook, so a brand whose flows
    need nothing from Mailchimp costs Mailchimp no call. One vendor's refusal does not stop
    the others; the first refusal is raised at the end.
    """
    enabled = set(
        FlowConfig.objects.filter(brand=brand, enabled=True).values_list("flow", flat=True)
    )
    connections = sorted(
        Connection.objects.filter(brand=brand),
        # Brightpearl first: it is what every brand's flows read.
        key=lambda c: (c.system != "brightpearl", c.system),
    )
    subscribed: list[str] = []
    refused: ConnectorError | None = None
    for connection in connections:
        hooks = webhooks_for(connection.system)
        readers = [
            cls
            for cls in REGISTRY.values()
            if cls.source == connection.system and cls.webhook_events
        ]
        if hooks is None or not hooks.registers or not readers:
            continue
        events = sorted({e for cls in readers if cls.code in enabled for e in cls.webhook_events})
        live = {
            webhook_url(c)
            for c in Connection.objects.filter(system=connection.system).only(
                "system", "webhook_secret"
            )
        }
        try:
            with connector_for(connection, priority=True) as api:
                done = hooks.register(
                    api,
                    url=webhook_url(connection),
                    events=events,
                    ours=webhook_base(connection.system),
                    live=live,
                )
        except ConnectorError as exc:
            logger.warning("registering %s webhooks for %s failed: %s", hooks.label, brand, exc)
            refused = refused or exc
            continue
        subscribed += done.events
        audit(
            "webhooks.registered",
            brand=brand,
            actor=actor,
            target=connection,
            summary=f"{hooks.label}: {', '.join(done.events) or 'none'}"
            + (
                f" (removed {len(done.removed)} out of date: {', '.join(done.removed)})"
                if done.removed
                else ""
            ),
        )
    if refused is not None:
        raise refused
    return subscribed

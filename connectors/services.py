"""Services for connections: the only code that changes a connection's health."""

from __future__ import annotations

from datetime import timedelta

import httpx
from django.utils import timezone

from brands.audit import audit
from connectors.errors import ConnectorError
from connectors.models import Connection, Health
from connectors.registry import connector_for


def connection_test(*, connection: Connection, actor=None, transport=None) -> tuple[bool, str]:
    """Make one cheap call with the saved credentials and record the result as health."""
    try:
        with connector_for(connection, transport=transport, max_attempts=2, max_backoff=1.0) as c:
            message = c.check()
        ok = True
    except ConnectorError as exc:
        ok, message = False, exc.plain
    except httpx.InvalidURL:
        ok, message = False, f"The base URL “{connection.base_url}” is not a usable address."
    connection.status = Health.OK if ok else Health.FAILING
    connection.last_checked = timezone.now()
    connection.last_error = "" if ok else message
    fields = ["status", "last_checked", "last_error", "updated"]
    if ok:
        connection.last_ok = connection.last_checked
        fields.append("last_ok")
    else:
        connection.last_failure, connection.last_failure_at = message, connection.last_checked
        fields += ["last_failure", "last_failure_at"]
    connection.save(update_fields=fields)
    audit(
        "connection.tested",
        brand=connection.brand_id,
        actor=actor,
        target=connection,
        summary=("Working: " if ok else "Failing: ") + message,
    )
    return ok, message


# A connection seen working is noted at most this often: a run ends every few seconds at a
# busy brand, and the overview's "last worked" needs no finer grain.
LAST_OK_GRAIN = timedelta(minutes=1)


def connection_seen(*, connection: Connection, ok: bool, message: str = "") -> None:
    """What a run learned about a connection: its credentials or settings were refused, or
    it works (again). Recorded as health, like a test, so the admin's list shows it."""
    now = timezone.now()
    if ok and _last_ok_stale(connection, now):
        # An UPDATE, not save(): "last worked" is no change of health, and must not set off
        # what a saved connection does (blocked runs going again).
        Connection.objects.filter(pk=connection.pk).update(last_ok=now)
        connection.last_ok = now
    if not ok:
        connection_trouble(connection=connection, message=message, at=now)
    status = Health.OK if ok else Health.FAILING
    error = "" if ok else message
    if connection.status == status and connection.last_error == error:
        return
    connection.status, connection.last_error = status, error
    connection.last_checked = now
    connection.save(update_fields=["status", "last_checked", "last_error", "updated"])
    audit(
        "connection.health",
        brand=connection.brand_id,
        target=connection,
        summary=("Working: a run reached it." if ok else f"Failing in a run: {message}"),
    )


def _last_ok_stale(connection: Connection, now) -> bool:
    """Whether "last worked" needs writing: never noted, older than the grain, or older than
    the last failure (a recovery shows at once)."""
    last_ok, failed = connection.last_ok, connection.last_failure_at
    if last_ok is None or now - last_ok >= LAST_OK_GRAIN:
        return True
    return failed is not None and failed >= last_ok


def connection_trouble(*, connection: Connection, message: str, at=None) -> None:
    """Note a failure that does not change the connection's health (the vendor did not
    answer, or answered 500, and the run will try again): the overview's "last error"."""
    at = at or timezone.now()
    Connection.objects.filter(pk=connection.pk).update(last_failure=message, last_failure_at=at)
    connection.last_failure, connection.last_failure_at = message, at

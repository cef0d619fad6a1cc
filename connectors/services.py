"""Services for connections: the only code that changes a connection's health."""

from __future__ import annotations

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
    connection.save(update_fields=["status", "last_checked", "last_error", "updated"])
    audit(
        "connection.tested",
        brand=connection.brand_id,
        actor=actor,
        target=connection,
        summary=("Working: " if ok else "Failing: ") + message,
    )
    return ok, message


def connection_seen(*, connection: Connection, ok: bool, message: str = "") -> None:
    """What a run learned about a connection: its credentials or settings were refused, or
    it works (again). Recorded as health, like a test, so the admin's list shows it."""
    status = Health.OK if ok else Health.FAILING
    error = "" if ok else message
    if connection.status == status and connection.last_error == error:
        return
    connection.status, connection.last_error = status, error
    connection.last_checked = timezone.now()
    connection.save(update_fields=["status", "last_checked", "last_error", "updated"])
    audit(
        "connection.health",
        brand=connection.brand_id,
        target=connection,
        summary=("Working: a run reached it." if ok else f"Failing in a run: {message}"),
    )

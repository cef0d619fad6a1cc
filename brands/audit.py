"""One call to leave a trace: `audit("connection.tested", brand=..., actor=..., ...)`."""

from __future__ import annotations

from typing import Any

from brands.models import AuditEvent, Brand


def audit(
    action: str,
    *,
    brand: Brand | int | None = None,
    actor=None,
    target: object = "",
    summary: str = "",
    **detail: Any,
) -> AuditEvent:
    brand_id = brand.pk if isinstance(brand, Brand) else brand
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        brand_id=brand_id,
        actor=user,
        action=action,
        target=str(target)[:200],
        summary=summary[:500],
        detail=detail,
    )

"""Inbound webhooks. Authenticated by the secret in the URL (Brightpearl signs nothing)."""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from connectors.models import Connection
from syncs.services import webhook_receive


def _refuse(status: int, reason: str) -> JsonResponse:
    return JsonResponse({"status": "refused", "reason": reason}, status=status)


def parse_idset(value: str) -> list[int]:
    """'1-3,7' → [1, 2, 3, 7]. Raises ValueError with the reason."""
    ids: list[int] = []
    for part in str(value).split(","):
        part = part.strip()
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        if not lo.isdigit() or (sep and not hi.isdigit()):
            raise ValueError(f"“{part}” is not an id or a range of ids.")
        start, end = int(lo), int(hi) if sep else int(lo)
        if end < start or end - start >= 10_000:
            raise ValueError(f"“{part}” is not a sensible range of ids.")
        ids.extend(range(start, end + 1))
    if not ids:
        raise ValueError("The id set is empty.")
    return ids


@csrf_exempt
@require_POST
def brightpearl_webhook(request: HttpRequest, secret: str) -> JsonResponse:
    connection = (
        Connection.objects.filter(system="brightpearl", webhook_secret=secret)
        .only("pk", "brand_id", "settings")
        .first()
    )
    if connection is None:
        return _refuse(404, "No connection has this webhook address.")
    try:
        body = json.loads(request.body or b"")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _refuse(400, "The body is not JSON.")
    if not isinstance(body, dict):
        return _refuse(400, "The body must be a JSON object.")
    event = body.get("fullEvent") or ".".join(
        str(body[k]) for k in ("resourceType", "lifecycleEvent") if body.get(k)
    )
    if not event or "id" not in body:
        return _refuse(
            400, "The body needs “id” and “fullEvent” (or “resourceType” and “lifecycleEvent”)."
        )
    account = str((connection.settings or {}).get("account", ""))
    if body.get("accountCode") and account and str(body["accountCode"]) != account:
        # Another account's event: its ids would be read from this brand's account.
        return _refuse(
            400,
            f"This address takes the events of Brightpearl account {account}, "
            f"not of “{body['accountCode']}”.",
        )
    try:
        ids = parse_idset(body["id"])
    except ValueError as exc:
        return _refuse(400, f"“id” is not a Brightpearl id set: {exc}")
    stored, created = webhook_receive(connection=connection, event=str(event), ids=ids, body=body)
    return JsonResponse({"status": "accepted" if created else "duplicate", "event": stored.pk})

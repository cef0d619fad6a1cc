"""Inbound webhooks: one address per vendor and connection, /hooks/<vendor>/<secret>/.

The view only turns the request into plain data and the service's answer into JSON; what
proves and reads a delivery is the vendor's package (connectors/<vendor>/webhooks.py).
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from connectors.webhooks import Inbound, WebhookRefused
from syncs.webhooks import webhook_inbound


@csrf_exempt
def vendor_webhook(request: HttpRequest, vendor: str, secret: str) -> JsonResponse:
    inbound = Inbound(
        method=request.method or "",
        body=request.body,
        content_type=request.content_type or "",
        headers={name.lower(): value for name, value in request.headers.items()},
    )
    try:
        answer = webhook_inbound(vendor=vendor, secret=secret, inbound=inbound)
    except WebhookRefused as refused:
        return JsonResponse({"status": "refused", "reason": refused.reason}, status=refused.status)
    return JsonResponse(answer)

"""Inbound webhooks: one address per vendor and connection, /hooks/<vendor>/<secret>/.

The view only turns the request into plain data and the service's answer into JSON; what
proves and reads a delivery is the vendor's package (connectors/<vendor>/webhooks.py).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from connectors.webhooks import Inbound, WebhookRefused
from syncs.webhooks import webhook_inbound


@csrf_exempt
def vendor_webhook(request: HttpRequest, vendor: str, secret: str) -> JsonResponse:
    try:
        body = _body(request)
        inbound = Inbound(
            method=request.method or "",
            body=body,
            content_type=request.content_type or "",
            headers={name.lower(): value for name, value in request.headers.items()},
        )
        answer = webhook_inbound(vendor=vendor, secret=secret, inbound=inbound)
    except WebhookRefused as refused:
        response = JsonResponse(
            {"status": "refused", "reason": refused.reason}, status=refused.status
        )
        if refused.retry_after is not None:
            response["Retry-After"] = str(refused.retry_after)
        return response
    return JsonResponse(answer)


def _body(request: HttpRequest) -> bytes:
    """The body, read no further than WEBHOOK_MAX_BODY_BYTES: a larger one is refused (413)
    before any of it is parsed. No vendor's webhook comes near the limit (Brightpearl's and
    BigCommerce's name ids only; Mailchimp's is one member's form)."""
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    too_big = WebhookRefused(
        f"The body is larger than {limit:,} bytes, more than any webhook this console takes.",
        status=413,
    )
    if declared > limit:
        raise too_big
    # A body sent without a length (chunked) is read up to one byte past the limit.
    body = request.read(limit + 1)
    if len(body) > limit:
        raise too_big
    return body

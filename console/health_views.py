"""/healthz, /readyz and /metrics: for load balancers and monitoring, not for people."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from syncs.health import metrics_text, readiness


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is up and answers (nothing else is checked: a load balancer's probe)."""
    return HttpResponse("ok\n", content_type="text/plain")


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to work: the database, the broker, and each cluster's heartbeat. 503 if not."""
    report = readiness()
    return JsonResponse(report, status=200 if report["ready"] else 503)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format, for a bearer token (METRICS_TOKEN); off when none is set."""
    token = settings.METRICS_TOKEN
    if not token:
        return HttpResponse(
            "Metrics are off: set METRICS_TOKEN to turn them on.\n",
            status=404,
            content_type="text/plain",
        )
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        return HttpResponse(
            "A bearer token is needed (Authorization: Bearer <METRICS_TOKEN>).\n",
            status=401,
            content_type="text/plain",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return HttpResponse(metrics_text(), content_type="text/plain; version=0.0.4; charset=utf-8")

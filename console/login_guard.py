"""Signing in: throttled by django-axes, explained in plain words, and audited.

After `LOGIN_FAILURE_LIMIT` wrong passwords for one username (from anywhere) or from one
address (for any username), signing in is refused for `LOGIN_LOCKOUT_MINUTES`. Axes counts
and refuses; this module decides which address a request comes from, what the person sees
when refused, and leaves a line in the audit trail when a lockout begins or is lifted.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db.models import QuerySet
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from brands.audit import audit

logger = logging.getLogger(__name__)


class LoginThrottleBackend(AxesStandaloneBackend):
    """Axes' lockout check, first in AUTHENTICATION_BACKENDS.

    Every sign-in that arrives over the network (the login page, the admin's login) passes
    its request, and is checked. A call without one can only come from code already running
    in the console (the test client's `login()`, a shell): there is no address to count, and
    nothing to throttle, so it is passed on to the next backend instead of failing.
    """

    def authenticate(self, request: HttpRequest | None, *args, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)


def client_ip(request: HttpRequest) -> str:
    """The address a sign-in came from.

    Behind the TLS proxy (`BEHIND_TLS_PROXY`) every request's REMOTE_ADDR is the proxy's, so
    counting it would lock everyone out at once. There the right-most X-Forwarded-For entry
    is used: the one our proxy appended. Entries to its left are whatever the client sent,
    and trusting them would let an attacker pick a fresh address for every guess.
    """
    if settings.BEHIND_TLS_PROXY:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if forwarded:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR", "")


def _minutes(delta: timedelta | None) -> int:
    return max(1, round(delta.total_seconds() / 60)) if delta else 0


def lockout_response(
    request: HttpRequest, original_response=None, credentials: dict | None = None
) -> HttpResponse:
    """The page a refused sign-in gets (axes' AXES_LOCKOUT_CALLABLE), with status 429."""
    cool_off = get_cool_off(request)
    minutes = _minutes(cool_off)
    until = timezone.localtime(timezone.now() + cool_off) if cool_off else None
    return render(
        request,
        "registration/locked_out.html",
        {
            "failure_limit": get_failure_limit(request, credentials),
            "minutes": minutes,
            "until": until,
        },
        status=429,
    )


@receiver(user_locked_out, dispatch_uid="console.login_guard.audit_lockout")
def audit_lockout(sender, request: HttpRequest, username: str | None, ip_address: str, **kw):
    """One audit line when a lockout begins.

    Axes signals again on every attempt made while locked out (each one extends the lockout);
    those are counted on the access attempt, visible in the admin, and not audited one by
    one, or a scripted attack would bury the trail under its own lines.
    """
    failures = getattr(request, "axes_failures_since_start", None)
    limit = get_failure_limit(request, getattr(request, "axes_credentials", None))
    if failures is not None and failures > limit:
        return
    minutes = _minutes(get_cool_off(request))
    audit(
        "login.locked_out",
        target=username or ip_address,
        summary=f"Signing in as “{username or '(no username)'}” from {ip_address} is paused "
        f"for {minutes} minutes after {limit} wrong passwords in a row.",
        username=username or "",
        ip_address=ip_address,
        failures=failures,
        minutes=minutes,
    )
    logger.warning(
        "sign-in locked out: username=%s ip=%s after %s failures", username, ip_address, failures
    )


def attempts_unlock(*, attempts: QuerySet[AccessAttempt], actor) -> int:
    """Forget these failed sign-ins, lifting the lockout they hold; one audit line per
    username and address. Returns how many were forgotten.

    A lockout by username counts that username's failures from every address, and one by
    address counts every username's failures from it: to lift one, select all its rows (the
    admin's search by username or address finds them)."""
    rows = list(attempts.values_list("pk", "username", "ip_address", "failures_since_start"))
    for pk, username, ip_address, failures in rows:
        AccessAttempt.objects.filter(pk=pk).delete()
        audit(
            "login.unlocked",
            actor=actor,
            target=username or ip_address,
            summary=f"Failed sign-ins as “{username or '(no username)'}” from {ip_address} "
            f"forgotten ({failures} in all): signing in is open again.",
            username=username or "",
            ip_address=ip_address or "",
            failures=failures,
        )
    return len(rows)

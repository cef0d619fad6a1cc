"""The console's own "Not found" page under DEBUG too, instead of Django's technical 404.

`make demo` runs with DEBUG=1: its conveniences (keys made on first run, no HTTPS, e-mail to
the terminal, runserver serving the static files, the traceback page on a 500) are worth
keeping, but the technical 404 lists every URL pattern of the console to whoever mistypes an
address, and shows people a page that is not the console's. So under DEBUG this middleware
answers a missing page the way production does: with templates/404.html, through the same
handler (Django's get_exception_response, which honours a handler404). With DEBUG off it
does nothing: Django already answers so.

Two ways a page is missing, caught in two places:
- no URL pattern matches: Django resolves after the middleware runs and turns Resolver404
  into the technical page before any middleware sees the exception, so the address is
  resolved here first (cheap: the resolver is cached);
- a view raises Http404 (another brand's ticket, an unknown record): process_exception.

django-csp leaves every 404 under DEBUG without its policy (so that Django's technical page,
with its inline styles, works); this page is the console's own, so it carries the policy.
"""

from __future__ import annotations

from collections.abc import Callable

from csp.constants import HEADER
from csp.utils import build_policy
from django.conf import settings
from django.core.handlers.exception import get_exception_response
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, get_resolver, get_urlconf, resolve


class FriendlyNotFoundMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.DEBUG:
            try:
                resolve(request.path_info, getattr(request, "urlconf", None))
            except Resolver404 as exc:
                return self._not_found(request, exc)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if settings.DEBUG and isinstance(exception, Http404):
            return self._not_found(request, exception)
        return None

    @staticmethod
    def _not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
        urlconf = getattr(request, "urlconf", None) or get_urlconf()
        response = get_exception_response(request, get_resolver(urlconf), 404, exception)
        response[HEADER] = build_policy()
        return response

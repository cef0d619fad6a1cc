"""Secrets in URLs never reach a log line.

A webhook's address carries its connection's secret (/hooks/<vendor>/<secret>/), and every
server that sees the request logs its path: runserver's access lines (`django.server`),
Django's "Not Found: /hooks/…" warnings (`django.request`), gunicorn's access log, tracebacks
that quote a URL. `RedactSecretsFilter` sits on every handler in settings.LOGGING (and on
gunicorn's loggers, console/gunicorn_logging.py), so whichever logger a line comes from, the
secret is replaced before the line is written.

A handler's filter, not a logger's: a logger's filter sees only the lines logged on that
logger itself, never the ones its children pass up to the root's handler.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"

# /hooks/<vendor>/<secret>: the vendor stays (it says which webhook it was), the secret goes.
_HOOK_SECRET = re.compile(r"(/hooks/[^/\s?#\"']+/)[^/\s?#\"']+")
# A query parameter whose name says it holds a secret (or an address): ?api_key=…, &token=…
# The same words the connectors' own log line hides (connectors/http.py).
_SECRET_PARAM = re.compile(
    r"([?&;][^=&\s\"'#]*(?:token|key|secret|password|passwd|auth|signature|sig|code|email)"
    r"[^=&\s\"'#]*=)[^&\s\"'#]+",
    re.IGNORECASE,
)
# user:password@ in a URL (a database or broker URL quoted in an error).
_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/\s@:\"']+:[^/\s@\"']+@", re.IGNORECASE)

# Formats a traceback the way logging.Formatter does by default, so it can be redacted before
# any handler's formatter sees it (a formatter uses `exc_text` when it is already set).
_TRACEBACKS = logging.Formatter()


def redact(text: str) -> str:
    """The text with every secret in a URL replaced by [redacted]."""
    if "/" not in text and "=" not in text:
        return text  # nothing URL-like: most lines, and the cheapest check
    text = _HOOK_SECRET.sub(rf"\1{REDACTED}", text)
    text = _SECRET_PARAM.sub(rf"\1{REDACTED}", text)
    return _USERINFO.sub(rf"\1{REDACTED}@", text)


class RedactSecretsFilter(logging.Filter):
    """Rewrites a record's message, traceback and stack with their secrets redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the handler's to report, as usual
            return True
        redacted = redact(message)
        if redacted != message:
            # The message is final now: later formatting must not apply the arguments again.
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True

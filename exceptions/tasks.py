"""django-q2 tasks: thin, they call a service."""

from __future__ import annotations

from exceptions.digest import digest_send


def send_digest() -> str:
    """Hourly: the digests of the brands for which it is now 07:00."""
    return f"{digest_send(due_only=True)} digest e-mail(s) sent"

"""django-q2 tasks: thin, they call a service."""

from __future__ import annotations

from exceptions.digest import digest_send


def send_digest() -> str:
    return f"{digest_send()} digest e-mail(s) sent"

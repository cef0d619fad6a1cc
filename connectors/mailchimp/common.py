"""What the Mailchimp connector and its batch operations share: keys, error texts, limits."""

from __future__ import annotations

import hashlib
from typing import Any

from connectors.base import error_text

# Mailchimp's own errors that no retry will ever fix.
_PERMANENT = ("compliance state", "forgotten email", "looks fake or invalid", "permanently deleted")
# A member sent without `status_if_new`: whether they agreed to emails is not known.
CONSENT_UNKNOWN = "consent_unknown"
CONSENT_UNKNOWN_MESSAGE = (
    "Not sent: it is not known whether this person agreed to receive emails (no "
    "status_if_new was given). The console never guesses consent; say subscribed, pending, "
    "unsubscribed or transactional."
)
# A results archive bigger than this is not Mailchimp's (2,000 members make a few MB).
_MAX_ARCHIVE_BYTES = 512 * 1024 * 1024


def subscriber_hash(email: str) -> str:
    # Mailchimp's own id for a member (the MD5 of the lower-cased address): not a safeguard.
    return hashlib.md5(email.strip().lower().encode(), usedforsecurity=False).hexdigest()


def _problem_text(body: Any) -> tuple[str, str]:
    """(code, message) of Mailchimp's problem+json: its title, and "title: detail"."""
    body = body or {}
    title = str(body.get("title", "")) if isinstance(body, dict) else ""
    detail = str(body.get("detail", "")) if isinstance(body, dict) else ""
    return title, f"{title}: {detail}".strip(": ") or error_text(body)[1]

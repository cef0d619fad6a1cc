"""Encryption at rest for connection credentials (MultiFernet, keys from CREDENTIAL_KEYS).

The first key encrypts; every key decrypts. Rotation = put a new key first, run
`manage.py rotate_credentials`, then drop the old key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class CredentialKeyError(ImproperlyConfigured):
    """The configured keys cannot encrypt or decrypt: missing, malformed, or not the right ones."""


class Secrets(dict):
    """A dict of credentials whose repr and str never show a value.

    It still serialises with json.dumps and reads like a dict; only printing it,
    logging it or showing it on a debug page hides the values.
    """

    def __repr__(self) -> str:
        return "Secrets({" + ", ".join(f"{k!r}: '********'" for k in self) + "})"

    __str__ = __repr__


def _fernet() -> MultiFernet:
    keys = list(getattr(settings, "CREDENTIAL_KEYS", []) or [])
    if not keys:
        raise CredentialKeyError(
            "No credential key is configured: set CREDENTIAL_KEYS to one or more Fernet keys."
        )
    try:
        return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])
    except (ValueError, TypeError):
        raise CredentialKeyError(
            "CREDENTIAL_KEYS holds a value that is not a Fernet key "
            "(32 url-safe base64-encoded bytes)."
        ) from None


def encrypt(values: Mapping[str, Any]) -> str:
    return _fernet().encrypt(json.dumps(dict(values), sort_keys=True).encode()).decode()


def decrypt(token: str) -> Secrets:
    if not token:
        return Secrets()
    try:
        plain = _fernet().decrypt(token.encode())
    except InvalidToken:
        raise CredentialKeyError(
            "The stored credentials cannot be decrypted with any key in CREDENTIAL_KEYS. "
            "The key they were saved with has been removed or changed: put it back in "
            "CREDENTIAL_KEYS, or enter the credentials again."
        ) from None
    return Secrets(json.loads(plain))


def rotate(token: str) -> str:
    """Re-encrypt a token under the newest key (whichever key it was made with)."""
    if not token:
        return token
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise CredentialKeyError(
            "A stored credential cannot be decrypted with any key in CREDENTIAL_KEYS, "
            "so it cannot be rotated. Add the old key to the end of CREDENTIAL_KEYS and retry."
        ) from None

"""The OAuth tokens the Brightpearl fake has issued (see oauth.py), kept in its state."""

from __future__ import annotations

import time
from typing import Any

from connectors.brightpearl.fake.constants import V
from connectors.sandbox.core import Account

# Issued access tokens (id = the token) and the account's current refresh token.
ACCESS = "oauth_access"
GRANT = "oauth_grant"


def token_state(app: Any, account: Account, token: str) -> str:
    """'valid', 'expired' or 'unknown' for a bearer token of this account."""
    if token == account.creds.get("oauth_token"):
        return "valid"  # the seed's fixed token (discovery's "oauth" headers)
    issued = app.store.get_json(V, account.code, ACCESS, token)
    if issued is None:
        return "unknown"
    return "valid" if time.time() < float(issued["expires_at"]) else "expired"


def current_refresh_token(app: Any, account: Account) -> str:
    grant = app.store.get_json(V, account.code, GRANT, "current")
    return str(grant["refresh_token"]) if grant else str(account.creds["refresh_token"])

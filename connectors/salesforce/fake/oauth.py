"""Salesforce's OAuth token endpoint: client credentials, password and JWT bearer grants."""

from __future__ import annotations

import base64
import hashlib
import json
from contextlib import suppress
from urllib.parse import parse_qs

from connectors.salesforce.fake.base import SalesforceBase, V, route
from connectors.sandbox.core import Request, Response, json_response, utcnow


class OAuthRoutes(SalesforceBase):
    """POST /services/oauth2/token."""

    # --- OAuth ---------------------------------------------------------------------------

    @route("POST", r"/services/oauth2/token")
    def token(self, req: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(req.body.decode(errors="replace")).items()}
        client_id = form.get("client_id", "")
        client_secret = form.get("client_secret", "")
        basic = req.headers.get("Authorization") or ""
        if basic.lower().startswith("basic "):
            with suppress(ValueError, UnicodeDecodeError):
                client_id, _, client_secret = (
                    base64.b64decode(basic[6:].strip()).decode().partition(":")
                )
        grant = form.get("grant_type", "")
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            # The signature is not checked: the sandbox holds no certificate. iss names the app.
            client_id = _jwt_issuer(form.get("assertion", ""))
            account = self.app.accounts.find(V, "client_id", client_id)
            if account is None:
                return json_response(
                    {"error": "invalid_grant", "error_description": "invalid assertion"}, 400
                )
        elif grant in ("client_credentials", "password"):
            account = self.app.accounts.find(V, "client_id", client_id)
            if account is None:
                return json_response(
                    {
                        "error": "invalid_client_id",
                        "error_description": "client identifier invalid",
                    },
                    400,
                )
            if client_secret != account.creds["client_secret"]:
                return json_response(
                    {"error": "invalid_client", "error_description": "invalid client credentials"},
                    400,
                )
        else:
            return json_response(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "grant type not supported",
                },
                400,
            )
        issued = str(int(utcnow().timestamp() * 1000))
        token = account.creds["access_token"]
        instance = f"{req.base_url}/salesforce"
        signature = base64.b64encode(
            hashlib.sha256(f"{instance}{issued}{token}".encode()).digest()
        ).decode()
        return json_response(
            {
                "access_token": token,
                "signature": signature,
                "scope": "api",
                "instance_url": instance,
                "id": f"{instance}/id/{account.code}/{account.creds['user_id']}",
                "token_type": "Bearer",
                "issued_at": issued,
            }
        )


def _jwt_issuer(assertion: str) -> str:
    try:
        payload = assertion.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        return str(json.loads(base64.urlsafe_b64decode(payload)).get("iss", ""))
    except (IndexError, ValueError):
        return ""

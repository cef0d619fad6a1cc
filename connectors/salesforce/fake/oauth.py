"""Salesforce's OAuth token endpoint: client credentials, password and JWT bearer grants.

Answers {access_token, signature, scope, instance_url, id, token_type, issued_at}, or 400
{"error", "error_description"} (README.md beside this package cites each)."""

from __future__ import annotations

import base64
import hashlib
import json
from contextlib import suppress
from urllib.parse import parse_qs

from connectors.salesforce.fake.base import SalesforceBase, V, route
from connectors.sandbox.core import Account, Request, Response, json_response, utcnow

# The audiences the JWT bearer help page lists (an Experience Cloud site's URL is the third).
AUDIENCE_LOGIN = "https://login.salesforce.com"
AUDIENCE_TEST = "https://test.salesforce.com"


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
            account, refusal = self._jwt_account(form.get("assertion", ""), req)
            if refusal is not None:
                return refusal
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

    def _jwt_account(self, assertion: str, req: Request) -> tuple[Account | None, Response | None]:
        """The org a JWT bearer assertion signs in to, or the refusal Salesforce answers.

        Checks, in this order: the JWT's shape, iss (the consumer key), the RS256 signature
        (when a certificate was uploaded: POST /_sandbox/salesforce/jwt-certificate), aud,
        exp and sub (the username)."""
        parts = assertion.split(".")
        try:
            header = json.loads(_b64decode(parts[0]))
            claims = json.loads(_b64decode(parts[1]))
            signature = _b64decode(parts[2])
        except (IndexError, ValueError):
            return None, _refused("invalid_grant", "invalid assertion")
        if not isinstance(claims, dict) or not isinstance(header, dict):
            return None, _refused("invalid_grant", "invalid assertion")
        account = self.app.accounts.find(V, "client_id", str(claims.get("iss", "")))
        if account is None:
            return None, _refused("invalid_client_id", "client identifier invalid")
        public_key = account.creds.get("jwt_public_key")
        if public_key and (
            header.get("alg") != "RS256"
            or not _verified(public_key, f"{parts[0]}.{parts[1]}".encode(), signature)
        ):
            return None, _refused("invalid_grant", "invalid assertion")
        audiences = {AUDIENCE_LOGIN, AUDIENCE_TEST, f"{req.base_url}/salesforce"}
        if str(claims.get("aud", "")).rstrip("/") not in audiences:
            return None, _refused("invalid_grant", "Audience validation failed")
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp < utcnow().timestamp():
            return None, _refused("invalid_grant", "expired authorization code")
        if str(claims.get("sub", "")) != account.creds.get("username"):
            return None, _refused("invalid_grant", "user hasn't approved this consumer")
        return account, None


def _refused(error: str, description: str) -> Response:
    return json_response({"error": error, "error_description": description}, 400)


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _verified(public_pem: str, signing_input: bytes, signature: bytes) -> bool:
    """RS256: RSASSA-PKCS1-v1_5 with SHA-256, against the certificate uploaded to the app."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        key = serialization.load_pem_public_key(public_pem.encode())
        key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr,call-arg]
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True

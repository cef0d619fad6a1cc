"""Brightpearl's OAuth token endpoint, and the tokens it issues.

Real: POST https://oauth.brightpearlapp.com/token/{account}; here: /brightpearl/token/{account}
(api-docs.brightpearl.com/utilities/oauth-token/post.html). The body is form-encoded; the
answer's keys are underscore-cased. A renewal (grant_type=refresh_token, refresh_token,
client_id = the app reference, client_secret when the app has confidential OAuth) answers
{"access_token", "refresh_token", "api_domain", "token_type": "Bearer", "expires_in"}, as
recorded in ruby-brightpearl's auth_use_refresh_token.yml, with a new refresh token each time.

Guesses (the docs are silent): the refresh token used is revoked by the renewal (the stricter
reading of "a new refresh token each time"); a refused renewal answers 400
{"error": "invalid_grant", "error_description": …} as a refused code was recorded; a wrong
client id answers 400 {"error": "invalid_client"} (recorded); a body that is not form-encoded
answers 400 invalid_request; the authorization code grant is not simulated.
"""

from __future__ import annotations

import secrets
import time
from urllib.parse import parse_qs

from connectors.brightpearl.fake.base import BrightpearlBase, route
from connectors.brightpearl.fake.constants import JSON_UTF8, V
from connectors.brightpearl.fake.tokens import ACCESS, GRANT, current_refresh_token
from connectors.sandbox.core import Request, Response, dumps, json_response
from connectors.sandbox.state import Rec

FORM = "application/x-www-form-urlencoded"


def oauth_error(error: str, description: str = "") -> Response:
    body = {"error_description": description, "error": error} if description else {"error": error}
    return json_response(body, 400, content_type=JSON_UTF8)


class OAuthRoutes(BrightpearlBase):
    """POST /token/{account}: the token endpoint (no API auth, not counted in the API's limit)."""

    @route("POST", r"/token/(?P<code>[^/]+)")
    def token(self, req: Request, code: str) -> Response:
        if not (req.headers.get("Content-Type") or "").startswith(FORM):
            return oauth_error("invalid_request", "The body must be x-www-form-urlencoded")
        form = {k: v[0] for k, v in parse_qs(req.body.decode(errors="replace")).items()}
        account = self.app.accounts.get(V, code)
        if account is None or form.get("client_id") != account.creds["app_ref"]:
            return oauth_error("invalid_client")
        if form.get("grant_type") != "refresh_token":
            return oauth_error("unsupported_grant_type")
        req.account = account
        if form.get("refresh_token") != current_refresh_token(self.app, account):
            return oauth_error(
                "invalid_grant", "The refresh token has either expired or does not exist"
            )
        access = secrets.token_urlsafe(32)
        refresh = secrets.token_urlsafe(32)
        expires_in = int(self.settings.brightpearl_oauth_expires_in)
        store = self.app.store
        store.put(
            Rec(V, account.code, ACCESS, access, dumps({"expires_at": time.time() + expires_in}))
        )
        # One grant per account: the refresh token just used is no longer accepted.
        store.put(Rec(V, account.code, GRANT, "current", dumps({"refresh_token": refresh})))
        host = req.base_url.split("://", 1)[-1]
        return json_response(
            {
                "access_token": access,
                "refresh_token": refresh,
                "api_domain": host,
                "token_type": "Bearer",
                "expires_in": expires_in,
            },
            content_type=JSON_UTF8,
        )

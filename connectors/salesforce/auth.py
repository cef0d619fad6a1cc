"""Salesforce sign-in: a bearer token from the org's token endpoint, cached, renewed on a 401.

The token endpoint is `{My Domain}/services/oauth2/token`, form-encoded (Salesforce's Postman
collection, `sf/jwt_bearer_token_flow.json`; the help pages cited in fields.py). Two grants:
- `grant_type=client_credentials` with `client_id` and `client_secret`. Salesforce serves it only
  on the org's My Domain address, never on login.salesforce.com (/work/shared/vendors/README.md,
  Corrections), so the address is checked before anything is sent (`base_url_problem`);
- `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` with `assertion`, a JWT signed RS256
  whose claims are iss (the consumer key), sub (the username), aud (login.salesforce.com, or
  test.salesforce.com for a sandbox) and exp (at most three minutes ahead).
Success is `{access_token, instance_url, id, token_type: "Bearer", issued_at, signature, scope}`
with no lifetime: a token lasts the org's session timeout, so it is kept until a call answers
401 `INVALID_SESSION_ID`, then renewed once. A refusal is 400 `{"error", "error_description"}`,
shown to people in plain words with what to change (`SignInRefused`).

The token and instance URL live in the connection's encrypted credentials, so every process
shares them; renewals of one connection are serialised on its row, so a process that waited
finds the token another just got and asks for none.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Generator
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.db import transaction

from connectors.errors import AuthError, ConfigurationError, TransientError
from connectors.models import Connection

ACCESS_TOKEN = "oauth_access_token"
INSTANCE_URL = "oauth_instance_url"
# The token answer's `id`: the identity URL, …/id/{org id}/{user id}, naming the user the
# calls run as (the integration user: CreatedById/LastModifiedById of what the console writes).
IDENTITY = "oauth_identity"
# The keys the console writes itself (dropped when a person types new credentials).
CACHED = (ACCESS_TOKEN, INSTANCE_URL)
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Salesforce refuses a JWT whose exp is more than three minutes ahead (the JWT help page).
JWT_LIFETIME_SECONDS = 180
LOGIN = "https://login.salesforce.com"
TEST_LOGIN = "https://test.salesforce.com"
_SHARED_LOGIN_HOSTS = {"login.salesforce.com", "test.salesforce.com"}
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_PEM = re.compile(r"-----BEGIN ([A-Z ]+)-----(.*?)-----END \1-----", re.S)

# What Salesforce's refusals mean, by error_description (lower case) or else by error, in words
# an ops person can act on. Descriptions are the ones Salesforce answers (help pages and
# recorded answers cited in connectors/salesforce/README.md).
_ADVICE_BY_DESCRIPTION = {
    "request not supported on this domain": (
        "This address does not take this kind of sign-in: enter the org's My Domain address "
        "(Setup → My Domain), such as https://acme.my.salesforce.com."
    ),
    "no client credentials user enabled": (
        "The app has no Run As user: in Salesforce, edit the app's policies, tick “Enable "
        "Client Credentials Flow” and choose the integration user it runs as."
    ),
    "user hasn't approved this consumer": (
        "The user is not allowed to use the app: set the app's permitted users to “Admin "
        "approved users are pre-authorized” and add the user's profile or a permission set."
    ),
    "audience validation failed": (
        "The JWT audience is wrong: leave it blank (production orgs use "
        "https://login.salesforce.com, sandboxes https://test.salesforce.com)."
    ),
    "audience is invalid": (
        "The JWT audience is wrong: leave it blank (production orgs use "
        "https://login.salesforce.com, sandboxes https://test.salesforce.com)."
    ),
    "expired authorization code": (
        "Salesforce thought the sign-in had expired: check that this server's clock is right."
    ),
    "invalid assertion": (
        "The signature did not match: the private key must belong to the certificate uploaded "
        "to the app (“Use digital signatures”)."
    ),
    "user is locked": "The integration user is locked out: unlock it in Setup → Users.",
}
_ADVICE_BY_ERROR = {
    "invalid_client_id": "Salesforce does not know this consumer key: copy it again from the app.",
    "invalid_client": (
        "The consumer key and secret do not match: copy both again from the app's Manage "
        "Consumer Details."
    ),
    "unsupported_grant_type": (
        "The app does not allow this kind of sign-in: switch it on in the app's OAuth settings, "
        "or choose the other kind here."
    ),
    "inactive_user": "The integration user is inactive: activate it in Setup → Users.",
    "inactive_org": "The org is inactive or locked: ask the brand's Salesforce admin.",
    "invalid_grant": "Check the app's settings and the credentials entered here.",
}


class SalesforceAuthError(AuthError):
    """Salesforce refused a call's token: the console's sentence, then what Salesforce said."""

    @property
    def plain(self) -> str:
        said = f" Salesforce said: “{self.vendor_message}”." if self.vendor_message else ""
        return f"{self.message}{said}"


class SignInRefused(SalesforceAuthError):
    """Salesforce refused the sign-in: what it said (error and error_description) and the fix."""

    @property
    def plain(self) -> str:
        said = " — ".join(p for p in (self.code, self.vendor_message) if p)
        said = f" Salesforce said: “{said}”." if said else ""
        return f"{self.message}{said} {advice(self.code, self.vendor_message)}".strip()


def advice(error: str, description: str) -> str:
    return _ADVICE_BY_DESCRIPTION.get(description.strip().lower()) or _ADVICE_BY_ERROR.get(
        error, "Check the app's settings in Salesforce and the credentials entered here."
    )


def base_url_problem(url: str, kind: str) -> str:
    """Why an address cannot be the org's sign-in address for this kind, or "" when it can."""
    try:
        parts = urlsplit(str(url or "").strip())
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:
        host, parts = "", None
    if not host or parts is None:
        return "Enter the org's My Domain address, such as https://acme.my.salesforce.com."
    if host in _LOOPBACK:
        return ""  # the console's own vendor sandbox, on this machine
    if host in _SHARED_LOGIN_HOSTS:
        if kind == "jwt_bearer":
            return ""  # the JWT bearer flow is served on the shared login pages too
        return (
            f"{host} is Salesforce's shared login page, which refuses client-credentials "
            "sign-ins: enter the org's My Domain address instead (Setup → My Domain), such as "
            "https://acme.my.salesforce.com."
        )
    if parts.scheme != "https":
        return "Salesforce answers only over https: the address starts with https://."
    if host.endswith(".lightning.force.com"):
        name = host.removesuffix(".lightning.force.com")
        return (
            f"That is the Lightning address the browser shows; the API's is the My Domain one: "
            f"https://{name}.my.salesforce.com."
        )
    if host.split(".")[0] == "yourcompany":
        return "Replace “yourcompany” with the org's My Domain name (Setup → My Domain)."
    if not host.endswith(".my.salesforce.com") or parts.path.strip("/"):
        return (
            "That is not a My Domain address: it looks like https://acme.my.salesforce.com "
            "(a sandbox: https://acme--uat.sandbox.my.salesforce.com), with nothing after the "
            "name. Salesforce shows it in Setup → My Domain."
        )
    return ""


def jwt_audience(base_url: str, setting: str = "") -> str:
    """The aud claim: the setting, else test.salesforce.com for a sandbox, else login."""
    if setting.strip():
        return setting.strip().rstrip("/")
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "test.salesforce.com" or host.endswith(".sandbox.my.salesforce.com"):
        return TEST_LOGIN
    return LOGIN


def load_private_key(text: str) -> rsa.RSAPrivateKey:
    """The RSA key from PEM text, also when a form field flattened its line breaks."""
    match = _PEM.search(str(text or "").replace("\\n", "\n"))
    if not match:
        raise ConfigurationError(
            "The Salesforce private key is not a PEM key: paste the whole file, from "
            "-----BEGIN PRIVATE KEY----- to -----END PRIVATE KEY-----.",
            vendor="salesforce",
        )
    label, body = match.group(1), re.sub(r"\s+", "", match.group(2))
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    pem = f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n"
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigurationError(
            "The Salesforce private key could not be read as an unencrypted RSA key: export "
            "it without a passphrase (openssl pkcs8 -topk8 -nocrypt).",
            vendor="salesforce",
        )
    return key


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_assertion(
    *, client_id: str, username: str, audience: str, private_key: str, now: float
) -> str:
    """A JWT signed RS256 with the documented claims iss, sub, aud and exp."""
    key = load_private_key(private_key)
    header = _b64url(json.dumps({"alg": "RS256"}, separators=(",", ":")).encode())
    claims = {
        "iss": client_id,
        "sub": username,
        "aud": audience,
        "exp": int(now) + JWT_LIFETIME_SECONDS,
    }
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{_b64url(signature)}"


class SalesforceOAuth(httpx.Auth):
    """Bearer auth for one connection: a cached token, a new one on a 401 (once)."""

    requires_response_body = True

    def __init__(
        self,
        *,
        connection_id: int,
        base_url: str,
        kind: str,
        creds: dict[str, Any],
        audience: str,
        on_token: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.connection_id = connection_id
        self.base_url = base_url.rstrip("/")
        self.token_url = f"{self.base_url}/services/oauth2/token"
        self.kind = kind
        self.creds = dict(creds)
        self.audience = audience
        self.on_token = on_token
        self.clock = clock
        self.renewals = 0

    @property
    def instance_url(self) -> str:
        return str(self.creds.get(INSTANCE_URL) or self.base_url)

    @property
    def user_id(self) -> str:
        """The integration user's id, from the identity URL of the last token (empty before
        the first sign-in that returned one)."""
        identity = str(self.creds.get(IDENTITY) or "").rstrip("/")
        return identity.rsplit("/", 1)[-1] if "/id/" in identity else ""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        # Data URLs are built on the sign-in address; they go to the instance URL the token
        # answer names (the same My Domain address for most orgs).
        url = str(request.url)
        suffix = url[len(self.base_url) :] if url.startswith(self.base_url + "/") else None
        token = self.creds.get(ACCESS_TOKEN)
        if not token:
            token = yield from self._renew(stale=None)
        self._prepare(request, str(token), suffix)
        response = yield request
        if response.status_code == 401:
            # The session ended (timeout, revoked, password reset): renew once and send again.
            # A second 401 stands, and the client reads it as a plain auth error.
            token = yield from self._renew(stale=str(token))
            self._prepare(request, token, suffix)
            yield request

    def _prepare(self, request: httpx.Request, token: str, suffix: str | None) -> None:
        request.headers["Authorization"] = f"Bearer {token}"
        if suffix is not None:
            target = httpx.URL(self.instance_url.rstrip("/") + suffix)
            if target != request.url:
                request.url = target
                request.headers["Host"] = target.netloc.decode()

    def _form(self) -> dict[str, str]:
        if self.kind == "jwt_bearer":
            return {
                "grant_type": JWT_GRANT,
                "assertion": jwt_assertion(
                    client_id=str(self.creds["client_id"]),
                    username=str(self.creds["username"]),
                    audience=self.audience,
                    private_key=str(self.creds["private_key"]),
                    now=self.clock(),
                ),
            }
        return {
            "grant_type": "client_credentials",
            "client_id": str(self.creds["client_id"]),
            "client_secret": str(self.creds["client_secret"]),
        }

    def _renew(self, *, stale: str | None) -> Generator[httpx.Request, httpx.Response, str]:
        with transaction.atomic():
            row = Connection.objects.select_for_update().get(pk=self.connection_id)
            creds = dict(row.credentials)
            current = creds.get(ACCESS_TOKEN)
            if current and current != stale:
                # Another process got a new token while this one waited for the row.
                self.creds = creds
                return str(current)
            response = yield httpx.Request(
                "POST", self.token_url, data=self._form(), headers={"Accept": "application/json"}
            )
            body = _json(response)
            if response.status_code >= 500 or response.status_code == 429:
                raise TransientError(
                    f"Salesforce's sign-in page had a temporary failure "
                    f"(HTTP {response.status_code}).",
                    vendor="salesforce",
                    status=response.status_code,
                )
            if response.status_code != 200 or not body.get("access_token"):
                raise SignInRefused(
                    "Salesforce refused the sign-in"
                    + (" (client credentials)." if self.kind != "jwt_bearer" else " (JWT bearer)."),
                    vendor="salesforce",
                    status=response.status_code,
                    code=str(body.get("error") or ""),
                    vendor_message=str(body.get("error_description") or ""),
                    details=body or None,
                )
            token = str(body["access_token"])
            creds[ACCESS_TOKEN] = token
            creds[INSTANCE_URL] = str(body.get("instance_url") or self.base_url).rstrip("/")
            creds[IDENTITY] = str(body.get("id") or "")
            row.credentials = creds
            row.save(update_fields=["credentials_token"])
        self.creds = creds
        self.renewals += 1
        if self.on_token:
            self.on_token(token)
        return token


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}

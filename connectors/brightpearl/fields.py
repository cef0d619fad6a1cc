"""What a Brightpearl connection asks for: the kind of credential the brand has, then only the
fields that kind needs, each explained in plain English."""

from __future__ import annotations

from typing import Any

from connectors.fields import Field

STAFF_TOKEN_HELP = "https://help.brightpearl.com/hc/en-us/articles/4414311366545"
OAUTH_HELP = "https://help.brightpearl.com/hc/en-us/articles/360032240811-OAuth-authentication"
ACCOUNT_TOKEN_HELP = (
    "https://help.brightpearl.com/hc/en-us/articles/211124966-API-authentication-for-private-apps"
)

AUTH_KINDS = (
    (
        "staff_token",
        "Staff token: a private app made in Brightpearl today (App Store → Private apps → "
        "Manage users)",
    ),
    (
        "oauth",
        "OAuth: an app of your developer account that the brand approved in Brightpearl",
    ),
    (
        "account_token",
        "Account token: an older private app, shown with its token when it was made",
    ),
)

SETTING_FIELDS = (
    Field("account", "Account code", "The account id in every API path."),
    Field(
        "auth",
        "Kind of credential",
        "How the brand lets the console into Brightpearl. Pick the one the brand has; a "
        "private app made today gives a staff token. Brightpearl explains each: "
        f"{STAFF_TOKEN_HELP} (staff token), {OAUTH_HELP} (OAuth), {ACCOUNT_TOKEN_HELP} "
        "(account token).",
        required=False,
        choices=AUTH_KINDS,
    ),
    Field(
        "oauth_token_url",
        "OAuth token address",
        "OAuth only. Leave it blank to use Brightpearl's, "
        "https://oauth.brightpearlapp.com/token/{account}.",
        required=False,
        kinds=("oauth",),
    ),
)

CREDENTIAL_FIELDS = (
    Field(
        "app_ref",
        "App reference",
        "The app's reference, as Brightpearl shows it (for a private app it starts with the "
        "account code, e.g. acme_console). It is sent as brightpearl-app-ref; for OAuth it is "
        "also the client id.",
    ),
    Field(
        "staff_token",
        "Staff token",
        "In Brightpearl: App Store → Private apps → your app → Manage users: the token shown "
        "beside the staff member the console acts as.",
        kinds=("staff_token",),
    ),
    Field(
        "dev_ref",
        "Developer reference",
        "OAuth only: your developer account's reference (sent as brightpearl-dev-ref).",
        kinds=("oauth",),
    ),
    Field(
        "refresh_token",
        "Refresh token",
        "OAuth only: the refresh token Brightpearl gave the app when the brand approved it. "
        "The console renews the sign-in with it, and keeps the new one Brightpearl sends back.",
        kinds=("oauth",),
    ),
    Field(
        "client_secret",
        "Client secret",
        "OAuth only, and only if the app has confidential OAuth switched on: its client secret.",
        required=False,
        kinds=("oauth",),
    ),
    Field(
        "account_token",
        "Account token",
        "The token Brightpearl showed when the older private app was made.",
        kinds=("account_token",),
    ),
)

# What a 401 means, for each kind, in words an ops person can act on (after the general
# "did not accept the saved credentials").
AUTH_REFUSED = {
    "staff_token": (
        "Brightpearl refused the staff token: the staff member may have been removed from the "
        "app, or the app disabled. Copy the token again from App Store → Private apps → "
        "Manage users."
    ),
    "oauth": (
        "Brightpearl refused the OAuth sign-in, even after renewing it: check that the app is "
        "still installed on the account, and the app and developer references."
    ),
    "account_token": "Brightpearl refused the app reference and account token.",
}


def customer_field_codes(bp: Any) -> dict[str, str]:
    """The customer custom fields the account defines, {code: type} (Custom Field Metadata
    GET, api-docs.brightpearl.com/contact/custom-field-meta-data/get.html)."""
    body = bp.http.json("GET", "/contact-service/customer/custom-field-meta-data")
    rows = (body or {}).get("response") or []
    return {str(f.get("code")): str(f.get("customFieldType") or "") for f in rows}

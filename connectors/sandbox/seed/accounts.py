"""The fixed sandbox accounts: one per vendor and brand, with sandbox-only credentials."""

from __future__ import annotations

import hashlib
import json

from connectors.salesforce.fake import access_token
from connectors.sandbox.core import Account
from connectors.sandbox.state import Rec

# --- accounts ---------------------------------------------------------------------------------


def _h(text: str, length: int = 24) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def make_accounts(brand: str) -> list[Account]:
    """One account per vendor for a brand, with fixed sandbox-only credentials."""
    list_id = _h(f"mailchimp-list:{brand}", 10)
    store_hash = "s" + _h(f"bigcommerce:{brand}", 9)
    org = "00D" + _h(f"salesforce-org:{brand}", 12).upper()
    salesforce = Account(
        "salesforce",
        org,
        brand,
        {
            "client_id": "3MVG9sandbox." + _h(f"sf-client:{brand}", 32),
            "client_secret": _h(f"sf-secret:{brand}", 40).upper(),
            "user_id": "005" + _h(f"sf-user:{brand}", 12).upper(),
            # The integration user a JWT bearer sign-in names (its sub claim).
            "username": f"integration@{brand}.example.com",
            "token_generation": "0",
        },
    )
    salesforce.creds["access_token"] = access_token(salesforce)
    return [
        Account(
            "brightpearl",
            brand,
            brand,
            {
                "app_ref": f"{brand}_sandbox",
                "account_token": _h(f"bp-token:{brand}", 32),
                "dev_ref": "sandboxdev",
                "oauth_token": _h(f"bp-oauth:{brand}", 40),
                "staff_token": _h(f"bp-staff:{brand}", 36),
                # The first refresh token; each renewal replaces it (state kind oauth_grant).
                "refresh_token": _h(f"bp-refresh:{brand}", 44),
            },
        ),
        Account(
            "ometria", _h(f"ometria:{brand}", 8), brand, {"api_key": _h(f"om-key:{brand}", 32)}
        ),
        Account(
            "mailchimp",
            list_id,
            brand,
            {
                "api_key": hashlib.md5(
                    f"mailchimp:{brand}".encode(), usedforsecurity=False
                ).hexdigest()
                + "-us1",
                "list_id": list_id,
                "list_name": f"{brand.title()} customers",
                "created": "2024-06-01T09:00:00+00:00",
            },
        ),
        Account(
            "bigcommerce",
            store_hash,
            brand,
            {
                "access_token": _h(f"bc-token:{brand}", 31),
                "client_id": _h(f"bc-client:{brand}", 31),
                "client_secret": _h(f"bc-secret:{brand}", 40),
                "store_id": str(1_000_000 + int(_h(f"bc-store:{brand}", 6), 16) % 9_000_000),
            },
        ),
        salesforce,
    ]


def account_rec(account: Account) -> Rec:
    data = {
        "vendor": account.vendor,
        "code": account.code,
        "brand": account.brand,
        "creds": account.creds,
    }
    return Rec(account.vendor, account.code, "account", account.code, json.dumps(data))

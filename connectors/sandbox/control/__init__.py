"""The control API under /_sandbox/: discovery, reset, config, faults, stats, state, changes.

JSON in and out, no auth. Changes are made "as a back office would make them": they go through
the same code as the vendor API and fire the webhooks clients registered through it. Each
change takes `"deliveries": n` to deliver the same event n times (idempotency tests) and an
optional `"account"` (a brand key such as "second", or the vendor's account code).

    base.py     the router, errors, body and account helpers
    state.py    GET /state/..., webhook deliveries
    changes.py  back-office changes (POST /_sandbox/{vendor}/...)
    catalog.py  products added in bulk to both catalogues (POST /_sandbox/catalog/products)
"""

from __future__ import annotations

import secrets
from typing import Any

from connectors.sandbox.control.base import ControlError, route
from connectors.sandbox.control.catalog import CatalogRoutes
from connectors.sandbox.control.changes import ChangeRoutes
from connectors.sandbox.control.state import StateRoutes
from connectors.sandbox.core import Request
from connectors.sandbox.duplicates import find_duplicates
from connectors.sandbox.throttle import VENDORS

__all__ = ["Control", "ControlError"]

TRUE = ("1", "true", "yes", "on")


class Control(StateRoutes, ChangeRoutes, CatalogRoutes):
    """The control API: discovery, reset, config, accounts, faults, stats (here), state
    (state.py) and back-office changes (changes.py), on one router (base.py)."""

    # --- discovery, reset, config --------------------------------------------------------

    @route("GET", r"/")
    def discovery(self, req: Request) -> dict[str, Any]:
        return self.app.control.describe(req.base_url)

    def describe(self, base_url: str) -> dict[str, Any]:
        accounts: dict[str, dict[str, Any]] = {}
        for brand in self.app.accounts.brands():
            accounts[brand] = {
                vendor: self._entry(vendor, brand, base_url)
                for vendor in VENDORS
                if self.app.accounts.for_brand(vendor, brand)
            }
        demo = accounts.get("demo", {})
        return {
            "sandbox": {
                "url": base_url,
                "control": f"{base_url}/_sandbox/",
                "time_scale": self.app.time_scale,
            },
            **demo,
            "accounts": accounts,
            "seed": self.app.seed_facts(),
        }

    def _entry(self, vendor: str, brand: str, base_url: str) -> dict[str, Any]:
        account = self.app.accounts.for_brand(vendor, brand)
        assert account is not None
        creds = account.creds
        base = f"{base_url}/{vendor}"
        if vendor == "brightpearl":
            return {
                "base_url": base,
                "account": account.code,
                "headers": {
                    "brightpearl-app-ref": creds["app_ref"],
                    "brightpearl-account-token": creds["account_token"],
                },
                "oauth": {
                    "Authorization": f"Bearer {creds['oauth_token']}",
                    "brightpearl-app-ref": creds["app_ref"],
                    "brightpearl-dev-ref": creds["dev_ref"],
                },
                "staff": {
                    "brightpearl-app-ref": creds["app_ref"],
                    "brightpearl-staff-token": creds["staff_token"],
                },
                # The token endpoint (oauth.brightpearlapp.com/token/{account} for real) and
                # the refresh token the account's approval gave.
                "oauth_token_url": f"{base}/token/{account.code}",
                "refresh_token": creds["refresh_token"],
            }
        if vendor == "ometria":
            return {"base_url": base, "headers": {"X-Ometria-Auth": creds["api_key"]}}
        if vendor == "mailchimp":
            return {"base_url": base, "api_key": creds["api_key"], "list_id": creds["list_id"]}
        if vendor == "bigcommerce":
            return {
                "base_url": base,
                "store_hash": account.code,
                "store_id": creds["store_id"],
                "headers": {"X-Auth-Token": creds["access_token"]},
                "client_id": creds["client_id"],
                "client_secret": creds["client_secret"],
            }
        return {
            "base_url": base,
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "username": creds.get("username", ""),
            "org_id": account.code,
        }

    @route("POST", r"/reset")
    def reset(self, req: Request) -> dict[str, Any]:
        body = self._body(req)
        orders, second = body.get("orders"), body.get("second_orders")
        facts = self.app.reset(
            body.get("seed", "demo"),
            int(orders) if orders is not None else None,
            int(second) if second is not None else None,
        )
        return {"reset": True, "seed": facts}

    @route("GET", r"/config")
    def config_get(self, req: Request) -> dict[str, Any]:
        return self.app.config_snapshot()

    @route("POST", r"/config")
    def config_post(self, req: Request) -> dict[str, Any]:
        self.app.configure(self._body(req))
        return self.app.config_snapshot()

    @route("POST", r"/accounts")
    def accounts_post(self, req: Request) -> dict[str, Any]:
        """Empty accounts at every vendor for one more brand: {"brand": "third"}."""
        brand = str(self._body(req).get("brand") or "").strip()
        if not brand.isalnum():
            raise ControlError(400, "brand must be a short alphanumeric key")
        self.app.add_brand(brand)
        return {vendor: self._entry(vendor, brand, req.base_url) for vendor in VENDORS}

    @route("POST", r"/accounts/(?P<vendor>\w+)/(?P<name>[\w.-]+)/(?P<action>revoke|restore)")
    def account_credentials(self, req: Request, vendor: str, name: str, action: str) -> Any:
        """Revoke an account's credentials, as a vendor's admin would (a rotated API key, a
        removed app): every call with them gets the vendor's own refusal, until restore puts
        them back. To see a connection fail and heal without touching the console."""
        if vendor not in VENDORS:
            raise ControlError(404, f"No vendor {vendor!r}; try {', '.join(VENDORS)}")
        account = self._account(vendor, name)
        changed = (
            revoke_credentials(account) if action == "revoke" else restore_credentials(account)
        )
        if changed:
            self.app.save_account(account)
        return {"vendor": vendor, "account": account.code, "revoked": _revoked(account)}

    # --- faults and stats ----------------------------------------------------------------

    @route("GET", r"/faults")
    def faults_get(self, req: Request) -> dict[str, Any]:
        return self.app.faults.snapshot()

    @route("POST", r"/faults")
    def faults_post(self, req: Request) -> dict[str, Any]:
        body = self._body(req)
        vendor = body.get("vendor")
        if vendor not in VENDORS:
            raise ControlError(400, f"vendor must be one of {', '.join(VENDORS)}")
        self.app.faults.set(vendor, body)
        return self.app.faults.snapshot()

    @route("DELETE", r"/faults(?:/(?P<vendor>\w+))?")
    def faults_delete(self, req: Request, vendor: str | None = None) -> dict[str, Any]:
        self.app.faults.clear(vendor)
        return self.app.faults.snapshot()

    @route("GET", r"/stats")
    def stats_get(self, req: Request) -> dict[str, Any]:
        return self.app.stats.snapshot()

    @route("POST", r"/stats/reset")
    def stats_reset(self, req: Request) -> dict[str, Any]:
        self.app.stats.reset()
        self.app.throttle.forget_history()
        return self.app.stats.snapshot()

    @route("GET", r"/windows(?:/(?P<vendor>\w+))?")
    def windows(self, req: Request, vendor: str | None = None) -> dict[str, Any]:
        """Each rate window's requests since the last stats reset (throttle.py): how much of
        each vendor's allowance was spent, window by window."""
        if vendor is not None and vendor not in VENDORS:
            raise ControlError(404, f"No vendor {vendor!r}; try {', '.join(VENDORS)}")
        return {"items": self.app.throttle.windows(vendor)}

    @route("GET", r"/duplicates(?:/(?P<vendor>\w+))?")
    def duplicates(self, req: Request, vendor: str | None = None) -> dict[str, Any]:
        """Records sharing a natural key (duplicates.py): ?account=&since=&created_after_seed=1."""
        params = {k: v[0] for k, v in req.query.items()}
        if vendor is not None and vendor not in VENDORS:
            raise ControlError(404, f"No vendor {vendor!r}; try {', '.join(VENDORS)}")
        return find_duplicates(
            self.app,
            vendor,
            account=params.get("account") or None,
            since=params.get("since") or None,
            created_after_seed=params.get("created_after_seed", "").lower() in TRUE,
        )

    @route("POST", r"/writes/reset")
    def writes_reset(self, req: Request) -> dict[str, Any]:
        """Empty the write log (a reset does too), e.g. between the phases of a test."""
        self.app.writes.reset()
        return self.writes({})


# A revoked credential's value is kept under this prefix (credentials are looked up by name
# and value, so the kept one matches no call) and put back by restore.
REVOKED = "revoked:"


def _revoked(account: Any) -> bool:
    return any(name.startswith(REVOKED) for name in account.creds)


def revoke_credentials(account: Any) -> bool:
    if _revoked(account):
        return False
    for name, value in list(account.creds.items()):
        account.creds[REVOKED + name] = value
        account.creds[name] = f"revoked-{secrets.token_hex(8)}"
    return True


def restore_credentials(account: Any) -> bool:
    if not _revoked(account):
        return False
    for name in [n for n in account.creds if n.startswith(REVOKED)]:
        account.creds[name.removeprefix(REVOKED)] = account.creds.pop(name)
    return True

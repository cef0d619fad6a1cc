"""Point a brand's connections at the vendor sandbox: for the demo, the benchmarks and tests."""

from __future__ import annotations

from brands.models import Brand
from connectors.models import Connection


def brightpearl_sign_in(bp: dict, kind: str) -> tuple[dict, dict]:
    """(credentials, settings) for one of Brightpearl's kinds of sign-in on the sandbox."""
    app_ref = bp["headers"]["brightpearl-app-ref"]
    if kind == "staff_token":
        creds = {"app_ref": app_ref, "staff_token": bp["staff"]["brightpearl-staff-token"]}
        return creds, {"auth": kind}
    if kind == "oauth":
        creds = {
            "app_ref": app_ref,
            "dev_ref": bp["oauth"]["brightpearl-dev-ref"],
            "refresh_token": bp["refresh_token"],
        }
        return creds, {"auth": kind, "oauth_token_url": bp["oauth_token_url"]}
    return {"app_ref": app_ref, "account_token": bp["headers"]["brightpearl-account-token"]}, {}


def connect_to_sandbox(
    brand: Brand, discovery: dict, account: str = "demo", brightpearl_auth: str = "account_token"
) -> list:
    """Point a brand's five connections at the vendor sandbox (demo and tests only), signing in
    to Brightpearl with `brightpearl_auth` (account_token, staff_token or oauth)."""
    vendors = discovery.get("accounts", {}).get(account) or discovery
    bp, om, mc, bc, sf = (
        vendors[v] for v in ("brightpearl", "ometria", "mailchimp", "bigcommerce", "salesforce")
    )
    bp_creds, bp_settings = brightpearl_sign_in(bp, brightpearl_auth)
    specs = {
        "brightpearl": (bp["base_url"], bp_creds, {"account": bp["account"], **bp_settings}),
        "ometria": (om["base_url"], {"api_key": om["headers"]["X-Ometria-Auth"]}, {}),
        "mailchimp": (mc["base_url"], {"api_key": mc["api_key"]}, {"list_id": mc["list_id"]}),
        "bigcommerce": (
            bc["base_url"],
            {"access_token": bc["headers"]["X-Auth-Token"]},
            {"store_hash": bc["store_hash"]},
        ),
        "salesforce": (
            sf["base_url"],
            {"client_id": sf["client_id"], "client_secret": sf["client_secret"]},
            {},
        ),
    }
    connections = []
    for system, (base_url, creds, settings) in specs.items():
        conn = Connection.objects.filter(brand=brand, system=system).first() or Connection(
            brand=brand, system=system
        )
        conn.base_url = base_url
        conn.credentials = creds
        kept = {
            k: v for k, v in (conn.settings or {}).items() if k not in ("auth", "oauth_token_url")
        }
        conn.settings = {**kept, **settings}
        conn.save()
        connections.append(conn)
    return connections

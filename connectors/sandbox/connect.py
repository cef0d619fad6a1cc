"""Point a brand's connections at the vendor sandbox: for the demo, the benchmarks and tests."""

from __future__ import annotations

from brands.models import Brand
from connectors.models import Connection


def connect_to_sandbox(brand: Brand, discovery: dict, account: str = "demo") -> list:
    """Point a brand's five connections at the vendor sandbox (demo and tests only)."""
    vendors = discovery.get("accounts", {}).get(account) or discovery
    bp, om, mc, bc, sf = (
        vendors[v] for v in ("brightpearl", "ometria", "mailchimp", "bigcommerce", "salesforce")
    )
    specs = {
        "brightpearl": (
            bp["base_url"],
            {
                "app_ref": bp["headers"]["brightpearl-app-ref"],
                "account_token": bp["headers"]["brightpearl-account-token"],
            },
            {"account": bp["account"]},
        ),
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
        conn.settings = {**(conn.settings or {}), **settings}
        conn.save()
        connections.append(conn)
    return connections

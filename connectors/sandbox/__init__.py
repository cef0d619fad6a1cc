"""The vendor sandbox: Brightpearl, Ometria, Mailchimp, BigCommerce and Salesforce on one server.

In process (tests):

    sandbox = start_sandbox(tmp_path / "sandbox.sqlite3")
    httpx.get(sandbox.url + "/_sandbox/")          # discovery: base URLs and credentials
    sandbox.reset()                                # demo seed, fresh config, faults and stats
    sandbox.stop()

From the shell: `python manage.py sandbox --seed demo`. See README.md beside this file.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from connectors.sandbox.control import restore_credentials, revoke_credentials
from connectors.sandbox.duplicates import find_duplicates
from connectors.sandbox.server import App, SandboxServer

__all__ = ["Sandbox", "start_sandbox"]


class Sandbox:
    """A running sandbox: its URL, and shortcuts to the control API that skip HTTP."""

    def __init__(self, app: App, server: SandboxServer, thread: threading.Thread) -> None:
        self.app = app
        self._server = server
        self._thread = thread
        host, port = server.server_address[:2]
        self.host = str(host)
        self.port = int(port)
        self.url = f"http://{self.host}:{self.port}"
        app.base_url = self.url

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self.app.close()

    def reset(
        self, seed: str = "demo", orders: int | None = None, second_orders: int | None = None
    ) -> dict[str, Any]:
        """Fresh data from the seed, and the start-up config; no faults, stats or windows."""
        return self.app.reset(seed, orders, second_orders)

    def discovery(self) -> dict[str, Any]:
        """The same dict as GET /_sandbox/."""
        return self.app.control.describe(self.url)

    def seed_facts(self) -> dict[str, Any]:
        return self.app.seed_facts()

    def configure(
        self,
        time_scale: float | None = None,
        limits: dict[str, int | None] | None = None,
        settings: dict[str, Any] | None = None,
        account_limits: dict[str, dict[str, int | None]] | None = None,
    ) -> dict[str, Any]:
        self.app.configure(
            {
                "time_scale": time_scale,
                "limits": limits or {},
                "settings": settings or {},
                "account_limits": account_limits or {},
            }
        )
        return self.app.config_snapshot()

    def set_faults(self, vendor: str, **plan: Any) -> dict[str, Any]:
        self.app.faults.set(vendor, plan)
        return self.app.faults.snapshot()

    def clear_faults(self, vendor: str | None = None) -> None:
        self.app.faults.clear(vendor)

    def revoke(self, vendor: str, account: str = "demo") -> bool:
        """The vendor refuses the account's credentials from now on, as after a key was
        rotated (POST /_sandbox/accounts/{vendor}/{account}/revoke). True if it changed."""
        return self._credentials(vendor, account, revoke_credentials)

    def restore(self, vendor: str, account: str = "demo") -> bool:
        """The revoked credentials work again (POST .../restore). True if it changed."""
        return self._credentials(vendor, account, restore_credentials)

    def _credentials(self, vendor: str, name: str, change) -> bool:
        account = self.app.accounts.resolve(vendor, name)
        if account is None:
            raise LookupError(f"No {vendor} account {name!r}")
        changed = change(account)
        if changed:
            self.app.save_account(account)
        return changed

    def stats(self) -> dict[str, Any]:
        return self.app.stats.snapshot()

    def reset_stats(self) -> None:
        self.app.stats.reset()

    def state(self, vendor: str, collection: str, **params: Any) -> dict[str, Any]:
        """GET /_sandbox/state/{vendor}/{collection}?... as a dict: {count, items, ...}."""
        return self.app.control.state(vendor, collection, {k: str(v) for k, v in params.items()})

    def deliveries(self, **params: Any) -> list[dict[str, Any]]:
        found = self.app.control.state(
            "sandbox", "deliveries", {k: str(v) for k, v in params.items()}
        )
        return found["items"]

    def wait_for_deliveries(self, timeout: float = 5.0) -> bool:
        return self.app.deliverer.wait_idle(timeout)

    def duplicates(
        self,
        vendor: str | None = None,
        *,
        account: str | None = None,
        since: str | None = None,
        created_after_seed: bool = False,
    ) -> dict[str, Any]:
        """GET /_sandbox/duplicates[/{vendor}] as a dict: {count, groups}. A chaos test asks
        `created_after_seed=True` (or `since=` its start) to leave out the seed's own."""
        return find_duplicates(
            self.app,
            vendor,
            account=account,
            since=since,
            created_after_seed=created_after_seed,
        )

    def writes(self, **params: Any) -> dict[str, Any]:
        """GET /_sandbox/state/sandbox/writes?... as a dict: {count, forgotten, items}.

        Filters: vendor, method, path_prefix, account, key (e.g. "externalRef:101"), status
        (a number, "dropped" or "2xx"), limit, offset.
        """
        return self.app.control.writes({k: str(v) for k, v in params.items()})

    def reset_writes(self) -> None:
        self.app.writes.reset()


def start_sandbox(
    db_path: str | Path,
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    seed: str = "demo",
    orders: int | None = None,
    time_scale: float = 1.0,
    limits: dict[str, int | None] | None = None,
    reset: bool = True,
) -> Sandbox:
    """Serve the sandbox on a background thread. port=0 picks a free port.

    With reset (the default) the database starts fresh from `seed`; without, existing data is
    kept and the seed is applied only to an empty database.
    """
    app = App(db_path, time_scale=time_scale, limits=limits)
    if reset or app.is_empty():
        app.reset(seed, orders)
    server = SandboxServer((host, port), app)
    thread = threading.Thread(target=server.serve_forever, name="sandbox-http", daemon=True)
    thread.start()
    return Sandbox(app, server, thread)

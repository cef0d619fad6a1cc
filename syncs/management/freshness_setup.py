"""The set-up of `manage.py bench_freshness`: its two brands, made afresh on their sandbox
accounts, and brand A brought in sync before anything is measured. Tools only (it connects
brands to the sandbox)."""

from __future__ import annotations

import time

from django.core.management.base import CommandError
from django.db import connection

from brands.models import Brand
from connectors.models import Connection, RateBudget
from connectors.sandbox.connect import connect_to_sandbox
from syncs.flows import ometria
from syncs.management.processes import SandboxProcess
from syncs.mappings import brightpearl_statuses, mapping_seed_defaults
from syncs.models import RunState
from syncs.services import flow_configure, flow_run_now
from syncs.webhooks import webhooks_register

FLOWS = [flow.code for flow in ometria.FLOWS]
# Console brand slug, name and the sandbox brand key of its accounts.
BRAND_A = ("fresh-a", "Fresh A", "demo")
BRAND_B = ("fresh-b", "Fresh B", "second")
UNLIMITED = {"rate_limit": 1_000_000, "rate_window_seconds": 1}


def brand_afresh(spec: tuple[str, str, str], discovery: dict) -> Brand:
    """A brand made afresh on its sandbox accounts: the four Brightpearl → Ometria flows on
    (without schedules: every bulk run is one the command queues), statuses mapped from the
    agency's template, webhooks registered."""
    slug, name, account = spec
    delete_brand(slug)
    brand = Brand.objects.create(name=name, slug=slug)
    connect_to_sandbox(brand, discovery, account=account)
    mapping_seed_defaults(brand=brand, statuses=brightpearl_statuses(brand=brand, refresh=True))
    for code in FLOWS:
        flow_configure(brand=brand, flow=code, enabled=True, schedule_minutes=0)
    if not webhooks_register(brand=brand):
        raise CommandError(f"No webhook was registered for {name}.")
    return brand


def first_sync(spec: tuple[str, str, str], sandbox: SandboxProcess, config: dict) -> Brand:
    """A brand made and brought in sync (its four flows in full, in this process), so that
    Ometria holds its orders before anything is measured. A preparation, not a figure: the
    vendors' limits are lifted for it (time scale 60, no limits: every window it opens lasts
    a second), then put back as `config` had them, with the brand's budgets started afresh."""
    sandbox.post("config", {"time_scale": 60, "limits": dict.fromkeys(config["limits"], 0)})
    brand = brand_afresh(spec, sandbox.discovery)
    connections = list(Connection.objects.filter(brand=brand))
    for conn in connections:
        conn.settings = {**conn.settings, **UNLIMITED}
        conn.save()
    for code in FLOWS:
        run = flow_run_now(brand=brand, flow=code, full=True)
        if run.state not in (RunState.SUCCEEDED, RunState.PARTIAL):
            raise CommandError(f"{brand.name}'s first {code} run {run.state}: {run.error}")
    for conn in connections:
        conn.settings = {k: v for k, v in conn.settings.items() if k not in UNLIMITED}
        conn.save()
    RateBudget.objects.filter(brand=brand).delete()
    sandbox.post("config", {"time_scale": config["time_scale"], "limits": config["limits"]})
    # Every window opened at time scale 60 lasts a second at most: let them close.
    time.sleep(1.5)
    return brand


def delete_brand(slug: str) -> None:
    """Delete a brand and everything of it. Django deletes every dependent row itself
    (CASCADE), so SQLite's own foreign-key check is switched off meanwhile: with no index on
    a record state's link, it scanned every record state for each link deleted, and deleting
    a brand with 10,000 synced orders took 90 s instead of a second. The check after proves
    nothing was left pointing nowhere."""
    with connection.constraint_checks_disabled():
        Brand.objects.filter(slug=slug).delete()
    connection.check_constraints()

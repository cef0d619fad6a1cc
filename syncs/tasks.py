"""django-q2 tasks: thin, they take ids and call a service. Never credentials."""

from __future__ import annotations

from syncs import services, sweeper, vendor_lists, webhook_sources, webhooks


def run_flow(run_id: int) -> str:
    run = services.flow_run(run_id=int(run_id), sliced=True)
    return f"run {run_id}: {run.state if run else 'already claimed'}"


def scheduled_run(config_id: int) -> str:
    run = services.flow_scheduled(config_id=int(config_id))
    return f"config {config_id}: {run.state if run else 'off'}"


def drain_webhooks(connection_id: int) -> str:
    runs = webhooks.webhooks_drain(connection_id=int(connection_id))
    return f"connection {connection_id}: {len(runs)} run(s)"


def vendor_list_read(brand_id: int, key: str) -> str:
    vendor_lists.vendor_list_read(brand_id=int(brand_id), key=str(key))
    return f"brand {brand_id}: {key} read"


def sweep() -> dict:
    report = sweeper.runs_sweep()
    report["webhook_sources"] = webhook_sources.webhook_sources_review()
    return report

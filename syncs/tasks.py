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


def catalogue_audits() -> str:
    """The weekly catalogue audit: one task per brand with a storefront and Brightpearl."""
    from django_q.tasks import async_task

    from syncs.flows.bigcommerce.catalogue_audit import catalogue_audit_brand_ids

    ids = catalogue_audit_brand_ids()
    for brand_id in ids:
        async_task("syncs.tasks.catalogue_audit_run", brand_id)
    return f"{len(ids)} brand(s) queued"


def catalogue_audit_run(brand_id: int) -> str:
    from syncs.flows.bigcommerce.catalogue_audit import catalogue_audit

    report = catalogue_audit(brand_id=int(brand_id))
    return (
        f"brand {brand_id}: {len(report['only_in_bigcommerce'])} only in BigCommerce, "
        f"{len(report['only_in_brightpearl'])} only in Brightpearl"
    )

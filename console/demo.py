"""The demo brand and its people. Used only by `manage.py demo` (and the tests of it), so it
may use the sandbox: no production code path comes here."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from brands.models import Brand, Membership, Team
from connectors.sandbox.connect import connect_to_sandbox

DEMO_PASSWORD = "demo"
DEMO_USERS: dict[str, list[str]] = {
    "admin": [Team.ADMIN],
    "ops": [Team.OPERATIONS],
    "marketing": [Team.MARKETING],
    "finance": [Team.FINANCE],
}


@transaction.atomic
def demo_setup() -> Brand:
    """Create (or bring back) the demo brand and its users. Safe to run again."""
    brand, _ = Brand.objects.update_or_create(
        slug="demo",
        defaults={"name": "Demo Outfitters", "timezone": "Europe/London", "active": True},
    )
    User = get_user_model()
    for username, teams in DEMO_USERS.items():
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"email": f"{username}@demo.example", "first_name": username.title()},
        )
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
        if username == "admin":
            user.is_staff = user.is_superuser = True
        user.save()
        for team in teams:
            Membership.objects.get_or_create(user=user, brand=brand, team=team)
    return brand


def demo_go_live(brand: Brand, discovery: dict) -> None:
    """Connect the demo brand to the sandbox, map its statuses, switch its flows on, register
    its webhooks and queue a first full sync (only the first time)."""
    from syncs.flows import REGISTRY
    from syncs.mappings import brightpearl_statuses, mapping_seed_defaults
    from syncs.models import SyncRun
    from syncs.services import flow_configure, flow_enqueue
    from syncs.webhooks import webhooks_register

    connect_to_sandbox(brand, discovery)
    mapping_seed_defaults(brand=brand, statuses=brightpearl_statuses(brand=brand, refresh=True))
    _demo_value_maps(brand)
    for code, cls in REGISTRY.items():
        flow_configure(
            brand=brand, flow=code, enabled=True, schedule_minutes=cls.default_schedule_minutes
        )
    webhooks_register(brand=brand)
    if not SyncRun.objects.filter(brand=brand).exists():
        for code in REGISTRY:
            flow_enqueue(brand_id=brand.pk, flow=code, trigger="manual", full=True)


# The storefront pair's statuses for the demo: the usual ones mapped, the rest (cancelled,
# refunded, disputed…) left for someone to map, so the demo shows their tickets.
# Brightpearl sales-order status → BigCommerce status (ids from both vendors' docs).
BP_TO_BC = {
    "1": "1", "2": "11", "3": "11", "20": "7", "21": "9", "22": "3", "23": "2",
    "4": "10", "26": "10", "5": "5", "24": "12",
}  # fmt: skip
DEMO_VALUE_MAPS = {
    "bc_order_status": {s: "2" for s in ("1", "2", "3", "7", "8", "9", "10", "11")},
    "bp_order_status_to_bc": BP_TO_BC,
}


def _demo_value_maps(brand: Brand) -> None:
    """Map the demo brand's storefront statuses once, as the agency's template would."""
    from syncs.mappings import value_map_save
    from syncs.models import ChangeVia, ValueMap
    from syncs.valuemaps.changes import ValueChange

    changes = [
        ValueChange(kind=kind, source_value=source, target_value=target)
        for kind, values in DEMO_VALUE_MAPS.items()
        if not ValueMap.objects.filter(brand=brand, kind=kind).exists()
        for source, target in values.items()
    ]
    if changes:
        value_map_save(
            brand=brand,
            changes=changes,
            via=ChangeVia.TEMPLATE,
            note="The demo's storefront statuses.",
            check_lists=False,
        )

"""The demo brands and their people. Used only by `manage.py demo` (and the tests of it), so it
may use the sandbox: no production code path comes here.

Two brands, so every team has work to show and one brand is degraded:
- **Demo Outfitters** (the sandbox's `demo` account) goes live on the sandbox's demo data and
  scenes (console/demo_scenes.py); its flows meet an unmapped Brightpearl status (marketing),
  a storefront SKU Brightpearl does not know and two contacts sharing an e-mail (operations),
  storefront orders whose goods differ from Brightpearl's copy (finance), and a storefront
  status nobody mapped and a contact Ometria refuses after accepting it (ecommerce).
- **Northfield Home** (the sandbox's `second` account) has a small Brightpearl allowance, so
  its runs wait on the vendor's throttle: a throttled vendor, a degraded brand.
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.db import transaction

from brands.models import Brand, Membership, Team
from connectors.errors import ConnectorError
from connectors.sandbox.connect import connect_to_sandbox
from console.demo_salesforce import salesforce_catalog_stage
from console.demo_scenes import brightpearl_allowance_set, storefront_scenes_stage

logger = logging.getLogger("console")

DEMO_PASSWORD = "demo"
# Each demo user's teams at Demo Outfitters.
DEMO_USERS: dict[str, list[str]] = {
    "admin": [Team.ADMIN],
    "ops": [Team.OPERATIONS],
    "marketing": [Team.MARKETING],
    "finance": [Team.FINANCE],
    "ecommerce": [Team.ECOMMERCE],
}
# The degraded brand, its sandbox account and the people who watch it.
DEGRADED = {"slug": "northfield", "name": "Northfield Home", "account": "second"}
DEGRADED_USERS: dict[str, list[str]] = {"admin": [Team.ADMIN], "ops": [Team.OPERATIONS]}
# Requests a minute the sandbox allows Northfield's Brightpearl account (200 for every other):
# enough to sync its small data, little enough that its runs wait on the throttle.
DEGRADED_ALLOWANCE = 8
# Demo Outfitters has no customer service team: its ops team merges duplicate contacts. A
# brand's own choice of team, as the agency would make it in the admin.
DEMO_TEAM_CHOICES = {"duplicate_contact": Team.OPERATIONS}


@transaction.atomic
def demo_setup() -> Brand:
    """Create (or bring back) the demo brands and their users. Safe to run again. Returns
    Demo Outfitters."""
    brand, _ = Brand.objects.update_or_create(
        slug="demo",
        defaults={"name": "Demo Outfitters", "timezone": "Europe/London", "active": True},
    )
    degraded, _ = Brand.objects.update_or_create(
        slug=DEGRADED["slug"],
        defaults={"name": DEGRADED["name"], "timezone": "Europe/London", "active": True},
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
        for team in DEGRADED_USERS.get(username, []):
            Membership.objects.get_or_create(user=user, brand=degraded, team=team)
    _team_choices(brand)
    return brand


def _team_choices(brand: Brand) -> None:
    from exceptions.models import ExceptionType, TeamOverride

    for code, team in DEMO_TEAM_CHOICES.items():
        ex_type = ExceptionType.objects.filter(code=code).first()
        if ex_type is not None:
            TeamOverride.objects.get_or_create(
                brand=brand, exception_type=ex_type, defaults={"team": team}
            )


def demo_go_live(brand: Brand, discovery: dict) -> list[str]:
    """Stage the demo's scenes at the vendors, then connect the demo brand to the sandbox, map
    its statuses, switch its flows on, register its webhooks and queue a first full sync (only
    the first time). Then the same for the degraded brand, on its small allowance. Returns
    what was staged, in words."""
    # Before the first sync (and before the webhooks), so that sync meets them.
    staged = storefront_scenes_stage(discovery)
    _go_live(brand, discovery, account="demo")
    # After the go-live (which sets up the org's catalogue, where a brand has one), before
    # the first sync runs: sales' customers and orders, for the flows back to Brightpearl.
    from console.demo_salesforce_in import salesforce_scenes_stage

    staged += salesforce_scenes_stage(discovery["sandbox"]["control"])
    degraded = Brand.objects.get(slug=DEGRADED["slug"])
    _go_live(degraded, discovery, account=DEGRADED["account"])
    # After its go-live's own calls (statuses, webhooks), so only its runs wait.
    brightpearl_allowance_set(discovery, DEGRADED["account"], DEGRADED_ALLOWANCE)
    return [
        *staged,
        f"{degraded.name}'s Brightpearl allows {DEGRADED_ALLOWANCE} requests a minute",
    ]


def _go_live(brand: Brand, discovery: dict, *, account: str) -> None:
    from syncs.flows import REGISTRY
    from syncs.flows.mailchimp.defaults import mailchimp_defaults_seed
    from syncs.mappings import brightpearl_statuses, mapping_seed_defaults
    from syncs.models import SyncRun
    from syncs.services import flow_configure, flow_enqueue
    from syncs.webhooks import webhooks_register

    connect_to_sandbox(brand, discovery, account=account)
    # Before the orders flow's first run: the products and prices it looks orders up by.
    salesforce_catalog_stage(discovery, brand, account)
    mapping_seed_defaults(
        brand=brand, statuses=brightpearl_statuses(brand=brand, refresh=True, wait=True)
    )
    _demo_value_maps(brand)
    # The Mailchimp audience: onboarding's short default list, so purchases and contacts flow
    # (the seed's unsubscribed and cleaned members reach Brightpearl by the consent sweep).
    mailchimp_defaults_seed(brand=brand)
    for code, cls in REGISTRY.items():
        flow_configure(
            brand=brand, flow=code, enabled=True, schedule_minutes=cls.default_schedule_minutes
        )
    try:
        webhooks_register(brand=brand)
    except ConnectorError as exc:
        # Mailchimp checks the console's address with a GET before it takes a hook; a demo
        # console it cannot reach still goes live (the consent sweep finds what a hook brings).
        logger.warning("demo %s: webhooks not all registered: %s", brand, exc)
    if not SyncRun.objects.filter(brand=brand).exists():
        for code in REGISTRY:
            flow_enqueue(brand_id=brand.pk, flow=code, trigger="manual", full=True)
        _first_catalogue_audit(brand)


def _first_catalogue_audit(brand: Brand) -> None:
    """The weekly catalogue audit, once now, so the demo's catalogue page shows its gaps."""
    from django_q.tasks import async_task

    from syncs.flows.bigcommerce.catalogue_audit import catalogue_audit_brand_ids

    if brand.pk in catalogue_audit_brand_ids():
        async_task("syncs.tasks.catalogue_audit_run", brand.pk)


# The storefront pair's statuses for the demo: the usual ones mapped, the rest (cancelled,
# refunded, disputed, awaiting a fraud check…) left for someone to map, so the demo shows their
# tickets. Brightpearl sales-order status → BigCommerce status (ids from both vendors' docs).
BP_TO_BC = {
    "1": "1", "2": "11", "3": "11", "20": "7", "21": "9", "22": "3", "23": "2",
    "4": "10", "26": "10", "5": "5", "24": "12",
}  # fmt: skip
DEMO_VALUE_MAPS = {
    "bc_order_status": {s: "2" for s in ("1", "2", "3", "7", "8", "9", "10", "11")},
    "bp_order_status_to_bc": BP_TO_BC,
    # Both demo warehouses sell through the store's default location (stock out).
    "bp_warehouse": {"1": "1", "2": "1"},
    # Shipments go by Royal Mail; a storefront cancellation cancels in Brightpearl (5).
    "bp_shipping_method": {"1": "royalmail"},
    "bc_cancellation": {"5": "5"},
    # Brightpearl customer groups (retail, wholesale) → Salesforce Account Types.
    "bp_customer_group": {"1": "Customer - Direct", "2": "Customer - Channel"},
    # Storefront prices from the seed's price lists: Retail (1), Sale (3), RRP (2) as MSRP.
    "bc_price_list": {"price": "1", "sale_price": "3", "retail_price": "2"},
    # Brightpearl order statuses → Salesforce Order.Status (the org's picklist: Draft and
    # Activated, and the values it added, as the seed page's "Partially Fulfilled").
    "bp_order_status_to_sf": {
        "1": "Draft",
        "2": "Draft",
        "3": "Activated",
        "20": "Activated",
        "21": "Activated",
        "22": "Partially Fulfilled",
        "23": "Fulfilled",
        "4": "Fulfilled",
        "26": "Fulfilled",
        "5": "Cancelled",
        "24": "Draft",
    },
}
# Payment methods with their nominal codes; the seed's Klarna is left for finance to map.
DEMO_PAYMENT_METHODS = {"Stripe": ("STRIPE", "1220"), "PayPal": ("PAYPAL", "1230")}


def _demo_value_maps(brand: Brand) -> None:
    """Map the demo brand's storefront statuses and customer groups once, as the agency's
    template would."""
    from syncs.mappings import value_map_save
    from syncs.models import ChangeVia, ValueMap
    from syncs.valuemaps.changes import ValueChange

    changes = [
        ValueChange(kind=kind, source_value=source, target_value=target)
        for kind, values in DEMO_VALUE_MAPS.items()
        if not ValueMap.objects.filter(brand=brand, kind=kind).exists()
        for source, target in values.items()
    ]
    if not ValueMap.objects.filter(brand=brand, kind="bc_payment_method").exists():
        changes += [
            ValueChange(
                kind="bc_payment_method",
                source_value=method,
                target_value=code,
                extra={"nominal_code": nominal},
            )
            for method, (code, nominal) in DEMO_PAYMENT_METHODS.items()
        ]
    if changes:
        value_map_save(
            brand=brand,
            changes=changes,
            via=ChangeVia.TEMPLATE,
            note="The demo's storefront statuses.",
            check_lists=False,
        )

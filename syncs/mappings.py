"""Services for a brand's mappings: live status list, defaults from the agency's template."""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction

from connectors.models import Connection
from connectors.vendors import connector_for
from console.audit import audit
from console.models import Brand
from syncs.models import AttributeMapping, AttributeSource, DefaultStatusMapping, StatusMapping

STATUS_CACHE_SECONDS = 600

# A new brand's attribute mappings: loyalty tiers, VIP and the wholesale/retail split.
DEFAULT_ATTRIBUTES = [
    ("Loyalty: Gold", "loyalty_tier", "Gold", ""),
    ("Loyalty: Silver", "loyalty_tier", "Silver", ""),
    ("Loyalty: Bronze", "loyalty_tier", "Bronze", ""),
    ("VIP", "vip", "true", "false"),
    ("Wholesale", "customer_type", "wholesale", "retail"),
]


def brightpearl_statuses(*, brand: Brand, refresh: bool = False) -> list[dict]:
    """The brand's sales-order statuses, fetched live from its Brightpearl and cached."""
    key = f"bp-statuses:{brand.pk}"
    statuses = None if refresh else cache.get(key)
    if statuses is None:
        connection = Connection.objects.get(brand=brand, system="brightpearl")
        with connector_for(connection, priority=True) as bp:
            statuses = [
                {
                    "id": int(s["statusId"]),
                    "name": s["name"],
                    "sort": s.get("sortOrder", 0),
                    "disabled": bool(s.get("disabled")),
                }
                for s in bp.order_statuses()
                if s.get("orderTypeCode", "SO") == "SO"
            ]
        statuses.sort(key=lambda s: (s["sort"], s["name"].lower()))
        cache.set(key, statuses, STATUS_CACHE_SECONDS)
    return statuses


@transaction.atomic
def mapping_seed_defaults(
    *, brand: Brand, statuses: list[dict], actor=None
) -> tuple[int, list[dict]]:
    """Map each status the template knows by name; never overwrite a mapping someone made.

    Returns how many were created, and the statuses the template does not know (they stay
    unmapped, so their orders wait with a ticket instead of being guessed).
    """
    template = {d.bp_status_name.strip().lower(): d for d in DefaultStatusMapping.objects.all()}
    existing = set(StatusMapping.objects.filter(brand=brand).values_list("bp_status_id", flat=True))
    created, unknown = 0, []
    for status in statuses:
        if status["id"] in existing:
            continue
        default = template.get(status["name"].strip().lower())
        if default is None:
            unknown.append(status)
            continue
        StatusMapping.objects.create(
            brand=brand,
            bp_status_id=status["id"],
            bp_status_name=status["name"],
            ometria_status=default.ometria_status,
            lifecycle_stage=default.lifecycle_stage,
            updated_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        created += 1
    for tag, attribute, value, absent in DEFAULT_ATTRIBUTES:
        AttributeMapping.objects.get_or_create(
            brand=brand,
            source=AttributeSource.TAG,
            source_name=tag,
            defaults={"ometria_attribute": attribute, "value": value, "absent_value": absent},
        )
    audit(
        "mappings.seeded",
        brand=brand,
        actor=actor,
        target=brand,
        summary=f"{created} status mappings from the template; {len(unknown)} unknown: "
        + ", ".join(s["name"] for s in unknown),
    )
    return created, unknown

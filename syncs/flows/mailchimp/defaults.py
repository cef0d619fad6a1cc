"""What onboarding offers a brand with a Mailchimp audience: a short list, nothing "just in
case" (the seed's "unselective custom field synchronisation" failure).

- names as merge fields (FNAME, LNAME, Mailchimp's own defaults);
- the Retail customer group in the audience with the tag "Retail", Wholesale never in it.

Only values the brand has not mapped yet are added, through value_map_save (recorded,
audited, with history and revert); marketing changes them on the value maps page.
"""

from __future__ import annotations

from brands.models import Brand
from connectors.models import Connection
from syncs.flows.mailchimp.maps import (
    BP_CONTACT_ATTRIBUTE,
    BP_CUSTOMER_GROUP_TO_MC,
    DEFAULT_FIELDS,
    DEFAULT_GROUPS,
)
from syncs.models import ValueMap


def mailchimp_defaults_seed(*, brand: Brand, actor=None, via: str = "onboarding") -> int:
    """Offer the default field and group maps to a brand with a Mailchimp connection.
    Returns how many values were added."""
    from syncs.mappings import value_map_save
    from syncs.valuemaps.changes import ValueChange

    if not Connection.objects.filter(brand=brand, system="mailchimp").exists():
        return 0
    have = set(
        ValueMap.objects.filter(
            brand=brand, kind__in=[BP_CONTACT_ATTRIBUTE.code, BP_CUSTOMER_GROUP_TO_MC.code]
        ).values_list("kind", "source_value")
    )
    changes = [
        ValueChange(BP_CONTACT_ATTRIBUTE.code, source, target_value=target, extra={"as": kind})
        for source, target, kind in DEFAULT_FIELDS
        if (BP_CONTACT_ATTRIBUTE.code, source) not in have
    ] + [
        ValueChange(
            BP_CUSTOMER_GROUP_TO_MC.code, group, target_value=tag, extra={"audience": audience}
        )
        for group, tag, audience in DEFAULT_GROUPS
        if (BP_CUSTOMER_GROUP_TO_MC.code, group) not in have
    ]
    if changes:
        value_map_save(
            brand=brand,
            changes=changes,
            actor=actor,
            via=via,
            note="Onboarding's short default list for Mailchimp.",
            check_lists=False,
        )
    return len(changes)

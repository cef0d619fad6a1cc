"""Every kind of value map, collected from the pair packages' maps modules.

One line per maps module in MAPS. Not the flow registry (syncs/flows/__init__.py): a pair
may declare its maps before its flows exist.
"""

from __future__ import annotations

import importlib
import re
from functools import cache

from brands.models import Brand
from connectors.models import Connection
from syncs.valuemaps.kinds import ValueKind

# One line per pair package that declares value maps.
MAPS = (
    "syncs.flows.bigcommerce.maps",
    "syncs.flows.salesforce.maps",
    "syncs.flows.mailchimp.maps",
)


CODE = re.compile(r"[a-z][a-z0-9_]{0,49}")


@cache
def kinds() -> dict[str, ValueKind]:
    """Every kind by its code, in the order the maps modules declare them. Read on first
    use, so that a maps module may import what imports this module."""
    found: dict[str, ValueKind] = {}
    for name in MAPS:
        for kind in importlib.import_module(name).KINDS:
            if kind.code in found:
                raise ValueError(f"Two value maps are called “{kind.code}” ({name}).")
            if not CODE.fullmatch(kind.code) or "__" in kind.code:
                # The code is a URL part, a JSON key in record states and a match key.
                raise ValueError(
                    f"“{kind.code}” ({name}) is not a value map code: use lowercase letters, "
                    "digits and single underscores, at most 50."
                )
            found[kind.code] = kind
    return found


def get_kind(code: str) -> ValueKind:
    try:
        return kinds()[code]
    except KeyError:
        raise ValueError(
            f"There is no kind of value map called “{code}”. Kinds: {', '.join(kinds())}."
        ) from None


def is_kind(code: str) -> bool:
    return code in kinds()


def kinds_for_brand(brand: Brand) -> list[ValueKind]:
    """The kinds whose two systems the brand is connected to, in the registry's order."""
    systems = set(Connection.objects.filter(brand=brand).values_list("system", flat=True))
    return [k for k in kinds().values() if {k.source_system, k.target_system} <= systems]


def kind_choices() -> list[tuple[str, str]]:
    return [(code, kind.label) for code, kind in kinds().items()]

"""The flow registry: a pair of systems is one package here (syncs/flows/<pair>/) and one
line in PAIRS."""

from __future__ import annotations

from syncs.flows import bigcommerce, mailchimp, ometria, salesforce
from syncs.flows.base import Flow

# One line per pair of systems.
PAIRS = (ometria, bigcommerce, mailchimp, salesforce)

REGISTRY: dict[str, type[Flow]] = {cls.code: cls for pair in PAIRS for cls in pair.FLOWS}


def get_flow(code: str) -> Flow:
    try:
        return REGISTRY[code]()
    except KeyError:
        raise ValueError(
            f"There is no flow called “{code}”. Flows: {', '.join(REGISTRY)}."
        ) from None


def flow_label(code: str) -> str:
    cls = REGISTRY.get(code)
    return cls.label if cls else code


def flow_choices() -> list[tuple[str, str]]:
    return [(code, cls.label) for code, cls in REGISTRY.items()]

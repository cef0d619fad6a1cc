"""Onboarding, step 1's second half: which systems the brand uses. Chosen first, so that
step 2 asks only for those systems' credentials and step 5 offers only the flows between
them. A brand with BigCommerce and Brightpearl is never asked about Ometria."""

from __future__ import annotations

from django import forms
from django.db import transaction

from brands.audit import audit
from connectors.models import Connection
from connectors.registry import REGISTRY as VENDORS
from console.models import Onboarding
from console.onboarding import (
    REQUIRED_SYSTEMS,
    SYSTEMS,
    OnboardingError,
    chosen_systems,
    offered_flows,
)
from syncs.flows import REGISTRY as FLOWS


def _what_flows(system: str) -> str:
    """The flows a system takes part in, in words, so the choice says what it brings."""
    labels = [cls.label for cls in FLOWS.values() if system in (cls.source, cls.target)]
    return "; ".join(labels) if labels else "no flow yet"


class SystemsForm(forms.Form):
    """The systems besides Brightpearl (every brand has Brightpearl: it is not a choice)."""

    systems = forms.MultipleChoiceField(
        label="The systems the brand uses besides Brightpearl",
        widget=forms.CheckboxSelectMultiple,
        help_text="Brightpearl is always used. Only the systems ticked here are asked for "
        "credentials, and only the flows between them are offered.",
        error_messages={
            "required": "Tick at least one system besides Brightpearl: Brightpearl alone "
            "has nothing to sync with.",
        },
    )

    def __init__(self, *args, onboarding: Onboarding | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["systems"].choices = [
            (s, f"{VENDORS[s].label} ({_what_flows(s)})")
            for s in SYSTEMS
            if s not in REQUIRED_SYSTEMS
        ]
        if onboarding is not None:
            self.initial["systems"] = [
                s for s in chosen_systems(onboarding) if s not in REQUIRED_SYSTEMS
            ]


def onboarding_choose_systems(*, onboarding: Onboarding, systems: list[str], actor=None) -> str:
    """Record the systems the brand uses. Returns "updated" or "unchanged".

    Before going live, a system no longer chosen loses its saved connection (audited) and
    its flows are dropped from the choices. A live brand's syncs run on its connections: a
    system with a saved connection cannot be dropped here (the admin removes it, after
    switching off its flows), but a new one can be added.
    """
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        raise OnboardingError(
            f"{', '.join(unknown)} is not a system the console knows. Systems: "
            + ", ".join(SYSTEMS)
            + "."
        )
    new = [s for s in SYSTEMS if s in systems or s in REQUIRED_SYSTEMS]
    before = chosen_systems(onboarding)
    if new == before and "chosen" in onboarding.data:
        return "unchanged"
    dropped = [s for s in before if s not in new]
    brand = onboarding.brand
    with transaction.atomic():
        saved = Connection.objects.filter(brand=brand, system__in=dropped)
        if onboarding.is_live and saved.exists():
            names = " and ".join(VENDORS[c.system].label for c in saved)
            raise OnboardingError(
                f"{brand} is live and its {names} connection is saved: switch off the flows "
                "that use it, then remove the connection in the agency admin."
            )
        for connection in saved:
            label = VENDORS[connection.system].label
            connection.delete()
            audit(
                "connection.removed",
                brand=brand,
                actor=actor,
                target=f"{brand} → {label}",
                summary="Not used by this brand (unticked at step 1 of onboarding).",
            )
        states = {**onboarding.data.get("systems", {})}
        for system in SYSTEMS:
            if system not in new:
                states[system] = "unused"
            elif states.get(system) == "unused":
                states.pop(system)
        onboarding.data = {**onboarding.data, "chosen": new, "systems": states}
        # A flow between systems the brand no longer uses is no longer a choice.
        if "flows" in onboarding.data:
            offered = offered_flows(onboarding)
            onboarding.data["flows"] = {
                code: choice for code, choice in onboarding.data["flows"].items() if code in offered
            }
        added = [s for s in new if s not in before]
        if added and onboarding.step > 2 and not onboarding.is_live:
            # A new system's credentials are owed before anything after step 2.
            onboarding.step = 2
        onboarding.save(update_fields=["data", "step", "updated"])
        audit(
            "onboarding.systems_chosen",
            brand=brand,
            actor=actor,
            target=brand,
            summary=f"{brand} uses {', '.join(VENDORS[s].label for s in new)}"
            + (f"; no longer {', '.join(VENDORS[s].label for s in dropped)}" if dropped else "")
            + ".",
            systems=new,
        )
    return "updated"

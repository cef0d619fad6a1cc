"""Onboarding a brand: the steps of the wizard as named services, and `brand_onboard`, which
runs them all from a file (`manage.py onboard_brand`). The wizard's views and the command
call the same functions, so the same rules hold whoever onboards.

The wizard's place is an `Onboarding` row: the brand (created inactive at step 1), the
furthest step reached and what each step chose or found, never a secret. Credentials go
straight to the brand's `Connection`, encrypted. Every step can be done again: it updates
what it made before instead of making it twice, and a step that changes nothing writes
nothing, so a file onboarded twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import transaction

from brands.audit import audit
from brands.models import Brand, is_brand_admin
from connectors.errors import ConnectorError
from connectors.models import Connection, Health
from connectors.registry import REGISTRY as VENDORS
from connectors.services import connection_test
from console.models import Onboarding
from syncs.flows import REGISTRY as FLOWS
from syncs.flows.mailchimp.checks import consent_fields_check
from syncs.flows.mailchimp.defaults import mailchimp_defaults_seed
from syncs.mappings import brightpearl_statuses, mapping_seed_defaults
from syncs.models import ChangeVia, StatusMapping

STEPS: list[tuple[int, str, str]] = [
    (1, "brand", "Name the brand and its systems"),
    (2, "connections", "Connections"),
    (3, "test", "Test the connections"),
    (4, "mappings", "Statuses and mappings"),
    (5, "flows", "Flows and schedules"),
    (6, "review", "Review"),
    (7, "live", "Go live"),
]
STEP_NAMES = {number: name for number, name, _ in STEPS}
# Brightpearl first: it is the source of everything, and the mapping step reads it.
SYSTEMS = ("brightpearl", "ometria", "mailchimp", "bigcommerce", "salesforce")
REQUIRED_SYSTEMS = ("brightpearl",)
MAX_SCHEDULE_MINUTES = 24 * 60
# The systems that have status mappings (Brightpearl status → Ometria order status and stage):
# step 4 has work to do only for a brand that uses one of them.
STATUS_MAPPED_SYSTEMS = ("ometria",)


def chosen_systems(onboarding: Onboarding) -> list[str]:
    """The systems the brand uses, in SYSTEMS order, Brightpearl always among them.

    Chosen at step 1 (`data["chosen"]`). An onboarding from before that choice existed, or
    one made by `manage.py onboard_brand`, says it by marking the others "unused" instead.
    """
    chosen = onboarding.data.get("chosen")
    if chosen is None:
        states = onboarding.data.get("systems", {})
        chosen = [s for s in SYSTEMS if states.get(s) != "unused"]
    return [s for s in SYSTEMS if s in chosen or s in REQUIRED_SYSTEMS]


def needs_status_mappings(onboarding: Onboarding) -> bool:
    return any(s in STATUS_MAPPED_SYSTEMS for s in chosen_systems(onboarding))


class OnboardingError(Exception):
    """A step that cannot go on, with what to fix. `errors` maps a field to its messages."""

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


def _advance(onboarding: Onboarding, to_step: int, **data: Any) -> None:
    """Record a finished step (and what it found). Writes only if something changed."""
    new_data = {**onboarding.data, **data}
    step = max(onboarding.step, to_step)
    if new_data != onboarding.data or step != onboarding.step:
        onboarding.data = new_data
        onboarding.step = step
        onboarding.save(update_fields=["data", "step", "updated"])


# --- step 1: name the brand ---------------------------------------------
class BrandForm(forms.ModelForm):
    class Meta:
        model = Brand
        fields = ["name", "slug", "timezone"]
        labels = {"name": "Brand name", "slug": "Short name", "timezone": "Time zone"}
        help_texts = {
            "name": "As the brand's people know it, e.g. Acme Apparel.",
            "slug": "Lower-case letters, digits and hyphens, used in addresses and commands "
            "(e.g. acme).",
            "timezone": "The brand's local time, for schedules and digests (e.g. Europe/London).",
        }
        error_messages = {
            "name": {"unique": "A brand with this name already exists: choose another name."},
            "slug": {
                "unique": "Another brand already uses this short name: choose another.",
                "invalid": "Use only lower-case letters, digits and hyphens, e.g. acme-apparel.",
            },
        }

    def clean_slug(self) -> str:
        return self.cleaned_data["slug"].lower()


def onboarding_name_brand(
    *,
    onboarding: Onboarding | None,
    name: str,
    slug: str,
    timezone_name: str,
    actor=None,
) -> tuple[Onboarding, str]:
    """Step 1. Create the brand (inactive until it goes live) and its onboarding, or rename
    it. Returns the onboarding and "created", "updated" or "unchanged"."""
    with transaction.atomic():
        if onboarding is None:
            brand = Brand.objects.create(name=name, slug=slug, timezone=timezone_name, active=False)
            onboarding = Onboarding.objects.create(
                brand=brand, step=2, started_by=actor if _person(actor) else None
            )
            audit(
                "onboarding.started",
                brand=brand,
                actor=actor,
                target=brand,
                summary=f"Onboarding of {name} ({slug}, {timezone_name}) started.",
            )
            return onboarding, "created"
        # From the database: a bound form has already written the new values onto the
        # instance it validated.
        brand = Brand.objects.select_for_update().get(pk=onboarding.brand_id)
        onboarding.brand = brand
        before = (brand.name, brand.slug, brand.timezone)
        if before == (name, slug, timezone_name):
            _advance(onboarding, 2)
            return onboarding, "unchanged"
        brand.name, brand.slug, brand.timezone = name, slug, timezone_name
        brand.save(update_fields=["name", "slug", "timezone"])
        audit(
            "onboarding.brand_changed",
            brand=brand,
            actor=actor,
            target=brand,
            summary=f"Was {before[0]} ({before[1]}, {before[2]}); "
            f"now {name} ({slug}, {timezone_name}).",
        )
        _advance(onboarding, 2)
        return onboarding, "updated"


def _person(actor) -> bool:
    return bool(getattr(actor, "is_authenticated", False))


# --- step 2: credentials ---------------------------------------------
class CredentialsLocked(PermissionDenied):
    """A live brand's credentials, and someone who is not its admin trying to change them."""


def may_change_credentials(*, onboarding: Onboarding, actor=None) -> bool:
    """Until a brand goes live, whoever onboards it sets its credentials. Once live, its
    syncs run on them: only an admin of the brand may change them. `manage.py onboard_brand`
    (no actor) is run by someone who holds the server, and is not asked."""
    if not onboarding.is_live or actor is None:
        return True
    return is_brand_admin(actor, onboarding.brand)


def onboarding_credentials_refused(*, onboarding: Onboarding, actor) -> None:
    """Record that someone who may not tried to change a live brand's connections."""
    audit(
        "connection.change_refused",
        brand=onboarding.brand,
        actor=actor,
        target=onboarding.brand,
        summary=f"{getattr(actor, 'username', actor)} is not an admin of {onboarding.brand} "
        "and tried to change its connections in onboarding; nothing was changed.",
    )


def onboarding_connection_save(*, onboarding: Onboarding, form, actor=None) -> str:
    """Save one validated connection form. Returns "created", "updated" or "unchanged".

    A changed connection must be tested again (its health goes back to untested, and the
    wizard back to step 3 at most). Secrets are never copied anywhere but the connection.
    A live brand's connection is changed by its admins only (CredentialsLocked otherwise).
    """
    if not may_change_credentials(onboarding=onboarding, actor=actor):
        raise CredentialsLocked(f"Only an admin of {onboarding.brand} may change its connections.")
    original = Connection.objects.filter(pk=form.instance.pk).first() if form.instance.pk else None
    connection: Connection = form.save(commit=False)
    system = connection.system
    if original is not None:
        same = (
            original.base_url == connection.base_url
            and (original.settings or {}) == (connection.settings or {})
            and original.credentials == connection.credentials
        )
        if same:
            _systems(onboarding, system, "connected")
            return "unchanged"
    connection.status = Health.UNTESTED
    connection.last_error = ""
    connection.save()
    audit(
        "connection.saved",
        brand=onboarding.brand,
        actor=actor,
        target=connection,
        # What changed and which credentials were typed, never their values.
        summary=f"{connection.get_system_display()} at {connection.base_url} (onboarding): "
        f"{form.change_summary()}.",
        **form.audit_detail(),
    )
    _systems(onboarding, system, "connected")
    if onboarding.step > 3:
        onboarding.step = 3
        onboarding.save(update_fields=["step", "updated"])
    return "created" if original is None else "updated"


def onboarding_connection_unused(*, onboarding: Onboarding, system: str, actor=None) -> str:
    """Say the brand does not use a system; removes its connection while not live yet."""
    if system in REQUIRED_SYSTEMS:
        raise OnboardingError(f"Every brand needs {VENDORS[system].label}: it cannot be skipped.")
    existing = Connection.objects.filter(brand=onboarding.brand, system=system).first()
    outcome = "unchanged"
    if existing is not None:
        if onboarding.is_live:
            raise OnboardingError(
                f"{onboarding.brand} is live: remove its {VENDORS[system].label} connection "
                "in the admin, after switching off the flows that use it."
            )
        existing.delete()
        audit(
            "connection.removed",
            brand=onboarding.brand,
            actor=actor,
            target=f"{onboarding.brand} → {VENDORS[system].label}",
            summary="Not used by this brand (onboarding).",
        )
        outcome = "removed"
    _systems(onboarding, system, "unused")
    return outcome


def _systems(onboarding: Onboarding, system: str, state: str) -> None:
    systems = {**onboarding.data.get("systems", {}), system: state}
    data = {**onboarding.data, "systems": systems}
    if "chosen" in data:
        # The step-1 choice follows a connection saved or dropped another way (the command).
        chosen = [s for s in data["chosen"] if s != system]
        data["chosen"] = [*chosen, system] if state == "connected" else chosen
    if data != onboarding.data:
        onboarding.data = data
        onboarding.save(update_fields=["data", "updated"])


def connections_done(onboarding: Onboarding) -> list[str]:
    """What is still missing at step 2, in words (empty when the step is done). Only the
    systems chosen at step 1 are asked for."""
    have = set(Connection.objects.filter(brand=onboarding.brand).values_list("system", flat=True))
    missing = []
    for system in chosen_systems(onboarding):
        if system in have:
            continue
        if system in REQUIRED_SYSTEMS:
            missing.append(f"Enter the {VENDORS[system].label} connection: every brand needs it.")
        else:
            missing.append(
                f"Enter the {VENDORS[system].label} connection, or untick it at step 1 if the "
                "brand does not use it."
            )
    return missing


def onboarding_connections_done(*, onboarding: Onboarding) -> None:
    missing = connections_done(onboarding)
    if missing:
        raise OnboardingError(" ".join(missing))
    _advance(onboarding, 3)


# --- step 3: test the connections ---------------------------------------------
@dataclass
class TestResult:
    system: str
    label: str
    ok: bool
    message: str
    skipped: bool = False
    next_step: str = ""


def onboarding_test_connections(
    *, onboarding: Onboarding, actor=None, only_untested: bool = False
) -> list[TestResult]:
    """Make one cheap call with each saved connection and say, in plain English, what worked
    or what to fix. `only_untested` leaves alone a connection already working (the command
    run again)."""
    results = []
    for connection in brand_connections(onboarding):
        label = VENDORS[connection.system].label
        if only_untested and connection.status == Health.OK:
            results.append(
                TestResult(connection.system, label, True, "Working (tested before).", True)
            )
            continue
        ok, message = connection_test(connection=connection, actor=actor)
        results.append(
            TestResult(connection.system, label, ok, message, next_step=_next(label, ok))
        )
    if (consent := consent_fields_check(brand=onboarding.brand)) is not None:
        results.append(TestResult("brightpearl", "Brightpearl consent fields", **vars(consent)))
    if results and all(r.ok for r in results):
        _advance(onboarding, 4)
    return results


def _next(label: str, ok: bool) -> str:
    """What to do after a test, said every time, so a result is never a dead end."""
    if ok:
        return "Nothing to fix here."
    return (
        f"Next: correct the {label} connection at step 2 (its address, account and "
        "credentials as the vendor gave them), save, then press Test the connections again."
    )


def brand_connections(onboarding: Onboarding) -> list[Connection]:
    order = {s: i for i, s in enumerate(SYSTEMS)}
    return sorted(
        Connection.objects.filter(brand=onboarding.brand), key=lambda c: order.get(c.system, 99)
    )


def connection_problems(onboarding: Onboarding) -> list[str]:
    problems = []
    for connection in brand_connections(onboarding):
        label = VENDORS[connection.system].label
        if connection.status == Health.FAILING:
            problems.append(
                f"{label} is failing: {connection.last_error} Correct it at step 2, then test "
                "again."
            )
        elif connection.status != Health.OK:
            problems.append(f"{label} has not been tested since it was saved: test it at step 3.")
    return problems


# --- step 4: statuses and the default mapping ---------------------------------------------
@dataclass
class SeedResult:
    statuses: list[dict]
    created: int
    unknown: list[dict]


def onboarding_seed_mappings(*, onboarding: Onboarding, actor=None) -> SeedResult:
    """Read the brand's statuses from Brightpearl and map those the agency's template knows.

    Never overwrites a mapping; running it again maps only statuses that appeared since. The
    statuses the template does not know stay unmapped (their orders would wait, ticketed).
    """
    try:
        statuses = brightpearl_statuses(brand=onboarding.brand, refresh=True)
    except Connection.DoesNotExist:
        raise OnboardingError("Enter the Brightpearl connection first (step 2).") from None
    except ConnectorError as exc:
        raise OnboardingError(
            f"Brightpearl could not be read: {exc.plain} Check the connection (steps 2 and 3) "
            "and fetch again."
        ) from None
    created, _ = mapping_seed_defaults(
        brand=onboarding.brand, statuses=statuses, actor=actor, via=ChangeVia.ONBOARDING
    )
    mailchimp_defaults_seed(brand=onboarding.brand, actor=actor, via=ChangeVia.ONBOARDING)
    unknown = unmapped_statuses(onboarding, statuses)
    _advance(
        onboarding,
        5,
        statuses={
            "count": len(statuses),
            "unknown": [{"id": s["id"], "name": s["name"]} for s in unknown],
        },
    )
    return SeedResult(statuses=statuses, created=created, unknown=unknown)


def onboarding_skip_mappings(*, onboarding: Onboarding) -> None:
    """Step 4 for a brand that uses no system with status mappings (no Ometria): there is
    nothing to map, so the step is done as soon as the person goes on."""
    if needs_status_mappings(onboarding):
        raise OnboardingError(
            f"{onboarding.brand} uses Ometria: fetch the Brightpearl statuses and seed the "
            "mapping first."
        )
    _advance(onboarding, 5)


def unmapped_statuses(onboarding: Onboarding, statuses: list[dict]) -> list[dict]:
    mapped = set(
        StatusMapping.objects.filter(brand=onboarding.brand).values_list("bp_status_id", flat=True)
    )
    return [s for s in statuses if s["id"] not in mapped]


# --- step 5: flows and schedules ---------------------------------------------
def offered_flows(onboarding: Onboarding) -> dict[str, Any]:
    """The flows between systems the brand uses: the only ones step 5 shows."""
    systems = set(chosen_systems(onboarding))
    return {code: cls for code, cls in FLOWS.items() if {cls.source, cls.target} <= systems}


def flow_defaults(onboarding: Onboarding) -> dict[str, dict]:
    chosen = onboarding.data.get("flows") or {}
    have = set(Connection.objects.filter(brand=onboarding.brand).values_list("system", flat=True))
    out = {}
    for code, cls in offered_flows(onboarding).items():
        usable = {cls.source, cls.target} <= have
        out[code] = chosen.get(
            code, {"enabled": usable, "schedule_minutes": cls.default_schedule_minutes}
        )
    return out


def flows_missing_connections(onboarding: Onboarding) -> dict[str, list[str]]:
    """Each flow the brand cannot switch on yet, with the connections it lacks (their names)."""
    have = set(Connection.objects.filter(brand=onboarding.brand).values_list("system", flat=True))
    return {
        code: [VENDORS[s].label for s in (cls.source, cls.target) if s not in have]
        for code, cls in offered_flows(onboarding).items()
        if not {cls.source, cls.target} <= have
    }


def onboarding_choose_flows(
    *, onboarding: Onboarding, flows: dict[str, dict], actor=None
) -> dict[str, dict]:
    """Step 5. Which flows run and how often (0 minutes: on webhooks and by hand only), and,
    for a flow that needs something set up at its target first, whether it is."""
    have = set(Connection.objects.filter(brand=onboarding.brand).values_list("system", flat=True))
    offered = offered_flows(onboarding)
    errors: dict[str, list[str]] = {}
    chosen: dict[str, dict] = {}
    for code, choice in flows.items():
        if code not in FLOWS:
            errors.setdefault(code, []).append(
                f"There is no flow called “{code}”. Flows: {', '.join(FLOWS)}."
            )
            continue
        cls = FLOWS[code]
        if code not in offered:
            # Between systems the brand does not use: never offered, never switched on.
            if choice.get("enabled"):
                unused = [
                    VENDORS[s].label
                    for s in (cls.source, cls.target)
                    if s not in chosen_systems(onboarding)
                ]
                errors.setdefault(code, []).append(
                    f"{cls.label} needs {' and '.join(unused)}, which {onboarding.brand} does "
                    "not use: switch it off, or choose that system at step 1."
                )
            continue
        enabled = bool(choice.get("enabled"))
        try:
            minutes = int(choice.get("schedule_minutes", cls.default_schedule_minutes))
        except (TypeError, ValueError):
            minutes = -1
        if not 0 <= minutes <= MAX_SCHEDULE_MINUTES:
            errors.setdefault(code, []).append(
                f"{cls.label}: enter a number of minutes from 0 (webhooks and by hand only) to "
                f"{MAX_SCHEDULE_MINUTES} (once a day)."
            )
        missing = [VENDORS[s].label for s in (cls.source, cls.target) if s not in have]
        if enabled and missing:
            errors.setdefault(code, []).append(
                f"{cls.label} needs the {' and '.join(missing)} connection: switch it off, or "
                "connect it at step 2."
            )
        chosen[code] = {"enabled": enabled, "schedule_minutes": minutes}
        if cls.set_up_first:
            # Whoever onboards says the target is set up (no API can check it); the review
            # warns while a flow that needs it is on without it.
            chosen[code]["set_up"] = bool(choice.get("set_up"))
    if not errors and not any(c["enabled"] for c in chosen.values()):
        errors["__all__"] = ["Switch on at least one flow: a brand with none syncs nothing."]
    if errors:
        raise OnboardingError("Some flow choices cannot be used; see below.", errors)
    _advance(onboarding, 6, flows=chosen)
    return chosen

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

import json
import os
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.defaultfilters import pluralize
from django.utils import timezone

from brands.audit import audit
from brands.models import Brand, Membership, Team
from connectors.errors import ConnectorError
from connectors.forms import connection_form_class, in_sentence
from connectors.models import Connection, Health
from connectors.registry import REGISTRY as VENDORS
from connectors.services import connection_test
from console.models import Onboarding
from syncs.flows import REGISTRY as FLOWS
from syncs.mappings import brightpearl_statuses, mapping_seed_defaults
from syncs.models import ChangeVia, FlowConfig, StatusMapping, SyncRun

STEPS: list[tuple[int, str, str]] = [
    (1, "brand", "Name the brand"),
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
def _setting_name(name: str) -> str:
    return f"setting__{name}"


# Credentials that identify rather than unlock (an app's reference, an OAuth client id): the
# person may see what they typed, and a refused form keeps them. Every other credential is a
# secret: never rendered back into a page, so after a refusal it must be typed again.
NOT_SECRET_CREDENTIALS = {("brightpearl", "app_ref"), ("salesforce", "client_id")}
RETYPE_HELP = "Not kept after the error: type it again. Secrets are never shown back on a page."


class OnboardingConnectionFormMixin:
    """One system's connection for one brand: the console's connection form (write-only
    credentials, per-vendor checks), with the vendor's settings as plain fields."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        vendor = VENDORS[self.instance.system]
        self.vendor = vendor
        # The base form keeps saved credentials only when the system did not change.
        self.initial["system"] = self.instance.system
        saved = dict(self.instance.settings or {})
        for f in vendor.setting_fields:
            self.fields[_setting_name(f.name)] = forms.CharField(
                label=f.label,
                required=False,
                help_text=f.help,
                initial=saved.pop(f.name, ""),
            )
        # The address, the vendor's settings, the credentials, and the rare extras last.
        self.order_fields(
            ["base_url", *(_setting_name(f.name) for f in vendor.setting_fields)]
            + [n for n in self.fields if n.startswith("credential__")]
            + ["settings"]
        )
        self.fields["base_url"].initial = self.instance.base_url or vendor.default_base_url
        self.fields[
            "base_url"
        ].help_text = f"{vendor.label}'s API address, e.g. {vendor.default_base_url}"
        self.fields["settings"].required = False
        self.fields["settings"].label = "More settings (optional)"
        self.fields[
            "settings"
        ].help_text = 'Rarely needed: a JSON object such as {"rate_limit": 100}.'
        self.initial["settings"] = saved
        self.fields["settings"].widget.attrs["rows"] = 2
        self._secrets = []
        for f in vendor.credential_fields:
            name = f"credential__{vendor.system}__{f.name}"
            if name not in self.fields:
                continue
            if (vendor.system, f.name) in NOT_SECRET_CREDENTIALS:
                self.fields[name].widget = forms.TextInput(attrs={"autocomplete": "off"})
            else:
                self._secrets.append(name)
        # The labels of the secrets typed into this form that a refusal did not keep.
        self.retype: list[str] = []

    def full_clean(self):
        super().full_clean()
        if not self._errors:
            return
        for name in self._secrets:
            if (self.data.get(self.add_prefix(name)) or "").strip():
                # The bound field, already made while validating, keeps its own copy.
                self.fields[name].help_text = self[name].help_text = RETYPE_HELP
                self.retype.append(in_sentence(str(self.fields[name].label)))

    def clean(self):
        extra = self.cleaned_data.get("settings")
        settings = dict(extra) if isinstance(extra, dict) else (extra or {})
        if isinstance(settings, dict):
            for f in self.vendor.setting_fields:
                value = (self.cleaned_data.get(_setting_name(f.name)) or "").strip()
                if value:
                    settings[f.name] = value
                else:
                    settings.pop(f.name, None)
            self.cleaned_data["settings"] = settings
        self.cleaned_data["system"] = self.instance.system
        cleaned = super().clean()
        # The base form names the settings object; name the field the person fills in.
        missing = [
            f
            for f in self.vendor.setting_fields
            if f.required and not (self.cleaned_data.get(_setting_name(f.name)) or "").strip()
        ]
        if missing and "settings" in self._errors:
            del self._errors["settings"]
            for f in missing:
                self.add_error(
                    _setting_name(f.name),
                    f"Enter the {self.vendor.label} {in_sentence(f.label)}."
                    + (f" {f.help}" if f.help else ""),
                )
        return cleaned


def connection_form(
    onboarding: Onboarding, system: str, data=None, *, prefix: str | None = None
) -> forms.ModelForm:
    """The form for one system of the brand (bound to `data` when given)."""
    base = connection_form_class((system,))
    form_class = type(
        f"{system.title()}OnboardingForm",
        (OnboardingConnectionFormMixin, base),
        {"Meta": type("Meta", (base.Meta,), {"fields": ["base_url", "settings"]})},
    )
    instance = Connection.objects.filter(brand=onboarding.brand, system=system).first()
    if instance is None:
        instance = Connection(brand=onboarding.brand, system=system)
    return form_class(data, instance=instance, prefix=prefix or system)


def form_has_input(form: forms.Form) -> bool:
    """Did the person type anything into this system's form (beyond the default address)?"""
    if form.instance.pk:
        return True
    for name, field_ in form.fields.items():
        value = (form.data.get(form.add_prefix(name)) or "").strip()
        if not value:
            continue
        if name == "base_url" and value.rstrip("/") == str(field_.initial or "").rstrip("/"):
            continue
        if name == "settings" and value in ("{}", ""):
            continue
        return True
    return False


def onboarding_connection_save(*, onboarding: Onboarding, form, actor=None) -> str:
    """Save one validated connection form. Returns "created", "updated" or "unchanged".

    A changed connection must be tested again (its health goes back to untested, and the
    wizard back to step 3 at most). Secrets are never copied anywhere but the connection.
    """
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
        credentials_replaced=form.replaced_credentials(),
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
    if systems != onboarding.data.get("systems"):
        onboarding.data = {**onboarding.data, "systems": systems}
        onboarding.save(update_fields=["data", "updated"])


def connections_done(onboarding: Onboarding) -> list[str]:
    """What is still missing at step 2, in words (empty when the step is done)."""
    systems = onboarding.data.get("systems", {})
    have = set(Connection.objects.filter(brand=onboarding.brand).values_list("system", flat=True))
    missing = []
    for system in SYSTEMS:
        if system in have:
            continue
        if system in REQUIRED_SYSTEMS:
            missing.append(f"Enter the {VENDORS[system].label} connection: every brand needs it.")
        elif systems.get(system) != "unused":
            missing.append(f"Enter the {VENDORS[system].label} connection, or mark it not used.")
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
        results.append(TestResult(connection.system, label, ok, message))
    if results and all(r.ok for r in results):
        _advance(onboarding, 4)
    return results


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


def unmapped_statuses(onboarding: Onboarding, statuses: list[dict]) -> list[dict]:
    mapped = set(
        StatusMapping.objects.filter(brand=onboarding.brand).values_list("bp_status_id", flat=True)
    )
    return [s for s in statuses if s["id"] not in mapped]


# --- step 5: flows and schedules ---------------------------------------------
def flow_defaults(onboarding: Onboarding) -> dict[str, dict]:
    chosen = onboarding.data.get("flows") or {}
    have = set(Connection.objects.filter(brand=onboarding.brand).values_list("system", flat=True))
    out = {}
    for code, cls in FLOWS.items():
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
        for code, cls in FLOWS.items()
        if not {cls.source, cls.target} <= have
    }


def onboarding_choose_flows(
    *, onboarding: Onboarding, flows: dict[str, dict], actor=None
) -> dict[str, dict]:
    """Step 5. Which flows run and how often (0 minutes: on webhooks and by hand only)."""
    have = set(Connection.objects.filter(brand=onboarding.brand).values_list("system", flat=True))
    errors: dict[str, list[str]] = {}
    chosen: dict[str, dict] = {}
    for code, choice in flows.items():
        if code not in FLOWS:
            errors.setdefault(code, []).append(
                f"There is no flow called “{code}”. Flows: {', '.join(FLOWS)}."
            )
            continue
        cls = FLOWS[code]
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
    if not errors and not any(c["enabled"] for c in chosen.values()):
        errors["__all__"] = ["Switch on at least one flow: a brand with none syncs nothing."]
    if errors:
        raise OnboardingError("Some flow choices cannot be used; see below.", errors)
    _advance(onboarding, 6, flows=chosen)
    return chosen


# --- step 6: review ---------------------------------------------
@dataclass
class Review:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.problems


def onboarding_review(onboarding: Onboarding) -> Review:
    """What stops the brand going live (problems), and what it should know (warnings)."""
    review = Review()
    review.problems += [f"Step 2: {m}" for m in connections_done(onboarding)]
    review.problems += [f"Step 3: {m}" for m in connection_problems(onboarding)]
    if "statuses" not in onboarding.data:
        review.problems.append(
            "Step 4: fetch the Brightpearl statuses and seed the mapping from the template."
        )
    flows = onboarding.data.get("flows")
    if not flows:
        review.problems.append("Step 5: choose the flows and their schedules.")
    unknown = StatusMapping.objects.filter(brand=onboarding.brand).values_list(
        "bp_status_id", flat=True
    )
    left = [
        s
        for s in onboarding.data.get("statuses", {}).get("unknown", [])
        if s["id"] not in set(unknown)
    ]
    if left:
        review.warnings.append(
            f"{len(left)} Brightpearl status(es) are not mapped: "
            + ", ".join(f"“{s['name']}”" for s in left)
            + ". Orders in them will wait, with a ticket for marketing, until they are mapped "
            "on the Mappings page."
        )
    return review


# --- step 7: go live ---------------------------------------------
@dataclass
class GoLive:
    configured: list[str] = field(default_factory=list)
    webhooks: list[str] = field(default_factory=list)
    webhooks_registered: bool = False
    runs: list[SyncRun] = field(default_factory=list)
    membership: str = ""
    went_live: bool = False


def onboarding_go_live(*, onboarding: Onboarding, actor=None) -> GoLive:
    """Schedule the chosen flows, register the webhooks the flows need, queue a first full
    sync, make the admin a member of the brand (Admin team) and switch the brand on.

    Three phases, so that no vendor call holds a database transaction open (SQLite would
    lock the whole database for as long as Brightpearl takes to answer):

    1. one transaction: the flows as chosen, and a note that the webhooks are owed;
    2. no transaction: the webhooks registered at each vendor the flows read from;
    3. one transaction: the first sync queued, the membership, the brand switched on, the
       note cleared.

    Safe to press again, and after a failure: flows already as chosen are left alone, the
    webhooks are registered while the note says they are owed (so a failed registration is
    tried again on the next press), and the first sync is queued only once. A brand not
    yet live stays off until phase 3, so flows configured in phase 1 cannot run early.
    """
    review = onboarding_review(onboarding)
    if not review.ready:
        raise OnboardingError("The brand cannot go live yet. " + " ".join(review.problems))
    result = GoLive()
    _go_live_configure(onboarding=onboarding, actor=actor, result=result)
    if onboarding.data.get(WEBHOOKS_OWED):
        _go_live_webhooks(onboarding=onboarding, actor=actor, result=result)
    _go_live_switch_on(onboarding=onboarding, actor=actor, result=result)
    return result


# Set in onboarding.data while the brand's webhooks must be (re)registered.
WEBHOOKS_OWED = "webhooks_owed"


def _locked(onboarding: Onboarding) -> Onboarding:
    """The onboarding row, locked for this transaction (two presses of Go live queue one
    first sync, not two), with its fresh values copied onto the caller's object."""
    fresh = Onboarding.objects.select_for_update().get(pk=onboarding.pk)
    onboarding.data, onboarding.step, onboarding.live_at = fresh.data, fresh.step, fresh.live_at
    return onboarding


def _go_live_configure(*, onboarding: Onboarding, actor, result: GoLive) -> None:
    """Phase 1 (database only): the flows as chosen; note the webhooks as owed when the
    flows changed or the brand has never gone live."""
    from syncs.services import flow_configure

    brand = onboarding.brand
    with transaction.atomic():
        _locked(onboarding)
        for code, choice in onboarding.data["flows"].items():
            config = FlowConfig.objects.filter(brand=brand, flow=code).first()
            scheduled = choice["enabled"] and choice["schedule_minutes"] > 0
            if (
                config is not None
                and config.enabled == choice["enabled"]
                and config.schedule_minutes == choice["schedule_minutes"]
                and bool(config.schedule_id) == scheduled
            ):
                continue
            flow_configure(
                brand=brand,
                flow=code,
                enabled=choice["enabled"],
                schedule_minutes=choice["schedule_minutes"],
                actor=actor,
            )
            result.configured.append(code)
        if (result.configured or not onboarding.is_live) and not onboarding.data.get(WEBHOOKS_OWED):
            onboarding.data = {**onboarding.data, WEBHOOKS_OWED: True}
            onboarding.save(update_fields=["data", "updated"])


def _go_live_webhooks(*, onboarding: Onboarding, actor, result: GoLive) -> None:
    """Phase 2 (HTTP, outside any transaction): register the webhooks at each vendor the
    flows read from (Brightpearl today). Registering is idempotent at the vendor's end (an
    existing hook is found, not doubled), so a press after a lost answer does no harm."""
    from syncs.webhooks import webhooks_register

    try:
        result.webhooks = webhooks_register(brand=onboarding.brand, actor=actor)
    except ConnectorError as exc:
        vendor = VENDORS[exc.vendor].label if exc.vendor in VENDORS else "A vendor"
        if onboarding.is_live:
            after = (
                f"The flow changes are saved, but {vendor} will not notify the console of "
                "changes until this works."
            )
        else:
            after = "Nothing went live."
        raise OnboardingError(
            f"{vendor} refused the webhook registration: {exc.plain} {after} Check the "
            f"{vendor} connection (steps 2 and 3), then press Go live again."
        ) from None
    result.webhooks_registered = True


def _go_live_switch_on(*, onboarding: Onboarding, actor, result: GoLive) -> None:
    """Phase 3 (database only): the first sync, the membership, the brand switched on."""
    from syncs.services import flow_enqueue

    brand = onboarding.brand
    with transaction.atomic():
        _locked(onboarding)
        if not SyncRun.objects.filter(brand=brand).exists():
            for code, choice in onboarding.data["flows"].items():
                if choice["enabled"]:
                    result.runs.append(
                        flow_enqueue(brand_id=brand.pk, flow=code, trigger="manual", full=True)
                    )
        if _person(actor):
            _, made = Membership.objects.get_or_create(user=actor, brand=brand, team=Team.ADMIN)
            result.membership = "created" if made else "found"
        if not brand.active:
            brand.active = True
            brand.save(update_fields=["active"])
        fields_ = []
        if result.webhooks_registered and onboarding.data.get(WEBHOOKS_OWED):
            onboarding.data = {k: v for k, v in onboarding.data.items() if k != WEBHOOKS_OWED}
            fields_.append("data")
        if not onboarding.is_live:
            onboarding.live_at = timezone.now()
            onboarding.step = 7
            fields_ += ["live_at", "step"]
            result.went_live = True
        if fields_:
            onboarding.save(update_fields=[*fields_, "updated"])
        if result.went_live or result.configured or result.webhooks_registered:
            audit(
                "onboarding.live",
                brand=brand,
                actor=actor,
                target=brand,
                summary=f"{brand} is live: flows {', '.join(result.configured) or 'as before'}"
                f"; webhooks {', '.join(result.webhooks) or 'unchanged'}; "
                f"{len(result.runs)} first sync run{pluralize(len(result.runs))} queued.",
            )


# --- the whole thing from a file ---------------------------------------------
@dataclass
class OnboardReport:
    """One line per thing the file describes: what it is, and what happened to it."""

    lines: list[tuple[str, str]] = field(default_factory=list)

    def add(self, what: str, outcome: str) -> None:
        self.lines.append((what, outcome))

    @property
    def changed(self) -> bool:
        quiet = ("unchanged", "found", "skipped", "kept")
        return any(not outcome.startswith(quiet) for _, outcome in self.lines)


def _secret(value: Any, where: str) -> str:
    """A credential from the file: the value, or {"env": "NAME"} to read it from the
    environment (so the file need not hold secrets)."""
    if isinstance(value, dict) and set(value) == {"env"}:
        name = str(value["env"])
        if name not in os.environ:
            raise OnboardingError(f"{where}: the environment variable {name} is not set.")
        return os.environ[name]
    if not isinstance(value, str | int):
        raise OnboardingError(f'{where}: give a text value, or {{"env": "VARIABLE"}}.')
    return str(value)


def _need(spec: dict, key: str, where: str = "the file") -> Any:
    if key not in spec or spec[key] in (None, ""):
        raise OnboardingError(f"{where} needs “{key}”.")
    return spec[key]


def _form_data(system: str, spec: dict, prefix: str) -> dict[str, str]:
    where = f"connections.{system}"
    if not isinstance(spec, dict):
        raise OnboardingError(f"{where} must be an object with base_url, credentials, settings.")
    vendor = VENDORS[system]
    settings = dict(spec.get("settings") or {})
    data = {f"{prefix}-base_url": str(spec.get("base_url") or vendor.default_base_url)}
    for f in vendor.setting_fields:
        data[f"{prefix}-{_setting_name(f.name)}"] = str(settings.pop(f.name, "") or "")
    data[f"{prefix}-settings"] = json.dumps(settings)
    credentials = spec.get("credentials") or {}
    if not isinstance(credentials, dict):
        raise OnboardingError(f"{where}.credentials must be an object.")
    known = {f.name for f in vendor.credential_fields}
    for name in credentials:
        if name not in known:
            raise OnboardingError(
                f"{where}.credentials has “{name}”, which {vendor.label} does not use. "
                f"It takes: {', '.join(sorted(known))}."
            )
    for name, value in credentials.items():
        data[f"{prefix}-credential__{system}__{name}"] = _secret(
            value, f"{where}.credentials.{name}"
        )
    return data


def _form_errors(form, where: str) -> str:
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else name
        parts.append(f"{label}: {' '.join(errors)}")
    return f"{where}: " + "; ".join(parts)


def brand_onboard(*, spec: dict, actor=None, test_connections: bool = True) -> OnboardReport:
    """Onboard a brand from a description (see `manage.py onboard_brand --help`), through the
    same steps as the wizard. Running it again with the same file changes nothing."""
    if not isinstance(spec, dict):
        raise OnboardingError("The file must hold one JSON object describing the brand.")
    report = OnboardReport()
    slug = str(_need(spec, "slug"))
    brand = Brand.objects.filter(slug=slug).first()
    onboarding = getattr(brand, "onboarding", None) if brand else None
    if brand is not None and onboarding is None:
        raise OnboardingError(
            f"A brand with the short name “{slug}” exists and was not onboarded through the "
            "console; choose another short name, or change it in the admin."
        )
    form = BrandForm(
        {
            "name": _need(spec, "name"),
            "slug": slug,
            "timezone": spec.get("timezone") or "Europe/London",
        },
        instance=brand,
    )
    if not form.is_valid():
        raise OnboardingError(_form_errors(form, "The brand"))
    onboarding, outcome = onboarding_name_brand(
        onboarding=onboarding,
        name=form.cleaned_data["name"],
        slug=form.cleaned_data["slug"],
        timezone_name=form.cleaned_data["timezone"],
        actor=actor,
    )
    report.add(f"brand {slug}", outcome)

    connections = spec.get("connections") or {}
    if not isinstance(connections, dict):
        raise OnboardingError("“connections” must be an object keyed by system.")
    for system in connections:
        if system not in VENDORS:
            raise OnboardingError(
                f"connections has “{system}”, which is not a system. Systems: "
                + ", ".join(SYSTEMS)
                + "."
            )
    for system in SYSTEMS:
        if system not in connections:
            if system in REQUIRED_SYSTEMS:
                raise OnboardingError(f"connections needs “{system}”: every brand needs it.")
            if Connection.objects.filter(brand=onboarding.brand, system=system).exists():
                report.add(f"connection {system}", "kept (not in the file)")
            else:
                onboarding_connection_unused(onboarding=onboarding, system=system, actor=actor)
            continue
        form = connection_form(
            onboarding, system, _form_data(system, connections[system], system), prefix=system
        )
        if not form.is_valid():
            raise OnboardingError(_form_errors(form, f"connections.{system}"))
        report.add(
            f"connection {system}",
            onboarding_connection_save(onboarding=onboarding, form=form, actor=actor),
        )
    onboarding_connections_done(onboarding=onboarding)

    if test_connections:
        for result in onboarding_test_connections(
            onboarding=onboarding, actor=actor, only_untested=True
        ):
            report.add(
                f"test {result.system}",
                "skipped (working before, unchanged)"
                if result.skipped
                else ("working: " if result.ok else "FAILING: ") + result.message,
            )
    problems = connection_problems(onboarding)
    if problems:
        raise OnboardingError(
            " ".join(problems)
            + " Nothing went live; fix the file (or the vendor account) and run it again."
        )

    seed = onboarding_seed_mappings(onboarding=onboarding, actor=actor)
    report.add(
        "status mappings",
        (f"created {seed.created} from the template" if seed.created else "unchanged")
        + (
            f"; not in the template: {', '.join(s['name'] for s in seed.unknown)}"
            if seed.unknown
            else ""
        ),
    )

    flows = spec.get("flows")
    if flows is None:
        chosen = flow_defaults(onboarding)
    else:
        if isinstance(flows, list):
            flows = dict.fromkeys(flows, True)
        if not isinstance(flows, dict):
            raise OnboardingError("“flows” must be an object keyed by flow code, or a list.")
        chosen = {}
        for code, value in flows.items():
            if isinstance(value, bool):
                value = {"enabled": value}
            if not isinstance(value, dict):
                raise OnboardingError(
                    f'flows.{code} must be true, false or {{"enabled": …, "schedule_minutes": …}}.'
                )
            default = FLOWS[code].default_schedule_minutes if code in FLOWS else 0
            chosen[code] = {
                "enabled": value.get("enabled", True),
                "schedule_minutes": value.get("schedule_minutes", default),
            }
        for code, cls in FLOWS.items():
            chosen.setdefault(
                code, {"enabled": False, "schedule_minutes": cls.default_schedule_minutes}
            )
    try:
        onboarding_choose_flows(onboarding=onboarding, flows=chosen, actor=actor)
    except OnboardingError as exc:
        raise OnboardingError(
            "flows: " + " ".join(m for errors in exc.errors.values() for m in errors)
        ) from None

    live = onboarding_go_live(onboarding=onboarding, actor=actor)
    report.add(
        "flows",
        f"scheduled: {', '.join(live.configured)}" if live.configured else "unchanged",
    )
    report.add(
        "webhooks",
        f"registered: {', '.join(live.webhooks)}" if live.webhooks_registered else "unchanged",
    )
    report.add(
        "first sync",
        f"queued runs {', '.join(str(r.pk) for r in live.runs)}"
        if live.runs
        else "skipped (the brand has synced before)",
    )
    report.add("live", "went live now" if live.went_live else "unchanged (live already)")

    members = spec.get("members") or []
    if not isinstance(members, list):
        raise OnboardingError("“members” must be a list.")
    for i, member in enumerate(members, 1):
        for what, outcome in onboarding_add_member(
            brand=onboarding.brand, member=member, actor=actor, where=f"members[{i}]"
        ):
            report.add(what, outcome)
    return report


def onboarding_add_member(
    *, brand: Brand, member: dict, actor=None, where: str = "member"
) -> list[tuple[str, str]]:
    """Put a person in teams of the brand. A person not yet known is created without a
    password (an admin sets one, or they reset it)."""
    if not isinstance(member, dict):
        raise OnboardingError(f'{where} must be an object like {{"username": …, "teams": […]}}.')
    username = str(_need(member, "username", where))
    teams = member.get("teams") or ([member["team"]] if member.get("team") else [])
    if not teams:
        raise OnboardingError(f'{where} ({username}) needs “teams”, e.g. ["marketing"].')
    for team in teams:
        if team not in Team.values:
            raise OnboardingError(
                f"{where} ({username}): “{team}” is not a team. Teams: {', '.join(Team.values)}."
            )
    lines = []
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, email=member.get("email", ""))
        user.set_unusable_password()
        user.save()
        audit(
            "person.created",
            brand=brand,
            actor=actor,
            target=username,
            summary="Created by onboarding, without a password yet.",
        )
        lines.append((f"person {username}", "created (no password yet: set one in the admin)"))
    else:
        lines.append((f"person {username}", "found"))
    for team in teams:
        _, made = Membership.objects.get_or_create(user=user, brand=brand, team=team)
        if made:
            audit(
                "membership.created",
                brand=brand,
                actor=actor,
                target=username,
                summary=f"{username} joined {Team(team).label} at {brand}.",
            )
        lines.append((f"member {username} ({team})", "created" if made else "found"))
    return lines

"""Onboarding, steps 6 and 7: review what will happen, and go live (schedule the flows,
register the webhooks, queue the first full sync, switch the brand on)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django import forms
from django.db import transaction
from django.template.defaultfilters import pluralize
from django.utils import timezone

from brands.audit import audit
from brands.models import AuditEvent, Brand, Membership, Team
from connectors.errors import ConnectorError
from connectors.registry import REGISTRY as VENDORS
from console.models import Onboarding
from console.onboarding import (
    OnboardingError,
    _person,
    connection_problems,
    connections_done,
    needs_status_mappings,
)
from console.onboarding_people import brand_owners
from syncs.flows import REGISTRY as FLOWS
from syncs.models import FlowConfig, StatusMapping, SyncRun


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
    if "statuses" not in onboarding.data and needs_status_mappings(onboarding):
        review.problems.append(
            "Step 4: fetch the Brightpearl statuses and seed the mapping from the template."
        )
    flows = onboarding.data.get("flows")
    if not flows:
        review.problems.append("Step 5: choose the flows and their schedules.")
    for code, choice in (flows or {}).items():
        cls = FLOWS.get(code)
        if cls and cls.set_up_first and choice.get("enabled") and not choice.get("set_up"):
            review.warnings.append(
                f"{cls.label} is on, and nobody has said yet that it is set up. "
                f"{cls.set_up_first} (Step 5.)"
            )
    empty = [row["label"].lower() for row in brand_owners(onboarding.brand) if not row["members"]]
    if empty:
        review.warnings.append(
            f"Nobody is in {onboarding.brand}'s {', '.join(empty)} team yet: tickets for "
            f"{'it' if len(empty) == 1 else 'them'} will wait unseen. Add people on the "
            "People step."
        )
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


# --- cancelling a draft ---------------------------------------------
def onboarding_cancel(*, onboarding: Onboarding, actor=None) -> str:
    """Remove a draft onboarding: the brand it created (never switched on) and everything
    saved for it (connections, status mappings, memberships). Returns the brand's name.

    Never a live brand: its syncs have run, and its records, runs and tickets are history.
    The audit trail outlives the draft: its earlier events are kept, detached from the
    brand row that goes, and the cancellation is recorded beside them.
    """
    with transaction.atomic():
        fresh = Onboarding.objects.select_for_update().select_related("brand").get(pk=onboarding.pk)
        brand = fresh.brand
        if fresh.is_live or brand.active:
            raise OnboardingError(
                f"{brand} is live: an onboarding that went live cannot be cancelled. Switch "
                "its flows off on its settings page, or ask a superuser to deactivate it."
            )
        name, slug = brand.name, brand.slug
        systems = sorted(brand.connections.values_list("system", flat=True))
        AuditEvent.objects.filter(brand=brand).update(brand=None)
        brand.delete()  # the onboarding, connections and mappings go with it (cascade)
        audit(
            "onboarding.cancelled",
            actor=actor,
            target=f"{name} ({slug})",
            summary=f"Onboarding of {name} ({slug}) cancelled at step {fresh.step}: the draft "
            f"brand and its saved connections ({', '.join(systems) or 'none'}) were removed.",
            slug=slug,
            connections=systems,
        )
    return name


# --- a live brand's settings ---------------------------------------------
class LagAlertForm(forms.Form):
    lag_alert_minutes = forms.IntegerField(
        label="Lag alert (minutes)",
        min_value=1,
        max_value=7 * 24 * 60,
        help_text="A flow whose oldest unsynced change has waited longer than this (or than two "
        "of its schedule's intervals, if longer) makes the brand Degraded on the overview.",
        error_messages={
            "required": "Enter a number of minutes, e.g. 30.",
            "invalid": "Enter a whole number of minutes, e.g. 30.",
            "min_value": "Enter at least 1 minute.",
            "max_value": "Enter at most 10,080 minutes (a week).",
        },
    )


def brand_lag_alert_set(*, brand: Brand, minutes: int, actor=None) -> bool:
    """Change how far behind a flow may be before the overview calls the brand Degraded.
    Audited. Returns whether it changed."""
    before = brand.lag_alert_minutes
    if before == minutes:
        return False
    Brand.objects.filter(pk=brand.pk).update(lag_alert_minutes=minutes)
    brand.lag_alert_minutes = minutes
    audit(
        "brand.lag_alert_changed",
        brand=brand,
        actor=actor if _person(actor) else None,
        target=brand,
        summary=f"Lag alert was {before} min; now {minutes} min.",
    )
    return True

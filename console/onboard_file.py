"""Onboarding a brand from a file (`manage.py onboard_brand bravo.json`): the same steps as
the wizard, in one go, and again without change (every step updates, never duplicates)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model

from brands.audit import audit
from brands.models import Brand, Membership, Team
from connectors.models import Connection
from connectors.registry import REGISTRY as VENDORS
from console.onboarding import (
    REQUIRED_SYSTEMS,
    SYSTEMS,
    BrandForm,
    OnboardingError,
    connection_problems,
    flow_defaults,
    onboarding_choose_flows,
    onboarding_connection_save,
    onboarding_connection_unused,
    onboarding_connections_done,
    onboarding_name_brand,
    onboarding_seed_mappings,
    onboarding_test_connections,
)
from console.onboarding_forms import _setting_name, connection_form
from console.onboarding_live import onboarding_go_live
from syncs.flows import REGISTRY as FLOWS


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
                # The file says the target is set up (e.g. Ometria's order_shipped event).
                "set_up": bool(value.get("set_up", False)),
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

"""The pages around the wizard: the people step, cancelling a draft, and a live brand's
settings page. Thin, like the steps: each calls a named service (onboarding_people,
onboarding_systems, onboarding_live), under the same rules as the wizard (agency admins
only; a live brand's credentials, systems and people are changed by its admins only)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from brands.models import brand_admins
from connectors.usage import daily_allowances
from console import onboarding as svc
from console import onboarding_people as people
from console.onboarding_live import LagAlertForm, brand_lag_alert_set, onboarding_cancel
from console.onboarding_systems import SystemsForm, onboarding_choose_systems
from console.onboarding_views import _context, _gate, _onboarding, _system_labels, staff_only


# --- people ------------------------------------------------------------------------------------
@staff_only
@require_http_methods(["GET", "POST"])
def people_step(request: HttpRequest, pk: int) -> HttpResponse:
    onboarding = _onboarding(pk)
    if gate := _gate(request, onboarding, 2):
        return gate
    brand, live = onboarding.brand, onboarding.is_live
    allowed = people.may_change_people(brand=brand, live=live, actor=request.user)
    form = people.PersonForm(request.POST or None)
    status = 200
    if request.method == "POST" and not allowed:
        status = 403
        messages.error(request, f"Only {brand}'s admins may change its people; nothing changed.")
    elif request.method == "POST" and request.POST.get("remove"):
        try:
            name = people.brand_person_remove(
                brand=brand,
                membership_id=int(request.POST["remove"]),
                actor=request.user,
                live=live,
            )
        except (people.PeopleError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", "Choose a person to take out."))
        else:
            messages.success(request, f"{name} is no longer in that team (their account stays).")
        return redirect(reverse("onboarding:people", args=[pk]))
    elif request.method == "POST" and form.is_valid():
        team, who = form.cleaned_data["team"], form.cleaned_data["who"]
        try:
            outcome = people.brand_person_add(
                brand=brand, team=team, who=who, actor=request.user, live=live
            )
        except people.PeopleError as exc:
            form.add_error("who", exc.message)
        else:
            label = dict(form.fields["team"].choices)[team]
            messages.success(
                request,
                {
                    "assigned": f"{who} is in the {label} team of {brand}.",
                    "invited": f"{who} is invited to the {label} team of {brand}: an e-mail "
                    "with a link to choose a password is on its way.",
                    "already": f"{who} was already in the {label} team: nothing changed.",
                }[outcome],
            )
            return redirect(reverse("onboarding:people", args=[pk]))
    if form.errors:
        status = 400
    return render(
        request,
        "onboarding/people.html",
        _context(
            onboarding,
            "people",
            form=form,
            owners=people.brand_owners(brand),
            allowed=allowed,
            admins=brand_admins(brand),
        ),
        status=status,
    )


# --- cancel a draft -----------------------------------------------------------------------------
@staff_only
@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    onboarding = _onboarding(pk)
    if onboarding.is_live:
        messages.error(
            request,
            f"{onboarding.brand} is live: an onboarding that went live cannot be cancelled.",
        )
        return redirect(reverse("onboarding:settings", args=[pk]))
    if request.method == "POST":
        try:
            name = onboarding_cancel(onboarding=onboarding, actor=request.user)
        except svc.OnboardingError as exc:
            messages.error(request, exc.message)
            return redirect(reverse("onboarding:resume", args=[pk]))
        messages.success(request, f"The onboarding of {name} is cancelled: nothing of it is left.")
        return redirect(reverse("onboarding:list"))
    return render(
        request,
        "onboarding/cancel.html",
        _context(onboarding, "cancel", connections=svc.brand_connections(onboarding)),
    )


# --- a live brand's settings ------------------------------------------------------------------
@staff_only
@require_http_methods(["GET", "POST"])
def brand_settings(request: HttpRequest, pk: int) -> HttpResponse:
    onboarding = _onboarding(pk)
    if not onboarding.is_live:
        # A draft is set up by the wizard itself.
        return redirect(reverse("onboarding:resume", args=[pk]))
    brand = onboarding.brand
    may_change = svc.may_change_credentials(onboarding=onboarding, actor=request.user)
    lag_posted = request.method == "POST" and request.POST.get("action") == "lag_alert"
    lag_form = LagAlertForm(
        request.POST if lag_posted else None,
        initial={"lag_alert_minutes": brand.lag_alert_minutes},
    )
    systems_form = SystemsForm(
        request.POST if request.method == "POST" and not lag_posted else None,
        onboarding=onboarding,
    )
    status = 200
    if lag_posted:
        if not may_change:
            messages.error(request, f"Only {brand}'s admins may change its lag alert.")
            status = 403
        elif lag_form.is_valid():
            minutes = lag_form.cleaned_data["lag_alert_minutes"]
            if brand_lag_alert_set(brand=brand, minutes=minutes, actor=request.user):
                messages.success(request, f"Saved: a flow counts as behind after {minutes} min.")
            return redirect(reverse("onboarding:settings", args=[pk]))
        else:
            status = 400
    elif request.method == "POST":
        if not may_change:
            svc.onboarding_credentials_refused(onboarding=onboarding, actor=request.user)
            messages.error(request, f"Only {brand}'s admins may change its systems.")
            status = 403
        elif systems_form.is_valid():
            try:
                outcome = onboarding_choose_systems(
                    onboarding=onboarding,
                    systems=systems_form.cleaned_data["systems"],
                    actor=request.user,
                )
            except svc.OnboardingError as exc:
                systems_form.add_error("systems", exc.message)
                status = 400
            else:
                if outcome == "updated":
                    messages.success(
                        request,
                        "Saved. Enter the new system's credentials under Connections, test "
                        "it, then switch on its flows.",
                    )
                return redirect(reverse("onboarding:settings", args=[pk]))
        else:
            status = 400
    return render(
        request,
        "onboarding/settings.html",
        _context(
            onboarding,
            "settings",
            systems_form=systems_form,
            lag_form=lag_form,
            systems=_system_labels(onboarding),
            connections=_with_allowances(svc.brand_connections(onboarding), brand.pk),
            missing=svc.connections_done(onboarding),
            configs=brand.flow_configs.order_by("flow"),
            owners=people.brand_owners(brand),
            may_change=may_change,
            admins=brand_admins(brand),
        ),
        status=status,
    )


def _with_allowances(connections: list, brand_id: int) -> list:
    """Each connection with its vendor's daily allowance, where it has one (Salesforce)."""
    allowances = daily_allowances(brand_id=brand_id)
    for connection in connections:
        connection.allowance = allowances.get(connection.system)
    return connections

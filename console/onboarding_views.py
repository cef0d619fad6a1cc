"""The onboarding wizard, for agency admins (`is_staff`) only: anyone else gets a 404.

Thin: each step reads its form and calls a service in console/onboarding.py (the same ones
`manage.py onboard_brand` calls). The wizard's place is saved after every step, so it can be
left and resumed from /onboarding/; going back shows what was saved, and saving a step
again updates it instead of making it twice.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from brands.models import brand_admins
from connectors.models import Connection
from connectors.registry import REGISTRY as VENDORS
from console import onboarding as svc
from console import onboarding_forms as forms_svc
from console import onboarding_live as live_svc
from console.models import Onboarding
from syncs.flows import REGISTRY as FLOWS
from syncs.mappings import MappingError, StatusChange, mapping_save, statuses_or_none
from syncs.models import ChangeVia, LifecycleStage, OmetriaOrderStatus, StatusMapping


def staff_only(view: Callable) -> Callable:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_staff:
            # Not an agency admin: the wizard does not exist for them.
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapper


def _onboarding(pk: int) -> Onboarding:
    return get_object_or_404(Onboarding.objects.select_related("brand"), pk=pk)


def _url(onboarding: Onboarding, step: int) -> str:
    return reverse(f"onboarding:{svc.STEP_NAMES[step]}", args=[onboarding.pk])


def _gate(request: HttpRequest, onboarding: Onboarding, step: int) -> HttpResponse | None:
    """A step not reached yet sends the person to the furthest one they can do."""
    if step > onboarding.step:
        messages.info(request, f"Finish step {onboarding.step} first.")
        return redirect(_url(onboarding, onboarding.step))
    return None


def _context(onboarding: Onboarding | None, step: int, **extra) -> dict:
    reached = onboarding.step if onboarding else 1
    return {
        "onboarding": onboarding,
        "brand": onboarding.brand if onboarding else None,
        "step": step,
        "steps": [
            {
                "number": n,
                "label": label,
                "url": reverse(f"onboarding:{name}", args=[onboarding.pk])
                if onboarding and n <= reached
                else "",
            }
            for n, name, label in svc.STEPS
        ],
        **extra,
    }


# --- the list, and resuming ----------------------------------------------------------
@staff_only
def onboarding_list(request: HttpRequest) -> HttpResponse:
    rows = Onboarding.objects.select_related("brand", "started_by").order_by("live_at", "-updated")
    return render(
        request,
        "onboarding/list.html",
        {
            "in_progress": [o for o in rows if not o.is_live],
            "live": [o for o in rows if o.is_live][:20],
            "step_labels": {n: label for n, _, label in svc.STEPS},
        },
    )


@staff_only
def resume(request: HttpRequest, pk: int) -> HttpResponse:
    onboarding = _onboarding(pk)
    return redirect(_url(onboarding, onboarding.step))


# --- 1. name the brand -----------------------------------------------------------------
@staff_only
@require_http_methods(["GET", "POST"])
def brand_step(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    onboarding = _onboarding(pk) if pk else None
    form = svc.BrandForm(request.POST or None, instance=onboarding.brand if onboarding else None)
    if request.method == "POST" and form.is_valid():
        if onboarding and onboarding.is_live:
            messages.error(request, f"{onboarding.brand} is live: rename it in the admin.")
            return redirect(_url(onboarding, 1))
        onboarding, outcome = svc.onboarding_name_brand(
            onboarding=onboarding,
            name=form.cleaned_data["name"],
            slug=form.cleaned_data["slug"],
            timezone_name=form.cleaned_data["timezone"],
            actor=request.user,
        )
        if outcome == "created":
            messages.success(
                request,
                f"{onboarding.brand} is saved (switched off until it goes live). You can leave "
                "and come back: Onboarding lists it.",
            )
        return redirect(_url(onboarding, 2))
    return render(request, "onboarding/brand.html", _context(onboarding, 1, form=form))


# --- 2. connections ------------------------------------------------------------------------
def _system_forms(onboarding: Onboarding, data=None) -> list[dict]:
    have = set(Connection.objects.filter(brand=onboarding.brand).values_list("system", flat=True))
    states = onboarding.data.get("systems", {})
    return [
        {
            "system": system,
            "label": VENDORS[system].label,
            "form": forms_svc.connection_form(onboarding, system, data),
            "required": system in svc.REQUIRED_SYSTEMS,
            "saved": system in have,
            "unused": states.get(system) == "unused" and system not in have,
        }
        for system in svc.SYSTEMS
    ]


def _credentials_locked(request: HttpRequest, onboarding: Onboarding) -> HttpResponse | None:
    """A live brand's connections are its admins' to change: anyone else gets a 403 page
    that says so and names them (the attempt to save is audited)."""
    if svc.may_change_credentials(onboarding=onboarding, actor=request.user):
        return None
    if request.method == "POST":
        svc.onboarding_credentials_refused(onboarding=onboarding, actor=request.user)
    return render(
        request,
        "onboarding/credentials_locked.html",
        _context(onboarding, 2, admins=brand_admins(onboarding.brand)),
        status=403,
    )


@staff_only
@require_http_methods(["GET", "POST"])
def connections_step(request: HttpRequest, pk: int) -> HttpResponse:
    onboarding = _onboarding(pk)
    if gate := _gate(request, onboarding, 2):
        return gate
    if locked := _credentials_locked(request, onboarding):
        return locked
    if request.method != "POST":
        return render(
            request,
            "onboarding/connections.html",
            _context(onboarding, 2, systems=_system_forms(onboarding)),
        )
    systems = _system_forms(onboarding, request.POST)
    failed = False
    saved = []
    for item in systems:
        system, form = item["system"], item["form"]
        item["failed"] = False
        if request.POST.get(f"{system}-unused") and not item["required"]:
            try:
                svc.onboarding_connection_unused(
                    onboarding=onboarding, system=system, actor=request.user
                )
            except svc.OnboardingError as exc:
                # A live brand's connection is removed in the admin, not here.
                messages.error(request, exc.message)
                item["failed"] = failed = True
                continue
            item["unused"], item["saved"] = True, False
            continue
        if not forms_svc.form_has_input(form):
            if item["required"]:
                item["failed"] = not form.is_valid()  # shows what it still needs
                failed = failed or item["failed"]
            continue
        if form.is_valid():
            outcome = svc.onboarding_connection_save(
                onboarding=onboarding, form=form, actor=request.user
            )
            item["saved"] = True
            if outcome != "unchanged":
                saved.append(item["label"])
        else:
            item["failed"] = failed = True
    if saved:
        messages.success(request, f"Saved: {', '.join(saved)}. Credentials are kept encrypted.")
    missing = svc.connections_done(onboarding)
    if failed or missing:
        for item in systems:
            if not item["failed"]:
                # What was saved shows as saved (its secrets never shown back); a system
                # left empty shows empty. Only a form that failed keeps what was typed.
                item["form"] = forms_svc.connection_form(onboarding, item["system"])
        return render(
            request,
            "onboarding/connections.html",
            _context(onboarding, 2, systems=systems, missing=[] if failed else missing),
            status=400,
        )
    svc.onboarding_connections_done(onboarding=onboarding)
    return redirect(_url(onboarding, 3))


# --- 3. test the connections ----------------------------------------------------------------
@staff_only
@require_http_methods(["GET", "POST"])
def test_step(request: HttpRequest, pk: int) -> HttpResponse:
    onboarding = _onboarding(pk)
    if gate := _gate(request, onboarding, 3):
        return gate
    results = None
    if request.method == "POST":
        results = svc.onboarding_test_connections(onboarding=onboarding, actor=request.user)
        onboarding.refresh_from_db()
    connections = svc.brand_connections(onboarding)
    return render(
        request,
        "onboarding/test.html",
        _context(
            onboarding,
            3,
            connections=connections,
            results=results,
            problems=svc.connection_problems(onboarding),
        ),
    )


# --- 4. statuses and the default mapping --------------------------------------------------------
@staff_only
@require_http_methods(["GET", "POST"])
def mappings_step(request: HttpRequest, pk: int) -> HttpResponse:
    onboarding = _onboarding(pk)
    if gate := _gate(request, onboarding, 4):
        return gate
    seed = None
    errors: dict[str, list[str]] = {}
    if request.method == "POST" and request.POST.get("action") == "fetch":
        try:
            seed = svc.onboarding_seed_mappings(onboarding=onboarding, actor=request.user)
        except svc.OnboardingError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                f"Read {len(seed.statuses)} statuses from Brightpearl; mapped "
                f"{seed.created} from the template.",
            )
            return redirect(_url(onboarding, 4))
    elif request.method == "POST" and request.POST.get("action") == "map":
        errors = _map_unknown(request, onboarding)
        if not errors:
            return redirect(_url(onboarding, 4))
    statuses = onboarding.data.get("statuses")
    mapped = {m.bp_status_id: m for m in StatusMapping.objects.filter(brand=onboarding.brand)}
    unknown = [
        {**s, "errors": errors.get(str(s["id"]), [])}
        for s in (statuses or {}).get("unknown", [])
        if s["id"] not in mapped
    ]
    return render(
        request,
        "onboarding/mappings.html",
        _context(
            onboarding,
            4,
            statuses=statuses,
            mapped=sorted(mapped.values(), key=lambda m: m.bp_status_name.lower()),
            unknown=unknown,
            ometria_statuses=OmetriaOrderStatus.choices,
            stages=LifecycleStage.choices,
            posted=request.POST if errors else {},
        ),
        status=400 if errors else 200,
    )


def _map_unknown(request: HttpRequest, onboarding: Onboarding) -> dict[str, list[str]]:
    """Map, right here, statuses the template did not know (the same service as Mappings)."""
    changes = []
    for status in onboarding.data.get("statuses", {}).get("unknown", []):
        ometria = request.POST.get(f"s-{status['id']}-ometria", "")
        stage = request.POST.get(f"s-{status['id']}-stage", "")
        if ometria or stage:
            changes.append(
                StatusChange(
                    bp_status_id=status["id"],
                    bp_status_name=status["name"],
                    ometria_status=ometria,
                    lifecycle_stage=stage,
                    expected=None,
                )
            )
    if not changes:
        messages.info(request, "Nothing to map: choose an Ometria status and a stage first.")
        return {}
    try:
        result = mapping_save(
            brand=onboarding.brand,
            changes=changes,
            actor=request.user,
            via=ChangeVia.ONBOARDING,
            statuses=statuses_or_none(onboarding.brand),
        )
    except MappingError as exc:
        messages.error(request, exc.message)
        return exc.errors
    messages.success(request, result.summary())
    return {}


# --- 5. flows and schedules ----------------------------------------------------------------------
@staff_only
@require_http_methods(["GET", "POST"])
def flows_step(request: HttpRequest, pk: int) -> HttpResponse:
    onboarding = _onboarding(pk)
    if gate := _gate(request, onboarding, 5):
        return gate
    choices = svc.flow_defaults(onboarding)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        choices = {
            code: {
                "enabled": bool(request.POST.get(f"{code}-enabled")),
                # A flow the page did not offer (its systems are not connected) keeps its default.
                "schedule_minutes": request.POST.get(f"{code}-minutes", "").strip()
                or cls.default_schedule_minutes,
                "set_up": bool(request.POST.get(f"{code}-set-up")),
            }
            for code, cls in FLOWS.items()
        }
        try:
            svc.onboarding_choose_flows(onboarding=onboarding, flows=choices, actor=request.user)
        except svc.OnboardingError as exc:
            errors = exc.errors
        else:
            return redirect(_url(onboarding, 6))
    missing = svc.flows_missing_connections(onboarding)
    rows = [
        {
            "code": code,
            "flow": cls,
            "enabled": choices[code]["enabled"],
            "minutes": choices[code]["schedule_minutes"],
            "errors": errors.get(code, []),
            "needs": missing.get(code, []),
            "set_up": choices[code].get("set_up", False),
        }
        for code, cls in FLOWS.items()
    ]
    return render(
        request,
        "onboarding/flows.html",
        _context(onboarding, 5, rows=rows, form_errors=errors.get("__all__", [])),
        status=400 if errors else 200,
    )


# --- 6. review, 7. go live ---------------------------------------------------------------------
@staff_only
def review_step(request: HttpRequest, pk: int) -> HttpResponse:
    onboarding = _onboarding(pk)
    if gate := _gate(request, onboarding, 6):
        return gate
    flows = onboarding.data.get("flows", {})
    return render(
        request,
        "onboarding/review.html",
        _context(
            onboarding,
            6,
            review=live_svc.onboarding_review(onboarding),
            connections=svc.brand_connections(onboarding),
            mapped=StatusMapping.objects.filter(brand=onboarding.brand).count(),
            flows=[
                {"label": FLOWS[code].label, **choice}
                for code, choice in flows.items()
                if code in FLOWS
            ],
        ),
    )


@staff_only
@require_http_methods(["GET", "POST"])
def live_step(request: HttpRequest, pk: int) -> HttpResponse:
    onboarding = _onboarding(pk)
    if request.method == "POST":
        if gate := _gate(request, onboarding, 6):
            return gate
        try:
            result = live_svc.onboarding_go_live(onboarding=onboarding, actor=request.user)
        except svc.OnboardingError as exc:
            messages.error(request, exc.message)
            return redirect(_url(onboarding, 6))
        if result.went_live:
            messages.success(request, f"{onboarding.brand} is live.")
        return redirect(_url(onboarding, 7))
    if not onboarding.is_live:
        return redirect(_url(onboarding, min(onboarding.step, 6)))
    brand = onboarding.brand
    return render(
        request,
        "onboarding/live.html",
        _context(
            onboarding,
            7,
            runs=brand.sync_runs.order_by("pk")[:20],
            configs=brand.flow_configs.order_by("flow"),
        ),
    )

"""The brand and flow history pages: run history, charts, drift and silence (issue 17).

Every view starts from the person's own brands (`Brand.objects.for_user`): another brand's
address answers 404, the same as a brand that does not exist, so nothing leaks. The views
only read; what they show is computed in syncs/history/.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from brands.models import Brand
from connectors.usage import daily_allowances
from syncs.flows import REGISTRY
from syncs.history.charts import DEFAULT_SPAN, SPANS, chart_data
from syncs.history.filters import RunFilter
from syncs.history.pages import (
    RUNS_PER_PAGE,
    drift_checks,
    history_flows,
    runs_for,
    silence_rules,
)


def _brand(request: HttpRequest, slug: str) -> Brand:
    return get_object_or_404(Brand.objects.for_user(request.user), slug=slug)


def _flow(code: str) -> str:
    if code not in REGISTRY:
        raise Http404("There is no such flow.")
    return code


def _span(request: HttpRequest) -> str:
    span = request.GET.get("span", DEFAULT_SPAN)
    return span if span in SPANS else DEFAULT_SPAN


@login_required
@require_GET
def picker(request: HttpRequest) -> HttpResponse:
    brands = list(Brand.objects.for_user(request.user))
    if len(brands) == 1:
        return redirect("history:brand", slug=brands[0].slug)
    return render(request, "history/picker.html", {"brands": brands})


@login_required
@require_GET
def brand_page(request: HttpRequest, slug: str) -> HttpResponse:
    brand = _brand(request, slug)
    return render(request, "history/brand.html", _page(request, brand, flow=""))


@login_required
@require_GET
def flow_page(request: HttpRequest, slug: str, flow: str) -> HttpResponse:
    brand = _brand(request, slug)
    context = _page(request, brand, flow=_flow(flow))
    context.update(_runs(request, brand, flow=flow))
    return render(request, "history/brand.html", context)


@login_required
@require_GET
def runs_page(request: HttpRequest, slug: str) -> HttpResponse:
    brand = _brand(request, slug)
    return render(request, "history/runs.html", {"brand": brand, **_runs(request, brand)})


@login_required
@require_GET
def chart_json(request: HttpRequest, slug: str) -> JsonResponse:
    """The charts' data. ?span=24h|7d|30d, ?flow=<code> for one flow."""
    brand = _brand(request, slug)
    flow = request.GET.get("flow", "")
    if flow:
        _flow(flow)
    span = request.GET.get("span", DEFAULT_SPAN)
    if span not in SPANS:
        return JsonResponse(
            {"error": f"Unknown span “{span}”: use one of {', '.join(SPANS)}."}, status=400
        )
    return JsonResponse(chart_data(brand=brand, flow=flow, span=span))


def _page(request: HttpRequest, brand: Brand, *, flow: str) -> dict:
    span = _span(request)
    data = chart_data(brand=brand, flow=flow, span=span)
    query = {"span": span, **({"flow": flow} if flow else {})}
    return {
        "brand": brand,
        "flow": flow,
        "flow_class": REGISTRY.get(flow) if flow else None,
        "flows": history_flows(brand),
        "spans": SPANS.values(),
        "span": span,
        "totals": data["totals"],
        "span_label": data["span_label"],
        "chart_url": f"{reverse('history:data', args=[brand.slug])}?{urlencode(query)}",
        "drift_rows": drift_checks(brand, flow),
        "silence": silence_rules(),
        "allowances": list(daily_allowances(brand_id=brand.pk).values()),
        "recent_runs": runs_for(brand).filter(flow=flow)[:10] if flow else runs_for(brand)[:10],
    }


def _runs(request: HttpRequest, brand: Brand, *, flow: str = "") -> dict:
    filterset = RunFilter(
        request.GET, queryset=runs_for(brand), timezone_name=brand.timezone, flow=flow
    )
    paginator = Paginator(filterset.qs, RUNS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return {
        "filterset": filterset,
        "form_errors": [
            f"{filterset.form[name].label}: {' '.join(errors)}"
            for name, errors in filterset.errors.items()
            if name in filterset.form.fields
        ],
        "page": page,
        "runs": page.object_list,
    }

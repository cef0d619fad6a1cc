"""The catalogue audit's page for ecommerce: the SKUs one catalogue has and the other lacks,
the CSV of them, and "Run the audit now".

Thin: the rows come from syncs.flows.bigcommerce.catalogue_report, the audit itself is the
task that the weekly schedule runs. Every brand is looked up through the tenant wall
(`Brand.objects.for_user`): another brand's page or CSV is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_q.tasks import async_task

from brands.audit import audit
from brands.models import Brand
from console.records import storefront_brands
from syncs.flows.bigcommerce.catalogue_report import (
    catalogue_csv,
    catalogue_gaps,
    catalogue_last_audit,
)


def _brand(request: HttpRequest, slug: str) -> Brand:
    brand = get_object_or_404(Brand.objects.for_user(request.user), slug=slug)
    if not storefront_brands([brand]):
        raise Http404("This brand has no BigCommerce store to audit.")
    return brand


@login_required
@require_GET
def catalogue_picker(request: HttpRequest) -> HttpResponse:
    brands = storefront_brands(list(Brand.objects.for_user(request.user)))
    if len(brands) == 1:
        return redirect("catalogue:brand", slug=brands[0].slug)
    return render(request, "console/catalogue_picker.html", {"brands": brands})


@login_required
@require_GET
def catalogue_page(request: HttpRequest, slug: str) -> HttpResponse:
    brand = _brand(request, slug)
    gaps = catalogue_gaps(brand=brand)
    return render(
        request,
        "console/catalogue.html",
        {
            "brand": brand,
            "gaps": gaps,
            "only_bc": sum(1 for g in gaps if g.found_in == "BigCommerce"),
            "only_bp": sum(1 for g in gaps if g.found_in == "Brightpearl"),
            "last": catalogue_last_audit(brand=brand),
        },
    )


@login_required
@require_GET
def catalogue_download(request: HttpRequest, slug: str) -> HttpResponse:
    brand = _brand(request, slug)
    response = HttpResponse(catalogue_csv(brand=brand), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{brand.slug}-catalogue-gaps.csv"'
    return response


@login_required
@require_POST
def catalogue_run(request: HttpRequest, slug: str) -> HttpResponse:
    brand = _brand(request, slug)
    with transaction.atomic():
        audit("catalogue.audit_requested", brand=brand, actor=request.user, target=brand.name)
        transaction.on_commit(lambda: async_task("syncs.tasks.catalogue_audit_run", brand.pk))
    messages.success(
        request,
        "The audit is queued: it reads both catalogues and updates this page in a minute or two.",
    )
    return redirect("catalogue:brand", slug=brand.slug)

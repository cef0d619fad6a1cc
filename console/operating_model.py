"""The operating model page, one per brand: the handover document, generated from what the
console holds (syncs/operating_model.py), never typed.

Thin: the page is the selector's. Only the brand's members and the agency's admins
(`is_staff`, who run every brand) see it; anyone else gets the same 404 as for a brand that
does not exist, so nothing leaks.
"""

from __future__ import annotations

from dataclasses import replace

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from brands.models import Brand
from syncs.operating_model import operating_model


def visible_brands(user) -> QuerySet[Brand]:
    """The brands whose operating model this person may read."""
    if user.is_authenticated and user.is_staff:
        return Brand.objects.all()
    return Brand.objects.for_user(user)


@login_required
@require_GET
def operating_model_index(request: HttpRequest) -> HttpResponse:
    """The nav's entry: straight to the one brand's page, or a list to choose from."""
    brands = list(visible_brands(request.user))
    if len(brands) == 1:
        return redirect("operating_model", slug=brands[0].slug)
    return render(request, "console/operating_model_index.html", {"brands": brands})


@login_required
@require_GET
def operating_model_page(request: HttpRequest, slug: str) -> HttpResponse:
    brand = get_object_or_404(visible_brands(request.user), slug=slug)
    model = operating_model(brand=brand)
    # Full addresses, so a printed copy still says where each check is answered.
    for check in model.checks:
        check.links = [
            replace(link, url=request.build_absolute_uri(link.url))
            if link.url.startswith("/")
            else link
            for link in check.links
        ]
    for team in model.teams:
        team.inbox_url = request.build_absolute_uri(team.inbox_url)
    return render(request, "console/operating_model.html", {"model": model, "brand": brand})

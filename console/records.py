"""The “Find a record” pages: the search, and one record as each system knows it.

Thin on purpose: the search and the page are selectors in syncs (record_search,
record_detail), Sync now is the service syncs.records.record_sync_now. Every brand is
looked up through the tenant wall (`Brand.objects.for_user`), so another brand's record is
a 404 whatever its address, and never an action.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from brands.models import Brand
from connectors.models import Connection
from syncs.flows.bigcommerce.imports import ImportRefused, storefront_order_import
from syncs.record_detail import record_page
from syncs.record_search import LIVE_TIMEOUT, records_find, search_brands
from syncs.records import Queued, RecordActionError, RecordNotFound, record_sync_now


@login_required
@require_GET
def records_search(request: HttpRequest) -> HttpResponse:
    brands = search_brands(user=request.user)
    chosen = request.GET.get("brand", "")
    try:
        search = records_find(user=request.user, query=request.GET.get("q", ""), brand=chosen)
    except Brand.DoesNotExist:
        # Another brand's slug, or none at all: the same answer, so nothing leaks.
        raise Http404("You do not belong to that brand.") from None
    return render(
        request,
        "console/records.html",
        {
            "search": search,
            "brands": brands,
            "chosen": chosen,
            "live_timeout": LIVE_TIMEOUT,
            # The brands with a storefront to import an order from.
            "import_brands": storefront_brands(brands),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def record_detail(request: HttpRequest, brand: str, entity: str) -> HttpResponse:
    """GET: the record's page. POST: Sync now, then back to the page with what was queued."""
    brand_obj = get_object_or_404(Brand.objects.for_user(request.user), slug=brand)
    if request.method == "POST":
        try:
            queued = record_sync_now(brand=brand_obj, entity=entity, actor=request.user)
        except RecordNotFound:
            raise Http404("No such record.") from None
        except RecordActionError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, queued_message(queued))
        return redirect(request.path)
    page = record_page(brand=brand_obj, entity=entity)
    if page is None:
        raise Http404("No such record.")
    return render(request, "console/record.html", {"page": page, "brand": brand_obj})


def storefront_brands(brands: list[Brand]) -> list[Brand]:
    with_store = set(
        Connection.objects.filter(brand__in=brands, system="bigcommerce").values_list(
            "brand_id", flat=True
        )
    )
    return [b for b in brands if b.pk in with_store]


@login_required
@require_http_methods(["POST"])
def order_import(request: HttpRequest) -> HttpResponse:
    """Import one BigCommerce order by its number (the form on the Find a record page)."""
    brand = get_object_or_404(
        Brand.objects.for_user(request.user), slug=request.POST.get("brand", "")
    )
    number = request.POST.get("number", "")
    try:
        outcome = storefront_order_import(brand=brand, number=number, actor=request.user)
    except ImportRefused as exc:
        messages.error(request, str(exc))
        return redirect("records")
    messages.success(request, outcome.sentence)
    return redirect(f"{reverse('records')}?{urlencode({'q': outcome.number, 'brand': brand.slug})}")


def queued_message(queued: list[Queued]) -> str:
    parts = [
        f"{q.item.label}, run {q.run.pk}" + (" (it was queued already)" if q.already else "")
        for q in queued
    ]
    return (
        f"Sync queued: {'; '.join(parts)}. It starts within a few seconds; "
        "reload this page to see what it sent."
    )

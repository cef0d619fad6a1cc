"""The mappings pages, per brand: order statuses, contact attributes, and one tab per kind
of value map the brand's connections call for. For marketing, and each kind's owners.

Thin: each page is an Editor (syncs/mapping_kinds.py) drawn and read by the shared editor
code (syncs/mapping_editor.py); every change goes through a service in syncs.mappings, or a
preview, which writes nothing. A brand is looked up through the tenant wall
(`Brand.objects.for_user`), so another brand's page is a 404; members outside marketing and
admin may look but not change (403).

Saving is two clicks: "Preview" shows what the change would do, and carries the change,
signed, in the form of its "Save" button.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from brands.models import Brand
from connectors.errors import ConnectorError
from connectors.models import Connection
from syncs.mapping_editor import (
    DRAFT_SALT,
    SIGNING_SALT,
    draft_changes,
    editor_page,
    editor_preview,
    page_context,
    preview_page,
    save_previewed,
    sign,
    stale_preview,
    unsign,
)
from syncs.mapping_kinds import ATTRIBUTES, STATUSES, editor_for, value_editor
from syncs.mapping_selectors import (
    AttributeTable,
    attribute_table,
    can_edit_mappings,
    values_waiting_by_brand,
    waiting_by_brand,
)
from syncs.mappings import (
    AttributeChange,
    MappingError,
    attribute_key,
    brightpearl_statuses,
    brightpearl_tags,
    describe,
    mapping_revert,
    revert_change,
)
from syncs.models import AttributeSource, MappingChange
from syncs.valuemaps.changes import known_values
from syncs.vendor_lists import vendor_lists_forget

# Kept under their old names: tests and links sign with them.
_sign = sign
__all__ = ["DRAFT_SALT", "SIGNING_SALT", "_sign"]


def _brand(request: HttpRequest, slug: str) -> Brand:
    """The brand if the user belongs to it; a 404 otherwise, whatever it is."""
    return get_object_or_404(Brand.objects.for_user(request.user), slug=slug)


def _editable_brand(request: HttpRequest, slug: str, kind: str = "") -> Brand:
    brand = _brand(request, slug)
    if not can_edit_mappings(request.user, brand, kind):
        raise PermissionDenied(
            "Only the brand's marketing and admin teams (and, for a value map, the team its "
            "tickets go to) change its mappings; ask one of them."
        )
    return brand


# --- the brand picker ------------------------------------------------------------------------
@login_required
@require_GET
def picker(request: HttpRequest) -> HttpResponse:
    brands = list(Brand.objects.for_user(request.user))
    if len(brands) == 1:
        return redirect("mappings:statuses", slug=brands[0].slug)
    waiting = waiting_by_brand(brands)
    values = values_waiting_by_brand(brands)
    rows = [
        {
            "brand": b,
            "statuses": waiting.get(b.pk, (0, 0))[0],
            "orders": waiting.get(b.pk, (0, 0))[1],
            "values": values.get(b.pk, (0, 0))[0],
            "records": values.get(b.pk, (0, 0))[1],
        }
        for b in brands
    ]
    return render(request, "mappings/picker.html", {"rows": rows})


# --- order statuses ----------------------------------------------------------------------------
@login_required
@require_GET
def statuses(request: HttpRequest, slug: str) -> HttpResponse:
    return editor_page(request, _brand(request, slug), STATUSES)


@login_required
@require_POST
def status_preview(request: HttpRequest, slug: str) -> HttpResponse:
    return editor_preview(request, _editable_brand(request, slug), STATUSES)


@login_required
@require_POST
def status_save(request: HttpRequest, slug: str) -> HttpResponse:
    return save_previewed(request, _editable_brand(request, slug), STATUSES)


# --- value maps: one tab per kind --------------------------------------------------------------
@login_required
@require_GET
def values(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    brand = _brand(request, slug)
    return editor_page(request, brand, value_editor(brand, kind))


@login_required
@require_POST
def value_preview(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    brand = _editable_brand(request, slug, kind)
    return editor_preview(request, brand, value_editor(brand, kind))


@login_required
@require_POST
def value_save(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    brand = _editable_brand(request, slug, kind)
    return save_previewed(request, brand, value_editor(brand, kind))


@login_required
@require_POST
def refresh(request: HttpRequest, slug: str) -> HttpResponse:
    """Read the vendors' lists (statuses, tags, warehouses…) again now, not the kept ones."""
    brand = _brand(request, slug)
    back = request.POST.get("next") or ""
    vendor_lists_forget(brand=brand)
    if back.startswith("value:"):
        editor = value_editor(brand, back.removeprefix("value:"))
        known = known_values(brand=brand, kind=editor.value_kind)
        for error in known.errors:
            messages.error(request, error)
        if not known.errors:
            messages.success(request, f"Read the lists from {editor.refresh_from} just now.")
        return redirect(editor.url(brand))
    try:
        found = brightpearl_statuses(brand=brand, refresh=True)
        brightpearl_tags(brand=brand, refresh=True)
    except Connection.DoesNotExist:
        messages.error(request, f"{brand.name} has no Brightpearl connection yet.")
    except ConnectorError as exc:
        messages.error(request, f"Brightpearl could not be reached: {exc.plain}")
    else:
        messages.success(
            request, f"Read {len(found)} sales-order statuses from Brightpearl just now."
        )
    if back == "attributes":
        return redirect("mappings:attributes", slug=brand.slug)
    return redirect("mappings:statuses", slug=brand.slug)


# --- reverting an entry of the history -----------------------------------------------------
def _entry(brand: Brand, pk: int) -> MappingChange:
    return get_object_or_404(MappingChange, brand=brand, pk=pk)


@login_required
@require_GET
def revert_preview(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    entry = _entry(_brand(request, slug), pk)
    brand = _editable_brand(request, slug, entry.kind)
    editor = editor_for(brand, entry.kind)
    change = revert_change(entry)
    if change.expected == change.after:
        messages.info(
            request,
            f"“{entry.label}” is already {describe(entry.kind, change.after)}: there is "
            "nothing to revert.",
        )
        return redirect(editor.url(brand))
    return preview_page(
        request,
        brand,
        editor,
        [change],
        save_url=reverse("mappings:revert", args=[brand.slug, entry.pk]),
        revert=entry,
    )


@login_required
@require_POST
def revert(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    entry = _entry(_brand(request, slug), pk)
    brand = _editable_brand(request, slug, entry.kind)
    editor = editor_for(brand, entry.kind)
    payload = unsign(request, brand)
    if payload is None or payload.get("revert") != entry.pk:
        return stale_preview(request, brand, editor)
    expected = payload["changes"][0].get("expected")
    try:
        result = mapping_revert(entry=entry, actor=request.user, expected=expected)
    except MappingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, result.summary())
    return redirect(editor.url(brand))


# --- contact attributes (their own page; preview, save, history and revert shared) -------------
def _attribute_page(request, brand: Brand, table: AttributeTable, *, status=200, **extra):
    context = page_context(
        request,
        brand,
        ATTRIBUTES,
        table=table,
        sources=AttributeSource.choices,
        new=extra.pop("new", {}),
        **extra,
    )
    return render(request, "mappings/attributes.html", context, status=status)


@login_required
@require_GET
def attributes(request: HttpRequest, slug: str) -> HttpResponse:
    brand = _brand(request, slug)
    table = attribute_table(brand=brand)
    new: dict = {}
    rows = {row.key: row for row in table.rows}
    for change in draft_changes(request, brand, ATTRIBUTES):
        row = rows.get(change.key)
        if row is None and change.expected is None:
            new = {
                "source": change.source,
                "source_name": change.source_name,
                "ometria_attribute": change.ometria_attribute,
                "value": change.value,
                "absent_value": change.absent_value,
                "errors": [],
            }
        elif row is not None:
            row.ometria_attribute, row.value = change.ometria_attribute, change.value
            row.absent_value, row.remove = change.absent_value, change.remove
    return _attribute_page(request, brand, table, new=new)


def _read_attribute_form(request, table: AttributeTable) -> tuple[list[AttributeChange], dict]:
    changes: list[AttributeChange] = []
    for row in table.rows:
        prefix = f"a-{row.mapping.pk}-"
        if prefix + "attribute" not in request.POST:
            continue
        row.ometria_attribute = request.POST.get(prefix + "attribute", "").strip()
        row.value = request.POST.get(prefix + "value", "").strip()
        row.absent_value = request.POST.get(prefix + "absent", "").strip()
        row.remove = bool(request.POST.get(prefix + "remove"))
        m = row.mapping
        saved = {
            "ometria_attribute": m.ometria_attribute,
            "value": m.value,
            "absent_value": m.absent_value,
        }
        now = {
            "ometria_attribute": row.ometria_attribute,
            "value": row.value,
            "absent_value": row.absent_value,
        }
        if not row.remove and now == saved:
            continue
        changes.append(
            AttributeChange(
                source=m.source,
                source_name=m.source_name,
                remove=row.remove,
                expected=saved,
                **now,
            )
        )
    new = {
        "source": request.POST.get("new-source", AttributeSource.TAG),
        "source_name": request.POST.get("new-source_name", "").strip(),
        "ometria_attribute": request.POST.get("new-attribute", "").strip(),
        "value": request.POST.get("new-value", "").strip(),
        "absent_value": request.POST.get("new-absent", "").strip(),
        "errors": [],
    }
    if new["source_name"] or new["ometria_attribute"]:
        if any(
            (r.mapping.source, r.mapping.source_name) == (new["source"], new["source_name"])
            for r in table.rows
        ):
            new["errors"].append(
                f"“{new['source_name']}” is already mapped: change its row above instead."
            )
        changes.append(
            AttributeChange(
                source=new["source"],
                source_name=new["source_name"],
                ometria_attribute=new["ometria_attribute"],
                value=new["value"],
                absent_value=new["absent_value"],
                expected=None,
            )
        )
    return changes, new


@login_required
@require_POST
def attribute_preview(request: HttpRequest, slug: str) -> HttpResponse:
    brand = _editable_brand(request, slug)
    table = attribute_table(brand=brand)
    changes, new = _read_attribute_form(request, table)
    if not changes:
        messages.info(
            request,
            "Nothing to preview: change a mapping, tick “remove”, or fill in the new mapping "
            "first.",
        )
        return redirect("mappings:attributes", slug=brand.slug)
    errors: dict[str, list[str]] = {}
    try:
        ATTRIBUTES.validate(brand=brand, changes=changes)
    except MappingError as exc:
        errors = exc.errors
    new_key = attribute_key(new["source"], new["source_name"])
    for row in table.rows:
        row.errors = errors.get(row.key, []) if row.key != new_key else []
    if new["source_name"] or new["ometria_attribute"]:
        new["errors"] += errors.get(new_key, [])
    if errors or new["errors"]:
        return _attribute_page(
            request,
            brand,
            table,
            new=new,
            form_error="Some rows cannot be saved: nothing was changed. See below.",
            status=400,
        )
    return preview_page(request, brand, ATTRIBUTES, changes, save_url=ATTRIBUTES.save_url(brand))


@login_required
@require_POST
def attribute_save(request: HttpRequest, slug: str) -> HttpResponse:
    return save_previewed(request, _editable_brand(request, slug), ATTRIBUTES)

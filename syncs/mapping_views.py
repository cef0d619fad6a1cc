"""The mappings pages: order statuses and contact attributes, per brand, for marketing.

Thin: the forms are read into changes, and every change goes through a service in
syncs.mappings (`mapping_save`, `attribute_mapping_save`, `mapping_revert`) or a preview in
syncs.previews, which writes nothing. A brand is looked up through the tenant wall
(`Brand.objects.for_user`), so another brand's page is a 404; members outside marketing and
admin may look but not change (403).

Saving is two clicks: "Preview" shows what the change would do, and carries the change,
signed, in the form of its "Save" button.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from brands.models import Brand
from connectors.errors import ConnectorError
from connectors.models import Connection
from syncs.mapping_selectors import (
    AttributeTable,
    StatusTable,
    attribute_table,
    can_edit_mappings,
    mapping_history,
    status_table,
    waiting_by_brand,
)
from syncs.mappings import (
    AttributeChange,
    MappingError,
    SaveResult,
    StatusChange,
    attribute_changes_validate,
    attribute_key,
    attribute_mapping_save,
    brightpearl_statuses,
    brightpearl_tags,
    change_from_dict,
    describe,
    mapping_revert,
    mapping_save,
    revert_change,
    status_changes_validate,
    tags_or_none,
)
from syncs.models import (
    AttributeSource,
    LifecycleStage,
    MappingChange,
    MappingKind,
    OmetriaOrderStatus,
    StatusMapping,
)
from syncs.previews import attribute_mapping_preview, mapping_preview

SIGNING_SALT = "mappings.preview"
# A draft only fills the page again; its own salt, so a link in a history is never a Save.
DRAFT_SALT = "mappings.draft"
# A preview's Save button works for a day; after that, preview again.
PREVIEW_MAX_AGE = 24 * 3600


def _brand(request: HttpRequest, slug: str) -> Brand:
    """The brand if the user belongs to it; a 404 otherwise, whatever it is."""
    return get_object_or_404(Brand.objects.for_user(request.user), slug=slug)


def _editable_brand(request: HttpRequest, slug: str) -> Brand:
    brand = _brand(request, slug)
    if not can_edit_mappings(request.user, brand):
        raise PermissionDenied(
            "Only the brand's marketing and admin teams change its mappings; ask one of them."
        )
    return brand


def _sign(
    brand: Brand, changes, revert: MappingChange | None = None, salt: str = SIGNING_SALT
) -> str:
    # Compressed: a draft of many changes travels in a link, and servers cap a request line
    # (gunicorn at 4 KB).
    return signing.dumps(
        {
            "brand": brand.pk,
            "changes": [c.as_dict() for c in changes],
            "revert": revert.pk if revert else None,
        },
        salt=salt,
        compress=True,
    )


def _unsign(request: HttpRequest, brand: Brand) -> dict | None:
    try:
        payload = signing.loads(
            request.POST.get("payload", ""), salt=SIGNING_SALT, max_age=PREVIEW_MAX_AGE
        )
    except signing.BadSignature:
        return None
    return payload if payload.get("brand") == brand.pk else None


def _stale_preview(request: HttpRequest, brand: Brand, kind: str) -> HttpResponse:
    """A Save whose preview expired or was changed on the way: nothing is saved, and the
    page says so in words, with the way back (still a 400 for anything that checks)."""
    return render(
        request,
        "mappings/stale_preview.html",
        {"brand": brand, "back_url": _back(brand, kind), "kind": kind},
        status=400,
    )


def _draft(request: HttpRequest, brand: Brand, kind: str) -> list:
    """The changes a preview's "Back, without saving" carries back (signed, in `?draft=`),
    so the page shows the person's choices again instead of the saved ones."""
    raw = request.GET.get("draft", "")
    if not raw:
        return []
    try:
        payload = signing.loads(raw, salt=DRAFT_SALT, max_age=PREVIEW_MAX_AGE)
    except signing.BadSignature:
        return []
    if payload.get("brand") != brand.pk or payload.get("revert"):
        return []
    changes = [change_from_dict(c) for c in payload.get("changes", [])]
    return [c for c in changes if c.kind == kind]


# --- the brand picker ------------------------------------------------------------------------
@login_required
@require_GET
def picker(request: HttpRequest) -> HttpResponse:
    brands = list(Brand.objects.for_user(request.user))
    if len(brands) == 1:
        return redirect("mappings:statuses", slug=brands[0].slug)
    waiting = waiting_by_brand(brands)
    rows = [
        {
            "brand": b,
            "statuses": waiting.get(b.pk, (0, 0))[0],
            "orders": waiting.get(b.pk, (0, 0))[1],
        }
        for b in brands
    ]
    return render(request, "mappings/picker.html", {"rows": rows})


# --- order statuses ----------------------------------------------------------------------------
def _status_context(request, brand: Brand, table: StatusTable, **extra) -> dict:
    history, total = mapping_history(brand=brand, kind=MappingKind.STATUS)
    return {
        "brand": brand,
        "table": table,
        "can_edit": can_edit_mappings(request.user, brand),
        "ometria_statuses": OmetriaOrderStatus.choices,
        "stages": LifecycleStage.choices,
        "history": history,
        "history_total": total,
        "tab": "statuses",
        **extra,
    }


@login_required
@require_GET
def statuses(request: HttpRequest, slug: str) -> HttpResponse:
    brand = _brand(request, slug)
    table = status_table(brand=brand)
    for change in _draft(request, brand, MappingKind.STATUS):
        row = table.row(change.bp_status_id)
        if row:
            row.ometria_status, row.lifecycle_stage = change.ometria_status, change.lifecycle_stage
            row.changed = True
    return render(request, "mappings/statuses.html", _status_context(request, brand, table))


@login_required
@require_POST
def refresh(request: HttpRequest, slug: str) -> HttpResponse:
    """Read the statuses and tags from Brightpearl again now, instead of the cached lists."""
    brand = _brand(request, slug)
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
    back = request.POST.get("next") or ""
    if back == "attributes":
        return redirect("mappings:attributes", slug=brand.slug)
    return redirect("mappings:statuses", slug=brand.slug)


def _read_status_form(request, table: StatusTable) -> list[StatusChange]:
    """The rows whose choices differ from what is saved, as changes; the table keeps what
    was chosen, so a page shown again with errors shows it."""
    changes = []
    for row in table.rows:
        prefix = f"s-{row.id}-"
        if prefix + "ometria" not in request.POST and prefix + "stage" not in request.POST:
            continue
        row.ometria_status = request.POST.get(prefix + "ometria", "").strip()
        row.lifecycle_stage = request.POST.get(prefix + "stage", "").strip()
        saved = (
            (row.mapping.ometria_status, row.mapping.lifecycle_stage) if row.mapping else ("", "")
        )
        if (row.ometria_status, row.lifecycle_stage) == saved:
            continue
        row.changed = True
        changes.append(
            StatusChange(
                bp_status_id=row.id,
                bp_status_name=row.name,
                ometria_status=row.ometria_status,
                lifecycle_stage=row.lifecycle_stage,
                expected=(
                    {"ometria_status": saved[0], "lifecycle_stage": saved[1]}
                    if row.mapping
                    else None
                ),
            )
        )
    return changes


@login_required
@require_POST
def status_preview(request: HttpRequest, slug: str) -> HttpResponse:
    brand = _editable_brand(request, slug)
    table = status_table(brand=brand)
    changes = _read_status_form(request, table)
    if not changes:
        messages.info(
            request,
            "Nothing to preview: choose a different Ometria status or lifecycle stage for a "
            "status first.",
        )
        return redirect("mappings:statuses", slug=brand.slug)
    try:
        status_changes_validate(
            changes=changes,
            statuses=table.statuses,
            mapped=StatusMapping.objects.filter(brand=brand).values_list("bp_status_id", flat=True),
        )
    except MappingError as exc:
        for key, errors in exc.errors.items():
            row = table.row(int(key))
            if row:
                row.errors = errors
        return render(
            request,
            "mappings/statuses.html",
            _status_context(request, brand, table, form_error=exc.message),
            status=400,
        )
    return _preview_page(
        request, brand, changes, save_url=reverse("mappings:status_save", args=[brand.slug])
    )


def _preview_page(
    request: HttpRequest,
    brand: Brand,
    changes: list,
    *,
    save_url: str,
    revert: MappingChange | None = None,
) -> HttpResponse:
    """What the changes (all of one kind) would do, with a Save button that carries them,
    signed. Nothing is written here."""
    kind = changes[0].kind
    if kind == MappingKind.STATUS:
        template, preview = "mappings/status_preview.html", mapping_preview
    else:
        template, preview = "mappings/attribute_preview.html", attribute_mapping_preview
    draft = _sign(brand, changes, salt=DRAFT_SALT)
    return render(
        request,
        template,
        {
            "brand": brand,
            "entry": revert,
            "preview": preview(brand=brand, changes=changes),
            "rows": _change_rows(changes, kind),
            "payload": _sign(brand, changes, revert=revert),
            "save_url": save_url,
            "back_url": _back(brand, kind),
            # Back to the page with the choices still made (a revert had none to keep).
            "edit_url": _back(brand, kind)
            if revert
            else f"{_back(brand, kind)}?{urlencode({'draft': draft})}",
        },
    )


def _change_rows(changes, kind: str) -> list[dict]:
    return [
        {
            "label": c.label,
            "before": describe(kind, c.expected if isinstance(c.expected, dict) else None),
            "after": describe(kind, c.after),
        }
        for c in changes
    ]


def _saved(request: HttpRequest, result) -> None:
    messages.success(request, result.summary())


def _save_previewed(
    request: HttpRequest, slug: str, *, kind: str, save: Callable[..., SaveResult]
) -> HttpResponse:
    """The Save button of a preview: the signed changes, through the kind's save service."""
    brand = _editable_brand(request, slug)
    payload = _unsign(request, brand)
    if payload is None:
        return _stale_preview(request, brand, kind)
    changes = [change_from_dict(c) for c in payload["changes"]]
    if any(c.kind != kind for c in changes):
        # A preview of the other page, posted here: preview again on the right one.
        return _stale_preview(request, brand, kind)
    try:
        result = save(brand=brand, changes=changes, actor=request.user)
    except MappingError as exc:
        details = " ".join(m for errors in exc.errors.values() for m in errors)
        messages.error(request, f"{exc.message} {details}".strip())
    else:
        _saved(request, result)
    return redirect(_back(brand, kind))


@login_required
@require_POST
def status_save(request: HttpRequest, slug: str) -> HttpResponse:
    return _save_previewed(request, slug, kind=MappingKind.STATUS, save=mapping_save)


# --- reverting an entry of the history -----------------------------------------------------
def _entry(brand: Brand, pk: int) -> MappingChange:
    return get_object_or_404(MappingChange, brand=brand, pk=pk)


def _back(brand: Brand, kind: str) -> str:
    name = "mappings:statuses" if kind == MappingKind.STATUS else "mappings:attributes"
    return reverse(name, args=[brand.slug])


@login_required
@require_GET
def revert_preview(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    brand = _editable_brand(request, slug)
    entry = _entry(brand, pk)
    change = revert_change(entry)
    if change.expected == change.after:
        messages.info(
            request,
            f"“{entry.label}” is already {describe(entry.kind, change.after)}: there is "
            "nothing to revert.",
        )
        return redirect(_back(brand, entry.kind))
    return _preview_page(
        request,
        brand,
        [change],
        save_url=reverse("mappings:revert", args=[brand.slug, entry.pk]),
        revert=entry,
    )


@login_required
@require_POST
def revert(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    brand = _editable_brand(request, slug)
    entry = _entry(brand, pk)
    payload = _unsign(request, brand)
    if payload is None or payload.get("revert") != entry.pk:
        return _stale_preview(request, brand, entry.kind)
    expected = payload["changes"][0].get("expected")
    try:
        result = mapping_revert(entry=entry, actor=request.user, expected=expected)
    except MappingError as exc:
        messages.error(request, exc.message)
    else:
        _saved(request, result)
    return redirect(_back(brand, entry.kind))


# --- contact attributes ------------------------------------------------------------------------
def _attribute_context(request, brand: Brand, table: AttributeTable, **extra) -> dict:
    history, total = mapping_history(brand=brand, kind=MappingKind.ATTRIBUTE)
    return {
        "brand": brand,
        "table": table,
        "can_edit": can_edit_mappings(request.user, brand),
        "sources": AttributeSource.choices,
        "history": history,
        "history_total": total,
        "tab": "attributes",
        "new": extra.pop("new", {}),
        **extra,
    }


@login_required
@require_GET
def attributes(request: HttpRequest, slug: str) -> HttpResponse:
    brand = _brand(request, slug)
    table = attribute_table(brand=brand)
    new: dict = {}
    rows = {row.key: row for row in table.rows}
    for change in _draft(request, brand, MappingKind.ATTRIBUTE):
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
    return render(
        request, "mappings/attributes.html", _attribute_context(request, brand, table, new=new)
    )


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
        attribute_changes_validate(changes=changes, tags=tags_or_none(brand))
    except MappingError as exc:
        errors = exc.errors
    new_key = attribute_key(new["source"], new["source_name"])
    for row in table.rows:
        row.errors = errors.get(row.key, []) if row.key != new_key else []
    if new["source_name"] or new["ometria_attribute"]:
        new["errors"] += errors.get(new_key, [])
    if errors or new["errors"]:
        return render(
            request,
            "mappings/attributes.html",
            _attribute_context(
                request,
                brand,
                table,
                new=new,
                form_error="Some rows cannot be saved: nothing was changed. See below.",
            ),
            status=400,
        )
    return _preview_page(
        request, brand, changes, save_url=reverse("mappings:attribute_save", args=[brand.slug])
    )


@login_required
@require_POST
def attribute_save(request: HttpRequest, slug: str) -> HttpResponse:
    return _save_previewed(request, slug, kind=MappingKind.ATTRIBUTE, save=attribute_mapping_save)

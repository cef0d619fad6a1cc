"""What every mappings page shares, whatever it maps: the editable table read back into
changes, the preview whose Save button carries the changes signed, the draft that "Back,
without saving" carries, the stale-preview page, the save, the history and the revert.

A page is an `Editor` (syncs/mapping_kinds.py has one for order statuses, one for contact
attributes, and one that serves every kind of value map): adding a kind of value map adds
no view, form or template.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from brands.models import Brand
from syncs.mapping_base import MappingError, SaveResult
from syncs.mapping_selectors import can_edit_mappings, mapping_history
from syncs.mapping_tables import Row, Table
from syncs.mappings import change_from_dict, describe
from syncs.models import MappingChange
from syncs.valuemaps.registry import kinds_for_brand

SIGNING_SALT = "mappings.preview"
# A draft only fills the page again; its own salt, so a link in a history is never a Save.
DRAFT_SALT = "mappings.draft"
# A preview's Save button works for a day; after that, preview again.
PREVIEW_MAX_AGE = 24 * 3600


class Editor:
    """One mappings page: where it is, how its changes are previewed and saved."""

    kind: str
    # The tab's id and name.
    tab: str
    title: str
    preview_template: str
    # Said beside the Save button of the preview.
    confirm_note = "Saving records the change in the history."

    def url(self, brand: Brand) -> str:
        raise NotImplementedError

    def save_url(self, brand: Brand) -> str:
        raise NotImplementedError

    def preview(self, *, brand: Brand, changes: list) -> Any:
        raise NotImplementedError

    def save(self, *, brand: Brand, changes: list, actor) -> SaveResult:
        raise NotImplementedError

    def owns(self, change) -> bool:
        return str(change.kind) == self.kind


class TableEditor(Editor):
    """A page drawn as a Table (mapping_tables): its rows' cells are read back into changes."""

    template = "mappings/editor.html"
    # The words of the page: what is said when nothing changed, and the noun the page's
    # script counts changed rows in ("status,statuses").
    nothing_to_preview = "Nothing to preview: change a mapping first."
    row_nouns = "row,rows"
    # The vendor whose lists "Refresh" reads again, in words.
    refresh_from = "Brightpearl"
    refresh_note = ""

    def lead(self, brand: Brand) -> str:
        """What the page shows and decides, in a sentence or three."""
        return ""

    def preview_url(self, brand: Brand) -> str:
        raise NotImplementedError

    def table(self, brand: Brand) -> Table:
        raise NotImplementedError

    def change_for(self, row: Row, *, new: bool = False):
        """The change a row's cells ask for (its `expected`: what the row showed as saved)."""
        raise NotImplementedError

    def values_of(self, change) -> dict[str, str]:
        """A change as the cells show it (to fill a row from a draft)."""
        raise NotImplementedError

    def key_of(self, change) -> str:
        return change.key

    def clean(self, change):
        """A change as it would be stored (a kind may trim or normalise its values)."""
        return change

    def validate(self, *, brand: Brand, table: Table, changes: list) -> None:
        """Raise MappingError naming each row's problems."""
        raise NotImplementedError

    def read_form(self, request: HttpRequest, table: Table) -> list:
        """The rows whose cells differ from what is saved, as changes; the table keeps what
        was typed or chosen, so a page shown again with errors shows it."""
        changes = []
        for row in table.rows:
            if not any(cell.name in request.POST for cell in row.cells):
                continue
            for cell in row.cells:
                if cell.name in request.POST:
                    cell.value = request.POST.get(cell.name, "").strip()
            if not row.differs:
                continue
            row.changed = True
            changes.append(self.clean(self.change_for(row)))
        new = table.new
        if new is not None:
            for cell in new.cells:
                cell.value = request.POST.get(cell.name, "").strip()
            if any(cell.value for cell in new.cells):
                change = self.clean(self.change_for(new, new=True))
                new.key = self.key_of(change)
                if table.row(new.key) is not None:
                    new.errors.append(
                        f"“{new.key}” has a row above already: change it there instead."
                    )
                changes.append(change)
        return changes

    def apply_draft(self, table: Table, changes: Sequence) -> None:
        """Show a draft's choices again, instead of the saved ones."""
        for change in changes:
            row = table.row(self.key_of(change))
            if row is not None:
                row.fill(self.values_of(change))
                row.changed = row.differs
            elif table.new is not None:
                table.new.fill(self.values_of(change))


# --- signing ------------------------------------------------------------------------------------
def sign(brand: Brand, changes, revert: MappingChange | None = None, salt: str = SIGNING_SALT):
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


def unsign(request: HttpRequest, brand: Brand) -> dict | None:
    try:
        payload = signing.loads(
            request.POST.get("payload", ""), salt=SIGNING_SALT, max_age=PREVIEW_MAX_AGE
        )
    except signing.BadSignature:
        return None
    return payload if payload.get("brand") == brand.pk else None


def draft_changes(request: HttpRequest, brand: Brand, editor: Editor) -> list:
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
    try:
        changes = [change_from_dict(c) for c in payload.get("changes", [])]
    except (KeyError, ValueError, TypeError):
        return []
    return [c for c in changes if editor.owns(c)]


# --- pages ----------------------------------------------------------------------------------------
def tabs(brand: Brand) -> list[dict]:
    """The brand's mapping pages: statuses, attributes, and each kind of value map whose
    two systems the brand is connected to."""
    return [
        {
            "id": "statuses",
            "title": "Order statuses",
            "url": reverse("mappings:statuses", args=[brand.slug]),
        },
        {
            "id": "attributes",
            "title": "Contact attributes",
            "url": reverse("mappings:attributes", args=[brand.slug]),
        },
        *(
            {
                "id": f"value:{k.code}",
                "title": k.label,
                "url": reverse("mappings:values", args=[brand.slug, k.code]),
            }
            for k in kinds_for_brand(brand)
        ),
    ]


def page_context(request: HttpRequest, brand: Brand, editor: Editor, **extra) -> dict:
    history, total = mapping_history(brand=brand, kind=editor.kind)
    return {
        "brand": brand,
        "editor": editor,
        "tabs": tabs(brand),
        "tab": editor.tab,
        "can_edit": can_edit_mappings(request.user, brand, editor.kind),
        "history": history,
        "history_total": total,
        **extra,
    }


def editor_page(
    request: HttpRequest, brand: Brand, editor: TableEditor, *, status: int = 200, **extra
) -> HttpResponse:
    table = extra.pop("table", None)
    if table is None:
        table = editor.table(brand)
        editor.apply_draft(table, draft_changes(request, brand, editor))
    return render(
        request,
        editor.template,
        page_context(
            request,
            brand,
            editor,
            table=table,
            lead=editor.lead(brand),
            preview_url=editor.preview_url(brand),
            **extra,
        ),
        status=status,
    )


def editor_preview(request: HttpRequest, brand: Brand, editor: TableEditor) -> HttpResponse:
    """Read the page's form, refuse what cannot be saved (row by row, page shown again), or
    show what saving would do."""
    table = editor.table(brand)
    changes = editor.read_form(request, table)
    if not changes:
        messages.info(request, editor.nothing_to_preview)
        return redirect(editor.url(brand))
    errors: dict[str, list[str]] = {}
    message = "Some rows cannot be saved: nothing was changed. See below."
    try:
        editor.validate(brand=brand, table=table, changes=changes)
    except MappingError as exc:
        errors, message = exc.errors, exc.message
    new = table.new
    for row in table.rows:
        row.errors = errors.get(row.key, []) if new is None or row.key != new.key else []
    if new is not None and any(c.value for c in new.cells):
        new.errors += [e for e in errors.get(new.key, []) if e not in new.errors]
    if errors or (new is not None and new.errors):
        return editor_page(request, brand, editor, table=table, form_error=message, status=400)
    return preview_page(request, brand, editor, changes, save_url=editor.save_url(brand))


def preview_page(
    request: HttpRequest,
    brand: Brand,
    editor: Editor,
    changes: list,
    *,
    save_url: str,
    revert: MappingChange | None = None,
) -> HttpResponse:
    """What the changes (all of one page) would do, with a Save button that carries them,
    signed. Nothing is written here."""
    back = editor.url(brand)
    draft = sign(brand, changes, salt=DRAFT_SALT)
    return render(
        request,
        editor.preview_template,
        {
            "brand": brand,
            "editor": editor,
            "entry": revert,
            "preview": editor.preview(brand=brand, changes=changes),
            "rows": change_rows(changes),
            "payload": sign(brand, changes, revert=revert),
            "save_url": save_url,
            "back_url": back,
            # Back to the page with the choices still made (a revert had none to keep).
            "edit_url": back if revert else f"{back}?{urlencode({'draft': draft})}",
        },
    )


def change_rows(changes) -> list[dict]:
    return [
        {
            "label": c.label,
            "before": describe(str(c.kind), c.expected if isinstance(c.expected, dict) else None),
            "after": describe(str(c.kind), c.after),
        }
        for c in changes
    ]


def stale_preview(request: HttpRequest, brand: Brand, editor: Editor) -> HttpResponse:
    """A Save whose preview expired or was changed on the way: nothing is saved, and the
    page says so in words, with the way back (still a 400 for anything that checks)."""
    return render(
        request,
        "mappings/stale_preview.html",
        {"brand": brand, "back_url": editor.url(brand), "editor": editor},
        status=400,
    )


def save_previewed(request: HttpRequest, brand: Brand, editor: Editor) -> HttpResponse:
    """The Save button of a preview: the signed changes, through the page's save service."""
    payload = unsign(request, brand)
    if payload is None or payload.get("revert"):
        return stale_preview(request, brand, editor)
    try:
        changes = [change_from_dict(c) for c in payload["changes"]]
    except (KeyError, ValueError, TypeError):
        return stale_preview(request, brand, editor)
    if not changes or not all(editor.owns(c) for c in changes):
        # A preview of another page, posted here: preview again on the right one.
        return stale_preview(request, brand, editor)
    try:
        result = editor.save(brand=brand, changes=changes, actor=request.user)
    except MappingError as exc:
        details = " ".join(m for errors in exc.errors.values() for m in errors)
        messages.error(request, f"{exc.message} {details}".strip())
    else:
        messages.success(request, result.summary())
    return redirect(editor.url(brand))

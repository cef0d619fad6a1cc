"""The owners' pages: the inbox, a ticket, and the buttons on them.

Thin on purpose: every change goes through exceptions.services, which refuses with a
message the person can act on. Every ticket is looked up through the tenant wall
(`Ticket.objects.for_user`), so another brand's ticket is a 404 and never an action.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from brands.models import Team
from exceptions.filters import DEFAULTS, TicketFilter
from exceptions.hooks import flow_label
from exceptions.models import Ticket
from exceptions.selectors import (
    assignable_people,
    exception_types,
    inbox_scope,
    people_of_brands,
    type_counts,
)
from exceptions.services import (
    TicketActionError,
    owner_label,
    people_of_brand,
    retry_blocker,
    retry_outcome,
    retry_scope,
    ticket_comment,
    ticket_ignore,
    ticket_reassign,
    ticket_reopen,
    ticket_resolve,
    ticket_retry,
    tickets_bulk,
)
from exceptions.snapshots import snapshot_raw, snapshot_view

PAGE_SIZE = 25


# --- the inbox ----------------------------------------------------------------------------
@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    scope = inbox_scope(request.user)
    # What a refused bulk action left ticked and typed, shown again this once.
    kept = request.session.pop(KEPT_BULK, None) or {}
    types = exception_types()
    people = people_of_brands(scope.brands)
    data = request.GET.copy()
    for key, value in DEFAULTS.items():
        data.setdefault(key, value)
    filterset = TicketFilter(
        data,
        queryset=Ticket.objects.filter(brand_id__in=scope.brand_ids).order_by("-last_seen", "-pk"),
        scope=scope,
        types=types,
        people=people,
    )
    if "brand" in filterset.errors:
        # Another brand's slug (or none at all): the same answer, so nothing leaks.
        raise Http404("You do not belong to that brand.")

    counts = type_counts(filterset.queryset_without("type"))
    selected = filterset.selected_type
    total = counts.get(selected.pk, 0) if selected else sum(counts.values())
    # The counts per type already add up to the total: no COUNT(*) over the tickets.
    paginator = Paginator(filterset.qs, PAGE_SIZE)
    paginator.count = total
    page = paginator.get_page(request.GET.get("page"))
    tickets = _page_tickets(filterset.qs, page.number, scope, types)
    type_rows = sorted(
        (
            {"type": t, "count": counts.get(t.pk, 0), "selected": t == selected}
            for t in types
            if counts.get(t.pk) or t == selected
        ),
        key=lambda row: (-row["count"], row["type"].title),
    )
    return render(
        request,
        "exceptions/inbox.html",
        {
            "filterset": filterset,
            "form_errors": [
                f"{filterset.form[name].label}: {' '.join(errors)}"
                for name, errors in filterset.errors.items()
            ],
            "page": page,
            "tickets": tickets,
            "total": total,
            "all_count": sum(counts.values()),
            "type_rows": type_rows,
            "selected_type": selected,
            "summary": _summary(filterset, scope),
            "scope": scope,
            "teams": Team.choices,
            "people": people,
            "here": request.get_full_path(),
            "kept": kept,
            "kept_tickets": set(kept.get("tickets", [])),
        },
    )


def _page_tickets(ordered, number: int, scope, types) -> list[Ticket]:
    """One page of tickets, in two small steps that stay fast with 100,000 of them.

    First the page's ids, sorted and sliced: the database sorts only (sort key, id) pairs,
    which its indexes hold, instead of whole rows. Then those 25 rows, in that order.
    """
    offset = (number - 1) * PAGE_SIZE
    ids = list(ordered.values_list("pk", flat=True)[offset : offset + PAGE_SIZE])
    rows = Ticket.objects.filter(pk__in=ids).select_related("assignee").defer("snapshot")
    by_id = {t.pk: t for t in rows}
    brands = {b.pk: b for b in scope.brands}
    types_by_id = {t.pk: t for t in types}
    tickets = [by_id[pk] for pk in ids if pk in by_id]
    for ticket in tickets:
        # Brands and types are already in hand: no join, no query per row.
        ticket.brand = brands[ticket.brand_id]
        ticket.type = types_by_id[ticket.type_id]
    return tickets


def _summary(filterset: TicketFilter, scope) -> str:
    """The filters in words, so the page says what it shows."""
    data = filterset.form.cleaned_data if filterset.is_bound else {}
    form = filterset.form
    parts = []

    def label(name: str) -> str:
        return dict(form.fields[name].choices).get(data.get(name), "")

    status = data.get("status")
    parts.append(
        "still to do" if status == "open" else (label("status").lower() if status else "any status")
    )
    team = data.get("team")
    if team == "mine":
        mine = [
            f"{Team(t).label} at {scope.brand(b).name}"
            for b, teams in scope.teams_by_brand.items()
            for t in sorted(teams)
        ]
        parts.append("owned by your teams (" + "; ".join(mine) + ")" if mine else "of your teams")
    elif team:
        parts.append(f"owned by the {label('team')} team")
    else:
        parts.append("owned by any team")
    for name, words in (("brand", "of"), ("flow", "in the flow"), ("type", "of the type")):
        if data.get(name):
            parts.append(f"{words} {label(name)}")
    if data.get("assignee") == "none":
        parts.append("assigned to nobody yet")
    elif data.get("assignee") == "me":
        parts.append("assigned to you")
    elif data.get("assignee"):
        parts.append(f"assigned to {label('assignee')}")
    if data.get("age"):
        parts.append(f"first seen {label('age').lower()}")
    return ", ".join(parts)


# --- one ticket ---------------------------------------------------------------------------
def _visible_ticket(request: HttpRequest, pk: int) -> Ticket:
    """The ticket if it is of one of the user's brands; a 404 otherwise, whatever it is."""
    return get_object_or_404(
        Ticket.objects.for_user(request.user).select_related("brand", "type", "assignee"), pk=pk
    )


@login_required
@require_GET
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _visible_ticket(request, pk)
    return _ticket_page(request, ticket, here=request.get_full_path())


def _ticket_page(
    request: HttpRequest,
    ticket: Ticket,
    *,
    here: str,
    entered: dict[str, dict[str, str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The ticket's page. `entered` holds what the person typed into a form that was
    refused (by form: "reassign", "resolve"…), shown again so nothing has to be retyped."""
    scope = retry_scope(ticket)
    # The inbox's filters travel in the ticket page's own address (`?from=…`).
    back = parse_qs(urlsplit(here).query).get("from", [""])[0]
    return render(
        request,
        "exceptions/ticket.html",
        {
            "ticket": ticket,
            "events": ticket.events.select_related("actor"),
            "people": assignable_people(ticket.brand),
            "teams": Team.choices,
            "retry_blocker": retry_blocker(ticket),
            "retry_outcome": retry_outcome(ticket),
            "retry_count": len(scope),
            "flow_name": flow_label(ticket.flow) if ticket.flow else "",
            # The data in words for everyone; as stored, behind "Details", for admins only.
            "snapshot": snapshot_view(ticket),
            "snapshot_raw": snapshot_raw(ticket, request.user),
            "inbox_url": reverse("exceptions:inbox") + (f"?{back}" if back else ""),
            "here": here,
            "entered": entered or {},
        },
        status=status,
    )


def _next(request: HttpRequest, default: str) -> str:
    """Where to go after a POST: the page it came from, if it is one of ours."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _act(
    request: HttpRequest,
    ticket: Ticket,
    action: Callable[[], Any],
    done: Callable[[], str],
    *,
    form: str = "",
    entered: dict[str, str] | None = None,
) -> HttpResponse:
    """Run one service and say what it did. Done: back to the page it came from. Refused:
    the ticket's page again, with why and with what was typed into `form` still in it."""
    try:
        action()
    except TicketActionError as exc:
        return _refused(request, ticket, str(exc), form=form, entered=entered)
    messages.success(request, done())
    return redirect(_next(request, reverse("exceptions:ticket", args=[ticket.pk])))


def _refused(
    request: HttpRequest,
    ticket: Ticket,
    reason: str,
    *,
    form: str = "",
    entered: dict[str, str] | None = None,
) -> HttpResponse:
    messages.error(request, reason)
    # Read again: a refused service may have looked at (or locked) a newer state.
    ticket = _visible_ticket(request, ticket.pk)
    here = _next(request, reverse("exceptions:ticket", args=[ticket.pk]))
    # The refused form's values come back with the page, so the person only corrects.
    kept = {form: entered or {}} if form else {}
    return _ticket_page(request, ticket, here=here, entered=kept, status=400)


@login_required
@require_POST
def ticket_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _visible_ticket(request, pk)
    scope = retry_scope(ticket)
    count = len(scope)
    what = (
        f"{count} record{pluralize(count)}"
        if scope
        else f"the whole {flow_label(ticket.flow)} flow"
    )
    return _act(
        request,
        ticket,
        lambda: ticket_retry(ticket=ticket, actor=request.user),
        lambda: f"Ticket #{ticket.pk}: a sync of {what} is queued. {retry_outcome(ticket)}",
    )


@login_required
@require_POST
def ticket_reassign_view(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _visible_ticket(request, pk)
    entered = {
        "team": request.POST.get("team", ""),
        "assignee": request.POST.get("assignee", ""),
        "note": request.POST.get("note", ""),
    }
    assignee = None
    raw = entered["assignee"]
    if raw:
        assignee = people_of_brand(ticket.brand).filter(pk=raw if raw.isdigit() else 0).first()
        if assignee is None:
            return _refused(
                request,
                ticket,
                f"That person is not one of the people of {ticket.brand}; "
                "choose one from the list.",
                form="reassign",
                entered=entered,
            )

    def done() -> str:
        who = owner_label(ticket.team, assignee)
        return f"Ticket #{ticket.pk} reassigned to {who}. It now shows in their inbox."

    return _act(
        request,
        ticket,
        lambda: ticket_reassign(
            ticket=ticket,
            actor=request.user,
            team=entered["team"],
            assignee=assignee,
            note=entered["note"],
        ),
        done,
        form="reassign",
        entered=entered,
    )


def _note_action(
    request: HttpRequest,
    pk: int,
    form: str,
    service: Callable[..., Any],
    done: Callable[[Ticket], str],
) -> HttpResponse:
    """Resolve, ignore, reopen and comment: one service that takes the person's note."""
    ticket = _visible_ticket(request, pk)
    note = request.POST.get("note", "")
    return _act(
        request,
        ticket,
        lambda: service(ticket=ticket, actor=request.user, note=note),
        lambda: done(ticket),
        form=form,
        entered={"note": note},
    )


@login_required
@require_POST
def ticket_resolve_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _note_action(
        request,
        pk,
        "resolve",
        ticket_resolve,
        lambda t: f"Ticket #{t.pk} resolved. If the same problem comes back, it reopens by itself.",
    )


@login_required
@require_POST
def ticket_ignore_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _note_action(
        request,
        pk,
        "ignore",
        ticket_ignore,
        lambda t: (
            f"Ticket #{t.pk} ignored. It no longer shows among the tickets still to "
            "do; repeats of the problem are still counted on it."
        ),
    )


@login_required
@require_POST
def ticket_reopen_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _note_action(
        request,
        pk,
        "reopen",
        ticket_reopen,
        lambda t: (
            f"Ticket #{t.pk} reopened. It is back among the tickets still to do of "
            f"{owner_label(t.team, t.assignee)}."
        ),
    )


@login_required
@require_POST
def ticket_comment_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _note_action(
        request,
        pk,
        "comment",
        ticket_comment,
        lambda t: f"Comment added to the history of ticket #{t.pk}.",
    )


# --- several tickets at once --------------------------------------------------------------
# Where a refused bulk action leaves what the person chose, for the inbox to show again.
KEPT_BULK = "inbox_bulk_kept"


@login_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    back = _next(request, reverse("exceptions:inbox"))
    try:
        ids = {int(i) for i in request.POST.getlist("ticket")}
    except ValueError:
        raise Http404("No such ticket.") from None
    entered = {
        "team": request.POST.get("team", ""),
        "assignee": request.POST.get("assignee", ""),
        "note": request.POST.get("note", ""),
    }
    if not ids:
        _keep_bulk(request, [], entered)
        messages.warning(
            request,
            "No ticket was selected. Tick the box at the start of each ticket's row, "
            "then choose what to do with them.",
        )
        return redirect(back)
    tickets = list(
        Ticket.objects.for_user(request.user)
        .filter(pk__in=ids)
        .select_related("brand", "type", "assignee")
        .order_by("pk")
    )
    if len(tickets) != len(ids):
        # One ticket outside the user's brands (or none at all): nothing is done to any.
        raise Http404("No such ticket.")

    assignee = None
    raw = entered["assignee"]
    if raw:
        scope = inbox_scope(request.user)
        assignee = next((p for p in people_of_brands(scope.brands) if str(p.pk) == raw), None)
        if assignee is None:
            _keep_bulk(request, sorted(ids), entered)
            messages.error(
                request, "That person is not one of your brands' people; choose one from the list."
            )
            return redirect(back)
    try:
        outcome = tickets_bulk(
            action=request.POST.get("action", ""),
            tickets=tickets,
            actor=request.user,
            team=entered["team"],
            assignee=assignee,
            note=entered["note"],
        )
    except TicketActionError as exc:
        _keep_bulk(request, sorted(ids), entered)
        messages.error(request, str(exc))
        return redirect(back)
    if not outcome.refused:
        level = messages.SUCCESS
    elif outcome.done:
        level = messages.WARNING
    else:
        level = messages.ERROR
    if outcome.refused:
        # The tickets still to deal with stay ticked; those done are done.
        _keep_bulk(request, [t.pk for t, _ in outcome.refused], entered)
    messages.add_message(request, level, outcome.summary())
    return redirect(back)


def _keep_bulk(request: HttpRequest, ids: list[int], entered: dict[str, str]) -> None:
    """A refused bulk action must not cost the person their ticks and their note: the
    inbox they go back to shows them again, once."""
    request.session[KEPT_BULK] = {"tickets": ids, **entered}

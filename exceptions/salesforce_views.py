"""The ticket page's “keep this one” choice for a several-Salesforce-records ticket: thin, over
exceptions.salesforce_matches.ticket_salesforce_keep, like the ticket's other actions."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from exceptions.salesforce_matches import ticket_salesforce_keep
from exceptions.views import _act, _visible_ticket


@login_required
@require_POST
def ticket_salesforce_keep_view(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _visible_ticket(request, pk)
    keep_id = request.POST.get("keep", "")
    cleared: list[str] = []

    def keep() -> None:
        cleared.extend(ticket_salesforce_keep(ticket=ticket, keep_id=keep_id, actor=request.user))

    return _act(
        request,
        ticket,
        keep,
        lambda: (
            f"Ticket #{ticket.pk}: kept {keep_id}; the Brightpearl id is emptied on "
            f"{', '.join(cleared)}, and the customer is synced again."
        ),
        form="keep",
        entered={"keep": keep_id},
    )

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from console.models import Brand
from exceptions.models import OPEN_STATUSES, Ticket


@login_required
def inbox(request):
    tickets = (
        Ticket.objects.filter(
            brand__in=Brand.objects.for_user(request.user), status__in=OPEN_STATUSES
        )
        .select_related("brand", "type")
        .order_by("-last_seen")[:100]
    )
    return render(request, "exceptions/inbox.html", {"tickets": tickets})

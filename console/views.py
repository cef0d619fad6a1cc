from collections import Counter

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from brands.models import Brand, Team, user_teams
from syncs.overview import brands_overview
from syncs.verdict import LABELS, RANK

# People whose daily work is the exceptions inbox land there after signing in.
INBOX_TEAMS = {Team.OPERATIONS, Team.FINANCE, Team.ECOMMERCE, Team.CUSTOMER_SERVICE}


@login_required
def landing(request):
    if user_teams(request.user) & INBOX_TEAMS:
        return redirect("exceptions:inbox")
    return redirect("home")


# How often the overview refreshes itself. Each refresh is a constant handful of queries
# (syncs/overview.py), so a wall screen polling all day costs little.
POLL_SECONDS = 10
# With this many brands or fewer, each brand's connections and flows show unfolded.
UNFOLDED_BRANDS = 3


@login_required
def home(request):
    return render(request, "console/home.html", _overview_context(request))


@require_GET
def home_live(request: HttpRequest) -> HttpResponse:
    """The overview's own refresh (htmx, every POLL_SECONDS). Signed out, it answers 401
    rather than the sign-in page, so the page keeps its last copy and says it is stale."""
    if not request.user.is_authenticated:
        return HttpResponse("Signed out: reload the page to sign in again.", status=401)
    return render(request, "console/_overview.html", _overview_context(request))


def _overview_context(request: HttpRequest) -> dict:
    brands = list(Brand.objects.for_user(request.user).filter(active=True))
    overview = brands_overview(brands)
    counts = Counter(line.verdict.level for line in overview)
    return {
        "overview": overview,
        "counts": [((level, LABELS[level].lower()), counts[level]) for level in RANK],
        "now": timezone.now(),
        "poll_seconds": POLL_SECONDS,
        "open_details": len(overview) <= UNFOLDED_BRANDS,
    }


_sign_out = auth_views.LogoutView.as_view()


@require_http_methods(["GET", "POST"])
def logout(request: HttpRequest) -> HttpResponse:
    """Signing out is a POST (a link or an image must not sign anyone out); a GET, from a
    typed or bookmarked address, gets a page with the button instead of a blank 405."""
    if request.method == "POST":
        return _sign_out(request)
    return render(request, "registration/logout.html")


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page links; send them to the icon. Not a
    permanent redirect: the icon's address changes with its content in production."""
    return redirect(static("console/favicon.svg"))

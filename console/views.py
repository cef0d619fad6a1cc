from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.http import require_GET, require_http_methods

from brands.models import Brand, Team, user_teams
from syncs.overview import brands_overview

# People whose daily work is the exceptions inbox land there after signing in.
INBOX_TEAMS = {Team.OPERATIONS, Team.FINANCE, Team.ECOMMERCE, Team.CUSTOMER_SERVICE}


@login_required
def landing(request):
    if user_teams(request.user) & INBOX_TEAMS:
        return redirect("exceptions:inbox")
    return redirect("home")


@login_required
def home(request):
    brands = list(Brand.objects.for_user(request.user).filter(active=True))
    overview = brands_overview(brands)
    return render(request, "console/home.html", {"overview": overview})


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

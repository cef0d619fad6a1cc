from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from console.models import Brand, Team, user_teams
from syncs.services import brand_overview

# People whose daily work is the exceptions inbox land there after signing in.
INBOX_TEAMS = {Team.OPERATIONS, Team.FINANCE, Team.ECOMMERCE, Team.CUSTOMER_SERVICE}


@login_required
def landing(request):
    if user_teams(request.user) & INBOX_TEAMS:
        return redirect("exceptions:inbox")
    return redirect("home")


@login_required
def home(request):
    brands = Brand.objects.for_user(request.user).filter(active=True)
    overview = [{"brand": brand, "flows": brand_overview(brand)} for brand in brands]
    return render(request, "console/home.html", {"overview": overview})

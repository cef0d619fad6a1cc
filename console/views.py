from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from console.models import Brand


@login_required
def home(request):
    brands = Brand.objects.for_user(request.user).filter(active=True)
    return render(request, "console/home.html", {"brands": brands})

from brands.models import Brand


def navigation(request):
    """The brands in the top bar: only the signed-in user's own."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_brands": Brand.objects.for_user(user).only("name", "slug")}

"""The demo brand and its people. Used only by `manage.py demo` (and the tests of it)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from console.models import Brand, Membership, Team

DEMO_PASSWORD = "demo"
DEMO_USERS: dict[str, list[str]] = {
    "admin": [Team.ADMIN],
    "ops": [Team.OPERATIONS],
    "marketing": [Team.MARKETING],
    "finance": [Team.FINANCE],
}


@transaction.atomic
def demo_setup() -> Brand:
    """Create (or bring back) the demo brand and its users. Safe to run again."""
    brand, _ = Brand.objects.update_or_create(
        slug="demo",
        defaults={"name": "Demo Outfitters", "timezone": "Europe/London", "active": True},
    )
    User = get_user_model()
    for username, teams in DEMO_USERS.items():
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"email": f"{username}@demo.example", "first_name": username.title()},
        )
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
        if username == "admin":
            user.is_staff = user.is_superuser = True
        user.save()
        for team in teams:
            Membership.objects.get_or_create(user=user, brand=brand, team=team)
    return brand

"""The brand's people: who owns its ops, marketing, finance and ecommerce tickets.

Used by the onboarding wizard's people step and by a live brand's settings page, the same
services either way. A person already in the console is assigned by username or e-mail. A
new e-mail address is invited: a user who cannot sign in yet (no usable password) is made,
and sent a one-time link to choose a password, made by Django's password-reset machinery.

Why an *active* user with an unusable password, not an inactive one: Django refuses to sign
in a user whose password is unusable, exactly as it refuses an inactive one, and the
password-reset confirm view then makes the account usable in one step, with no second flag
to flip. The link's token is derived from the password hash and the last login, so it
works once, and it expires after PASSWORD_RESET_TIMEOUT (three days by default).
"""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from brands.audit import audit
from brands.models import Brand, Membership, Team, is_brand_admin

# The owners a brand's tickets go to (exception types name one of these teams).
OWNER_TEAMS = (Team.OPERATIONS, Team.MARKETING, Team.FINANCE, Team.ECOMMERCE)


class PeopleError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PersonForm(forms.Form):
    team = forms.ChoiceField(
        label="Team",
        choices=[(t.value, t.label) for t in OWNER_TEAMS],
        help_text="Tickets of this kind go to this team.",
    )
    who = forms.CharField(
        label="Username or e-mail",
        max_length=254,
        help_text="Someone already in the console, by username or e-mail; or a new e-mail "
        "address, which is sent an invitation to choose a password.",
        error_messages={"required": "Enter a username or an e-mail address."},
    )


def may_change_people(*, brand: Brand, live: bool, actor) -> bool:
    """The same rule as a live brand's credentials: its admins only, once it is live."""
    return not live or actor is None or is_brand_admin(actor, brand)


def brand_owners(brand: Brand) -> list[dict]:
    """Each owner team with its people, in OWNER_TEAMS order, for the page and the review."""
    members = Membership.objects.filter(brand=brand, team__in=OWNER_TEAMS).select_related("user")
    by_team: dict[str, list[Membership]] = {}
    for m in members.order_by("user__username"):
        by_team.setdefault(m.team, []).append(m)
    return [{"team": t, "label": t.label, "members": by_team.get(t.value, [])} for t in OWNER_TEAMS]


def _find(who: str):
    User = get_user_model()
    user = User.objects.filter(username__iexact=who).first()
    if user is not None:
        return user
    by_email = list(User.objects.filter(email__iexact=who)[:2])
    if len(by_email) > 1:
        raise PeopleError(f"More than one person has the e-mail {who}: enter their username.")
    return by_email[0] if by_email else None


def _new_username(email: str) -> str:
    User = get_user_model()
    base = re.sub(r"[^\w.+-]", "", email.split("@")[0].lower())[:140] or "person"
    name, n = base, 1
    while User.objects.filter(username__iexact=name).exists():
        n += 1
        name = f"{base}{n}"
    return name


def set_password_link(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("set_password", args=[uid, token])
    return f"{settings.CONSOLE_PUBLIC_URL.rstrip('/')}{path}"


def _send_invitation(*, user, brand: Brand, team: str, actor) -> None:
    inviter = getattr(actor, "get_full_name", lambda: "")() or getattr(actor, "username", "")
    send_mail(
        subject=f"You are invited to {brand}'s Integration Console",
        message=(
            f"{inviter or 'The agency'} added you to the {Team(team).label} team of {brand} "
            "in the Integration Console, where you will see and fix the problems of its "
            "data syncs.\n\n"
            f"Choose your password here (the link works once, for three days):\n"
            f"{set_password_link(user)}\n\n"
            f"Your username is {user.username}.\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )


def brand_person_add(*, brand: Brand, team: str, who: str, actor=None, live: bool = False) -> str:
    """Put someone in one of the brand's owner teams. Returns "assigned", "invited" or
    "already". Audited (never the link)."""
    if team not in {t.value for t in OWNER_TEAMS}:
        raise PeopleError("Choose the team: operations, marketing, finance or ecommerce.")
    if not may_change_people(brand=brand, live=live, actor=actor):
        raise PeopleError(f"{brand} is live: only its admins may change its people.")
    who = who.strip()
    user = _find(who)
    invited = False
    with transaction.atomic():
        if user is None:
            try:
                validate_email(who)
            except ValidationError:
                raise PeopleError(
                    f"Nobody has the username or e-mail “{who}”. To invite someone new, enter "
                    "their e-mail address (name@example.com)."
                ) from None
            user = get_user_model().objects.create_user(username=_new_username(who), email=who)
            user.set_unusable_password()
            user.save(update_fields=["password"])
            invited = True
        membership, made = Membership.objects.get_or_create(user=user, brand=brand, team=team)
        if not made:
            return "already"
        audit(
            "people.invited" if invited else "people.assigned",
            brand=brand,
            actor=actor,
            target=membership,
            summary=f"{user.username} ({user.email or 'no e-mail'}) "
            + ("invited to" if invited else "added to")
            + f" the {Team(team).label} team.",
            user=user.pk,
            team=team,
        )
        if invited:
            # After the commit: no invitation for a membership that was rolled back.
            transaction.on_commit(
                lambda: _send_invitation(user=user, brand=brand, team=team, actor=actor)
            )
    return "invited" if invited else "assigned"


def brand_person_remove(*, brand: Brand, membership_id: int, actor=None, live: bool = False) -> str:
    """Take someone out of one owner team of the brand (their account stays). Audited."""
    if not may_change_people(brand=brand, live=live, actor=actor):
        raise PeopleError(f"{brand} is live: only its admins may change its people.")
    membership = (
        Membership.objects.filter(brand=brand, pk=membership_id, team__in=OWNER_TEAMS)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise PeopleError("That person is no longer in that team: nothing was changed.")
    label = str(membership)
    membership.delete()
    audit(
        "people.removed",
        brand=brand,
        actor=actor,
        target=label,
        summary=f"{membership.user.username} taken out of the {membership.get_team_display()} "
        "team.",
        user=membership.user_id,
        team=membership.team,
    )
    return membership.user.username

"""The people step (issue 17): the brand's ops, marketing, finance and ecommerce owners,
assigned by username or e-mail, or invited by e-mail with a one-time set-password link.
Audited; on a live brand, its admins only."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from brands.models import AuditEvent, Membership, Team
from tests.console.test_onboarding import staff, start, u

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]
__all__ = ["staff"]  # fixtures, used by name


def test_an_existing_person_is_assigned_by_username_or_email(client, staff, marketing_user):
    client.force_login(staff)
    onboarding = start(client)
    response = client.post(
        u("people", onboarding), {"team": Team.MARKETING, "who": marketing_user.email.upper()}
    )
    assert response.status_code == 302
    assert Membership.objects.filter(
        user=marketing_user, brand=onboarding.brand, team=Team.MARKETING
    ).exists()
    event = AuditEvent.objects.get(action="people.assigned")
    assert event.actor == staff and event.brand == onboarding.brand
    # Again: nothing doubled, said so.
    client.post(u("people", onboarding), {"team": Team.MARKETING, "who": "mark_marketing"})
    assert Membership.objects.filter(user=marketing_user, brand=onboarding.brand).count() == 1
    page = client.get(u("people", onboarding)).content.decode()
    assert "already in the Marketing team" in page


def test_a_new_email_is_invited_and_chooses_a_password_once(
    client, staff, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    onboarding = start(client)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(u("people", onboarding), {"team": Team.FINANCE, "who": "Fay@Example.com"})
    person = get_user_model().objects.get(email__iexact="fay@example.com")
    assert person.username == "fay" and not person.has_usable_password()
    assert Membership.objects.filter(user=person, team=Team.FINANCE).exists()
    assert AuditEvent.objects.filter(action="people.invited").count() == 1
    (mail,) = mailoutbox
    assert mail.to == ["Fay@example.com"] and "Finance team of Second Style" in mail.body
    link = re.search(r"https?://\S+/welcome/\S+/", mail.body).group(0)
    path = link.split("//", 1)[1].split("/", 1)[1]

    client.logout()
    assert not client.login(username="fay", password="")  # cannot sign in before
    form = client.get(f"/{path}", follow=True)
    assert "Choose your password" in form.content.decode()
    set_url = form.redirect_chain[-1][0]
    done = client.post(
        set_url,
        {"new_password1": "a long pass phrase 42", "new_password2": "a long pass phrase 42"},
    )
    assert done["Location"] == "/welcome/done/"
    assert client.login(username="fay", password="a long pass phrase 42")
    # The link works once.
    again = client.get(f"/{path}", follow=True).content.decode()
    assert "has been used already" in again


def test_something_that_is_neither_a_person_nor_an_email_is_refused_in_words(client, staff):
    client.force_login(staff)
    onboarding = start(client)
    response = client.post(u("people", onboarding), {"team": Team.OPERATIONS, "who": "nobody"})
    assert response.status_code == 400
    assert "Nobody has the username or e-mail “nobody”" in response.content.decode()
    assert not Membership.objects.filter(brand=onboarding.brand).exists()


def test_taking_someone_out_is_audited_and_keeps_their_account(client, staff, ops_user):
    client.force_login(staff)
    onboarding = start(client)
    client.post(u("people", onboarding), {"team": Team.OPERATIONS, "who": ops_user.username})
    membership = Membership.objects.get(brand=onboarding.brand, user=ops_user)
    client.post(u("people", onboarding), {"remove": membership.pk})
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert get_user_model().objects.filter(pk=ops_user.pk).exists()
    assert AuditEvent.objects.filter(action="people.removed").count() == 1


def test_the_review_warns_while_an_owner_team_is_empty(db, staff):
    from brands.models import Brand
    from console.models import Onboarding
    from console.onboarding_live import onboarding_review
    from console.onboarding_people import brand_person_add

    onboarding = Onboarding.objects.create(
        brand=Brand.objects.create(name="Quiet", slug="quiet", active=False), step=2
    )
    assert any(
        "operations, marketing, finance, ecommerce team" in w
        for w in onboarding_review(onboarding).warnings
    )
    for team in (Team.OPERATIONS, Team.MARKETING, Team.FINANCE, Team.ECOMMERCE):
        brand_person_add(brand=onboarding.brand, team=team, who=staff.username, actor=staff)
    assert not any("team yet" in w for w in onboarding_review(onboarding).warnings)


def test_on_a_live_brand_only_its_admins_change_its_people(db, staff):
    from brands.models import Brand
    from console.onboarding_people import PeopleError, brand_person_add

    brand = Brand.objects.create(name="Live", slug="live")
    with pytest.raises(PeopleError, match="only its admins"):
        brand_person_add(brand=brand, team=Team.FINANCE, who=staff.username, actor=staff, live=True)
    Membership.objects.create(user=staff, brand=brand, team=Team.ADMIN)
    assert (
        brand_person_add(brand=brand, team=Team.FINANCE, who=staff.username, actor=staff, live=True)
        == "assigned"
    )

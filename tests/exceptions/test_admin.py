"""The agency admin: types are tunable, tickets are read-only (they change in the console)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from brands.models import Team
from exceptions.models import ExceptionType, TeamOverride, Ticket
from tests.exceptions.conftest import raise_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return client


def test_the_agency_tunes_a_types_wording_owner_and_brand_override(admin, brand_a, brand_b):
    ex_type = ExceptionType.objects.get(code="unmapped_status")
    url = reverse("admin:exceptions_exceptiontype_change", args=[ex_type.pk])
    page = admin.get(url)
    assert page.status_code == 200
    assert "It cannot change once created" in page.content.decode()
    response = admin.post(
        url,
        {
            "code": "renamed",  # read-only: ignored
            "title": "Status not mapped yet",
            "what_happened": "New words.",
            "why_it_matters": "Still matters.",
            "how_to_fix": "Map it.",
            "owner_team": Team.ECOMMERCE,
            "severity": "critical",
            "retryable": "on",
            "team_overrides-TOTAL_FORMS": "1",
            "team_overrides-INITIAL_FORMS": "0",
            "team_overrides-MIN_NUM_FORMS": "0",
            "team_overrides-MAX_NUM_FORMS": "1000",
            "team_overrides-0-brand": brand_b.pk,
            "team_overrides-0-team": Team.OPERATIONS,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    ex_type.refresh_from_db()
    assert (ex_type.code, ex_type.title, ex_type.owner_team) == (
        "unmapped_status",
        "Status not mapped yet",
        Team.ECOMMERCE,
    )
    assert TeamOverride.objects.get().team == Team.OPERATIONS
    assert raise_ticket(brand_a, "unmapped_status").team == Team.ECOMMERCE
    assert raise_ticket(brand_b, "unmapped_status").team == Team.OPERATIONS


def test_types_cannot_be_deleted_in_the_admin(admin):
    ex_type = ExceptionType.objects.get(code="unmapped_status")
    url = reverse("admin:exceptions_exceptiontype_delete", args=[ex_type.pk])
    assert admin.post(url, {"post": "yes"}).status_code == 403
    assert ExceptionType.objects.filter(pk=ex_type.pk).exists()


def test_ticket_list_filters_and_search(admin, brand_a, brand_b):
    mine = raise_ticket(brand_a, title="Order 1001 refused by ometria")
    raise_ticket(brand_b, title="Order 2002 refused by ometria")
    changelist = reverse("admin:exceptions_ticket_changelist")
    page = admin.get(changelist).content.decode()
    for label in ["By status", "By brand", "By type", "By owning team", "By flow"]:
        assert label in page
    assert "Order 1001" in page and "Order 2002" in page
    filtered = admin.get(changelist, {"brand__id__exact": brand_a.pk}).content.decode()
    assert "Order 1001" in filtered and "Order 2002" not in filtered
    found = admin.get(changelist, {"q": "2002"}).content.decode()
    assert "Order 2002" in found and "Order 1001" not in found
    assert reverse("admin:exceptions_ticket_change", args=[mine.pk]) in page


def test_a_ticket_in_the_admin_is_read_only_with_its_history(admin, brand_a):
    ticket = raise_ticket(brand_a, error_message="The email address is not valid.")
    url = reverse("admin:exceptions_ticket_change", args=[ticket.pk])
    page = admin.get(url).content.decode()
    assert "History" in page and "Raised" in page
    assert f"Open ticket #{ticket.pk} in the console" in page
    assert reverse("exceptions:ticket", args=[ticket.pk]) in page
    assert 'name="_save"' not in page
    response = admin.post(url, {"status": "resolved", "title": "changed"})
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert admin.get(reverse("admin:exceptions_ticket_add")).status_code == 403
    delete = reverse("admin:exceptions_ticket_delete", args=[ticket.pk])
    assert admin.post(delete, {"post": "yes"}).status_code == 403
    assert Ticket.objects.filter(pk=ticket.pk).exists()

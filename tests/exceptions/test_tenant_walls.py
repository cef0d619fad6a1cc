"""Tenant walls: a user sees and acts on only their own brands' tickets. Anything else: 404.

Every view and every action, single and bulk, is tried against another brand's ticket,
and the ticket must come out untouched.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from brands.models import Team
from exceptions.models import Ticket, TicketStatus
from syncs.models import SyncRun
from tests.exceptions.conftest import raise_ticket

pytestmark = pytest.mark.django_db
INBOX = reverse("exceptions:inbox")
BULK = reverse("exceptions:bulk")

ACTIONS = {
    "retry": {},
    "reassign": {"team": Team.FINANCE},
    "resolve": {"note": "Not mine, but fixed."},
    "ignore": {"note": "Nothing to see."},
    "comment": {"note": "Hello from the other brand."},
    "reopen": {"note": "Not mine either."},
}


@pytest.fixture
def theirs(brand_b):
    """Bravo's ticket: open, retryable, owned by operations (the same team as the intruder)."""
    return raise_ticket(
        brand_b,
        "attempts_exhausted",
        source_id="2002",
        title="Bravo's refunds failed",
        snapshot={"waiting_ids": ["2002"], "customer": "bravo-secret@example.com"},
    )


@pytest.fixture
def mine(brand_a):
    return raise_ticket(brand_a, "attempts_exhausted", source_id="1001", title="Acme's refunds")


def unchanged(ticket: Ticket) -> None:
    before = (ticket.status, ticket.team, ticket.assignee_id, ticket.events.count())
    ticket.refresh_from_db()
    assert (ticket.status, ticket.team, ticket.assignee_id, ticket.events.count()) == before
    assert ticket.status == TicketStatus.OPEN


@pytest.mark.parametrize("who", ["ops_user", "finance_user", "marketing_user", "admin_user"])
def test_another_brands_ticket_page_is_a_404(client, request, who, theirs):
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse("exceptions:ticket", args=[theirs.pk]))
    assert response.status_code == 404
    assert b"bravo-secret" not in response.content


def test_a_ticket_that_does_not_exist_is_the_same_404(client, ops_user, theirs):
    client.force_login(ops_user)
    assert client.get(reverse("exceptions:ticket", args=[theirs.pk + 1000])).status_code == 404


@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_action_on_another_brands_ticket_is_a_404(client, ops_user, theirs, action):
    client.force_login(ops_user)
    before = theirs.events.count()
    response = client.post(reverse(f"exceptions:{action}", args=[theirs.pk]), ACTIONS[action])
    assert response.status_code == 404
    assert theirs.events.count() == before
    unchanged(theirs)
    assert not SyncRun.objects.exists()


@pytest.mark.parametrize("action", ["retry", "reassign", "resolve"])
def test_a_bulk_action_with_another_brands_ticket_among_mine_does_nothing(
    client, ops_user, mine, theirs, action
):
    client.force_login(ops_user)
    data = {"ticket": [mine.pk, theirs.pk], "action": action, **ACTIONS.get(action, {})}
    response = client.post(BULK, data)
    assert response.status_code == 404
    unchanged(mine)
    unchanged(theirs)
    assert not SyncRun.objects.exists()


@pytest.mark.parametrize("action", ["retry", "reassign", "resolve"])
def test_a_bulk_action_on_only_another_brands_ticket_is_a_404(client, ops_user, theirs, action):
    client.force_login(ops_user)
    data = {"ticket": [theirs.pk], "action": action, **ACTIONS.get(action, {})}
    assert client.post(BULK, data).status_code == 404
    unchanged(theirs)


def test_the_inbox_never_lists_another_brands_ticket(client, ops_user, mine, theirs):
    client.force_login(ops_user)
    for params in [{}, {"team": "", "status": ""}, {"team": "", "status": "open", "type": ""}]:
        page = client.get(INBOX, params).content.decode()
        ids = [int(i) for i in re.findall(r'name="ticket" value="(\d+)"', page)]
        assert ids == [mine.pk]
        assert "Bravo" not in page  # neither its tickets nor its name
    counts = client.get(INBOX, {"team": "", "status": ""}).context["all_count"]
    assert counts == 1


def test_the_inbox_filtered_on_another_brand_is_a_404(client, ops_user, brand_b, theirs):
    client.force_login(ops_user)
    assert client.get(INBOX, {"brand": brand_b.slug}).status_code == 404
    assert client.get(INBOX, {"brand": "no-such-brand"}).status_code == 404


def test_the_assignee_filter_offers_only_my_brands_people(client, ops_user, bravo_user, theirs):
    client.force_login(ops_user)
    page = client.get(INBOX).content.decode()
    assert "olivia_ops" in page
    assert "bob_bravo" not in page
    # Asking for another brand's person is refused as a filter, not answered.
    response = client.get(INBOX, {"assignee": bravo_user.pk, "team": ""})
    assert "Assigned to: Select a valid choice." in response.content.decode()


def test_the_ticket_page_offers_only_that_brands_people(client, ops_user, bravo_user, mine):
    client.force_login(ops_user)
    page = client.get(reverse("exceptions:ticket", args=[mine.pk])).content.decode()
    assert "olivia_ops" in page and "bob_bravo" not in page


def test_reassigning_my_ticket_to_another_brands_person_is_refused(
    client, ops_user, bravo_user, mine
):
    client.force_login(ops_user)
    response = client.post(
        reverse("exceptions:reassign", args=[mine.pk]), {"assignee": bravo_user.pk}
    )
    # The ticket's page again, with why; the other brand's person is never named on it.
    assert response.status_code == 400
    assert [str(m) for m in response.context["messages"]] == [
        "That person is not one of the people of Acme Apparel; choose one from the list."
    ]
    assert bravo_user.username not in response.content.decode()
    unchanged(mine)
    response = client.post(
        BULK, {"ticket": [mine.pk], "action": "reassign", "assignee": bravo_user.pk}
    )
    assert response.status_code == 302
    unchanged(mine)


def test_someone_in_both_brands_sees_both(client, ops_user, brand_b, mine, theirs):
    from brands.models import Membership

    Membership.objects.create(user=ops_user, brand=brand_b, team=Team.OPERATIONS)
    client.force_login(ops_user)
    page = client.get(INBOX).content.decode()
    ids = {int(i) for i in re.findall(r'name="ticket" value="(\d+)"', page)}
    assert ids == {mine.pk, theirs.pk}
    assert client.get(reverse("exceptions:ticket", args=[theirs.pk])).status_code == 200

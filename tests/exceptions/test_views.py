"""The owners' pages: the inbox's filters, sort, counts and pages; the ticket page; the buttons."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from brands.models import Team
from exceptions.models import EventKind, Ticket, TicketStatus
from exceptions.services import ticket_reassign, ticket_resolve
from exceptions.views import PAGE_SIZE
from syncs.models import SyncRun
from tests.exceptions.conftest import raise_ticket

pytestmark = pytest.mark.django_db
INBOX = reverse("exceptions:inbox")


def listed(response) -> list[int]:
    """The ticket numbers in the inbox's table, in order."""
    return [int(pk) for pk in re.findall(r'name="ticket" value="(\d+)"', response.content.decode())]


def told(client, response) -> list[tuple[str, str]]:
    """The messages a redirect carries, read where a browser reads them: on the next page."""
    assert response.status_code == 302, response.status_code
    page = client.get(response["Location"])
    return [(m.level_tag, str(m)) for m in page.context["messages"]]


def said(client, response) -> list[str]:
    return [text for _, text in told(client, response)]


def refused(response) -> list[str]:
    """A refused button shows the ticket's page again (400), with why, instead of redirecting:
    what the person typed is still in the form."""
    assert response.status_code == 400, response.status_code
    assert response.templates[0].name == "exceptions/ticket.html"
    return [str(m) for m in response.context["messages"]]


def url(name: str, ticket: Ticket) -> str:
    return reverse(f"exceptions:{name}", args=[ticket.pk])


@pytest.fixture
def ops(client, ops_user):
    client.force_login(ops_user)
    return client


@pytest.fixture
def tickets(brand_a):
    """An ops ticket, a marketing one and an ecommerce one, all open, in brand A."""
    return {
        "ops": raise_ticket(
            brand_a,
            "attempts_exhausted",
            source_system="console",
            source_id="flow:refunds",
            flow="refunds",
            title="Refunds failed 3 times",
        ),
        "marketing": raise_ticket(
            brand_a, "unmapped_status", source_id="status:33", title="Status “Gift” unmapped"
        ),
        "ecommerce": raise_ticket(brand_a, title="Order 1001 refused by ometria"),
    }


# --- the inbox -------------------------------------------------------------------------------
def test_inbox_opens_on_my_teams_open_tickets(ops, tickets):
    response = ops.get(INBOX)
    assert response.status_code == 200
    assert listed(response) == [tickets["ops"].pk]
    page = response.content.decode()
    assert "still to do, owned by your teams (Operations at Acme Apparel)" in page
    assert "Refunds failed 3 times" in page


def test_an_empty_team_means_every_team(ops, tickets):
    response = ops.get(INBOX, {"team": "", "status": "open"})
    assert sorted(listed(response)) == sorted(t.pk for t in tickets.values())
    assert "owned by any team" in response.content.decode()


def test_the_overview_pages_links_work(ops, tickets, brand_a):
    # The home page links each flow's count as ?brand=…&flow=…&status=open&team=
    response = ops.get(
        INBOX, {"brand": brand_a.slug, "flow": "refunds", "status": "open", "team": ""}
    )
    assert listed(response) == [tickets["ops"].pk]


def test_filters(ops, tickets, brand_a, ops_user, marketing_user):
    everyone = {"team": "", "status": ""}
    ticket_resolve(ticket=tickets["ecommerce"], actor=ops_user, note="Fixed.")
    ticket_reassign(ticket=tickets["marketing"], actor=ops_user, assignee=marketing_user)

    def pks(**params):
        return sorted(listed(ops.get(INBOX, {**everyone, **params})))

    assert pks(status="resolved") == [tickets["ecommerce"].pk]
    assert pks(status="open") == sorted([tickets["ops"].pk, tickets["marketing"].pk])
    assert pks(status="in_progress") == [tickets["marketing"].pk]
    assert pks(type="unmapped_status") == [tickets["marketing"].pk]
    assert pks(team="marketing") == [tickets["marketing"].pk]
    assert pks(flow="refunds") == [tickets["ops"].pk]
    assert pks(brand=brand_a.slug) == sorted(t.pk for t in tickets.values())
    assert pks(assignee=str(marketing_user.pk)) == [tickets["marketing"].pk]
    assert pks(assignee="none") == sorted([tickets["ops"].pk, tickets["ecommerce"].pk])
    assert pks(assignee="me") == []
    Ticket.objects.filter(pk=tickets["ops"].pk).update(
        first_seen=timezone.now() - timedelta(days=40)
    )
    assert pks(age="older") == [tickets["ops"].pk]
    assert pks(age="24h") == sorted([tickets["marketing"].pk, tickets["ecommerce"].pk])
    assert pks(age="7d") == pks(age="24h")


def test_a_filter_it_does_not_understand_is_named_with_the_fix(ops, tickets):
    response = ops.get(INBOX, {"type": "no_such_type", "team": ""})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Type: Select a valid choice. no_such_type is not one of the available choices." in page


def test_a_status_or_team_it_does_not_understand_falls_back_to_the_default(ops, tickets, ops_user):
    done = tickets["ops"]
    ticket_resolve(ticket=done, actor=ops_user, note="Fixed.")
    response = ops.get(INBOX, {"status": "weird", "team": ""})
    page = response.content.decode()
    assert "Status: Select a valid choice. weird is not one of the available choices." in page
    assert "back to their usual choice" in page
    # Still to do only: the resolved ticket is not listed, and the page says so.
    assert done.pk not in listed(response)
    assert sorted(listed(response)) == sorted([tickets["marketing"].pk, tickets["ecommerce"].pk])
    assert "still to do, owned by any team" in page
    assert '<option value="open" selected>' in page

    response = ops.get(INBOX, {"team": "nobody", "status": ""})
    assert "Owning team: Select a valid choice." in response.content.decode()
    assert listed(response) == [done.pk]  # my teams' (operations'), of any status


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("last_seen", ["c", "b", "a"]),
        ("first_seen", ["a", "b", "c"]),
        ("occurrences", ["b", "a", "c"]),
        ("severity", ["a", "c", "b"]),
    ],
)
def test_sort(ops, brand_a, sort, expected):
    now = timezone.now()
    made = {
        # auth failure: critical; rejected by target: medium; sync delayed: high
        "a": raise_ticket(brand_a, "auth_failure", source_id="connection:1"),
        "b": raise_ticket(brand_a, "rejected_by_target", source_id="1001"),
        "c": raise_ticket(brand_a, "sync_delayed", source_id="flow:refunds:delay"),
    }
    # (last seen hours ago, first seen days ago, occurrences)
    shape = {"a": (2, 30, 5), "b": (1, 20, 9), "c": (0, 10, 1)}
    for key, (hours, days, seen) in shape.items():
        Ticket.objects.filter(pk=made[key].pk).update(
            last_seen=now - timedelta(hours=hours),
            first_seen=now - timedelta(days=days),
            occurrences=seen,
        )
    response = ops.get(INBOX, {"team": "", "sort": sort})
    assert listed(response) == [made[k].pk for k in expected]


def test_counts_per_type_follow_the_filters_but_not_the_chosen_type(ops, brand_a):
    for _ in range(3):
        raise_ticket(brand_a, "rejected_by_target")
    for i in range(2):
        raise_ticket(brand_a, "duplicate_contact", source_system="email", source_id=f"{i}@x.y")
    resolved = raise_ticket(brand_a, "rejected_by_target")
    Ticket.objects.filter(pk=resolved.pk).update(status=TicketStatus.RESOLVED)

    response = ops.get(INBOX, {"team": "", "type": "duplicate_contact"})
    counts = response.context["type_rows"]
    assert [(row["type"].code, row["count"], row["selected"]) for row in counts] == [
        ("rejected_by_target", 3, False),
        ("duplicate_contact", 2, True),
    ]
    assert response.context["total"] == 2
    assert response.context["all_count"] == 5
    assert len(listed(response)) == 2
    page = response.content.decode()
    assert "<strong>2 tickets</strong>" in page
    assert "type=rejected_by_target" in page  # each count links to its own list


def test_pagination(ops, brand_a):
    made = [raise_ticket(brand_a, "sync_delayed", source_id=f"flow:f{i}") for i in range(30)]
    newest_first = [t.pk for t in sorted(made, key=lambda t: (t.last_seen, t.pk), reverse=True)]
    first = ops.get(INBOX)
    assert listed(first) == newest_first[:PAGE_SIZE]
    assert "Page 1 of 2" in first.content.decode()
    assert "page=2" in first.content.decode()
    second = ops.get(INBOX, {"page": 2})
    assert listed(second) == newest_first[PAGE_SIZE:]
    # A page past the end shows the last one rather than an error.
    assert listed(ops.get(INBOX, {"page": 99})) == newest_first[PAGE_SIZE:]
    assert listed(ops.get(INBOX, {"page": "x"})) == newest_first[:PAGE_SIZE]


def test_a_user_of_no_brand_is_told_so(client, django_user_model, tickets):
    client.force_login(django_user_model.objects.create_user("loner", password="pw"))
    response = client.get(INBOX)
    assert response.status_code == 200
    assert "You do not belong to any brand yet" in response.content.decode()


def test_anonymous_people_are_sent_to_sign_in(client, tickets):
    ticket = tickets["ops"]
    for target in [INBOX, url("ticket", ticket)]:
        response = client.get(target)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    for name in ["retry", "reassign", "resolve", "ignore", "comment"]:
        response = client.post(url(name, ticket), {"note": "x", "team": "finance"})
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    response = client.post(reverse("exceptions:bulk"), {"ticket": ticket.pk, "action": "retry"})
    assert response["Location"].startswith("/login/")
    assert ticket.events.count() == 1


# --- the ticket page ---------------------------------------------------------------------------
def test_ticket_page_explains_itself(ops, brand_a, ops_user):
    ticket = raise_ticket(
        brand_a,
        "attempts_exhausted",
        source_id="1001",
        source_url="https://use1.brightpearl.com/patt-op.php?scode=invoice&oID=1001",
        snapshot={"run": 4, "waiting_ids": ["1001"], "api_token": "s3cret"},
        error_code="HTTP_503",
        error_message="Brightpearl answered 503 three times.",
    )
    ticket_reassign(ticket=ticket, actor=ops_user, assignee=ops_user, note="Looking at it.")
    response = ops.get(url("ticket", ticket))
    page = response.content.decode()
    assert response.status_code == 200
    for text in [
        "What happened",
        "A run kept failing with temporary errors",
        "Why it matters",
        "How to fix it",
        "Check the vendor",
        "Brightpearl",
        "<code>1001</code>",
        'href="https://use1.brightpearl.com/patt-op.php?scode=invoice&amp;oID=1001"',
        "HTTP_503",
        "Brightpearl answered 503 three times.",
        # The data in words (exceptions/snapshots), never as JSON.
        "Run 4 failed on every attempt and is not tried again by itself.",
        "It was syncing 1 record: 1001.",
        "Operations",
        "olivia_ops",
        "Raised",
        "Reassigned",
        "Looking at it.",
        "Syncs the 1 record of this ticket again now.",
        "Retry now",
        "Reassign",
        "How it was fixed (required)",
        "Ignore",
        "Add comment",
    ]:
        assert text in page, text
    assert "s3cret" not in page
    # Olivia is not an admin: no raw data, no "Details".
    assert "waiting_ids" not in page and "&quot;" not in page
    assert "<details" not in page


def test_ticket_page_says_why_retry_is_not_available(ops, brand_a):
    ticket = raise_ticket(brand_a, "duplicate_contact", source_system="email", source_id="a@b.c")
    page = ops.get(url("ticket", ticket)).content.decode()
    assert "Retry is not available." in page
    assert "A retry cannot fix “Two Brightpearl contacts share one email”" in page
    assert "Retry now" not in page


def test_a_javascript_link_is_never_rendered(ops, brand_a):
    ticket = raise_ticket(brand_a, source_url="javascript:alert(1)")
    assert "javascript:alert" not in ops.get(url("ticket", ticket)).content.decode()


def test_closed_ticket_page_offers_only_a_comment(ops, brand_a, ops_user):
    ticket = raise_ticket(brand_a)
    ticket_resolve(ticket=ticket, actor=ops_user, note="Fixed.")
    page = ops.get(url("ticket", ticket)).content.decode()
    assert "cannot be reassigned, resolved or ignored" in page
    assert "Add comment" in page
    assert 'action="' + url("resolve", ticket) not in page


# --- the buttons ---------------------------------------------------------------------------------
def test_retry_button(ops, brand_a):
    ticket = raise_ticket(brand_a, source_id="1001")
    response = ops.post(url("retry", ticket))
    assert response.status_code == 302 and response["Location"] == url("ticket", ticket)
    assert said(ops, response) == [
        f"Ticket #{ticket.pk}: a sync of 1 record is queued. If it passes, the ticket resolves "
        "itself; if it fails, the new error shows in the history."
    ]
    assert SyncRun.objects.get().scope == ["1001"]


def test_retrying_an_ometria_rejection_says_when_it_resolves(ops, brand_a):
    ticket = raise_ticket(brand_a, "async_rejection", source_id="1002")
    assert "ten minutes after it is sent" in ops.get(url("ticket", ticket)).content.decode()
    response = ops.post(url("retry", ticket))
    assert "ten minutes after it is sent" in said(ops, response)[0]


def test_retry_refused(ops, brand_a):
    ticket = raise_ticket(brand_a, "duplicate_contact", source_system="email", source_id="a@b.c")
    response = ops.post(url("retry", ticket))
    assert refused(response)[0].startswith("A retry cannot fix “Two Brightpearl contacts share")
    assert not SyncRun.objects.exists()


def test_reassign_button(ops, brand_a, finance_user, bravo_user):
    ticket = raise_ticket(brand_a)
    response = ops.post(url("reassign", ticket), {"team": "marketing"})
    assert said(ops, response) == [
        f"Ticket #{ticket.pk} reassigned to the Marketing team. It now shows in their inbox."
    ]
    response = ops.post(url("reassign", ticket), {"assignee": finance_user.pk})
    assert said(ops, response) == [
        f"Ticket #{ticket.pk} reassigned to fiona_finance (Finance). It now shows in their inbox."
    ]
    ticket.refresh_from_db()
    assert (ticket.team, ticket.assignee) == (Team.FINANCE, finance_user)
    # A person of another brand: refused, and their name is not given away.
    response = ops.post(url("reassign", ticket), {"assignee": bravo_user.pk})
    assert refused(response) == [
        "That person is not one of the people of Acme Apparel; choose one from the list."
    ]
    response = ops.post(url("reassign", ticket), {})
    assert refused(response) == ["Choose a team or a person to reassign the ticket to."]
    ticket.refresh_from_db()
    assert ticket.assignee == finance_user


def test_resolve_button_needs_a_note(ops, brand_a):
    ticket = raise_ticket(brand_a)
    response = ops.post(url("resolve", ticket), {"note": "  "})
    assert refused(response) == [
        "Write a note saying how the problem was fixed; a resolve needs one."
    ]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    response = ops.post(url("resolve", ticket), {"note": "Corrected the email."})
    assert said(ops, response) == [
        f"Ticket #{ticket.pk} resolved. If the same problem comes back, it reopens by itself."
    ]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED


def test_ignore_and_comment_buttons(ops, brand_a, ops_user):
    ticket = raise_ticket(brand_a)
    response = ops.post(url("comment", ticket), {"note": "Asked the warehouse."})
    assert said(ops, response) == [f"Comment added to the history of ticket #{ticket.pk}."]
    response = ops.post(url("comment", ticket), {"note": ""})
    assert refused(response) == ["The comment is empty; write something to add to the history."]
    response = ops.post(url("ignore", ticket), {"note": "A test order."})
    assert said(ops, response)[0].startswith(f"Ticket #{ticket.pk} ignored.")
    response = ops.post(url("ignore", ticket))
    assert refused(response) == [
        f"Ticket #{ticket.pk} is ignored; only an open ticket can be ignored."
    ]
    assert [e.kind for e in ticket.events.all()] == [
        EventKind.RAISED,
        EventKind.COMMENTED,
        EventKind.IGNORED,
    ]
    assert ticket.events.get(kind=EventKind.COMMENTED).actor == ops_user


def test_a_closed_ticket_offers_reopen_and_an_open_one_does_not(ops, brand_a):
    ticket = raise_ticket(brand_a)
    page = ops.get(url("ticket", ticket)).content.decode()
    assert url("reopen", ticket) not in page
    response = ops.post(url("reopen", ticket))
    assert refused(response) == [
        f"Ticket #{ticket.pk} is already open; there is nothing to reopen."
    ]
    ops.post(url("ignore", ticket))
    page = ops.get(url("ticket", ticket)).content.decode()
    assert url("reopen", ticket) in page
    assert "reopen it if it was ignored by mistake" in page
    response = ops.post(url("reopen", ticket), {"note": "Still happening."})
    assert said(ops, response) == [
        f"Ticket #{ticket.pk} reopened. It is back among the tickets still to do of "
        f"the {ticket.get_team_display()} team."
    ]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert ticket.events.last().note == "Still happening."


def test_buttons_only_answer_posts(ops, brand_a):
    ticket = raise_ticket(brand_a)
    for name in ["retry", "reassign", "resolve", "ignore", "comment", "reopen"]:
        assert ops.get(url(name, ticket)).status_code == 405
    assert ops.get(reverse("exceptions:bulk")).status_code == 405
    assert ops.post(INBOX).status_code == 405


def test_buttons_need_the_csrf_token(brand_a, ops_user):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(ops_user)
    ticket = raise_ticket(brand_a)
    assert strict.post(url("resolve", ticket), {"note": "x"}).status_code == 403
    assert strict.post(reverse("exceptions:bulk"), {"ticket": ticket.pk}).status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN


def test_after_a_button_back_to_where_it_was_pressed_but_never_elsewhere(ops, brand_a):
    ticket = raise_ticket(brand_a)
    here = url("ticket", ticket) + "?from=team%3D"
    response = ops.post(url("comment", ticket), {"note": "x", "next": here})
    assert response["Location"] == here
    response = ops.post(url("comment", ticket), {"note": "x", "next": "https://evil.example/"})
    assert response["Location"] == url("ticket", ticket)
    response = ops.post(url("comment", ticket), {"note": "x", "next": "//evil.example/"})
    assert response["Location"] == url("ticket", ticket)


def test_inbox_links_keep_the_filters_for_the_way_back(ops, tickets):
    response = ops.get(INBOX, {"team": "", "status": "open"})
    page = response.content.decode()
    assert url("ticket", tickets["marketing"]) + "?from=team%3D%26status%3Dopen" in page
    detail = ops.get(url("ticket", tickets["marketing"]), {"from": "team=&status=open"})
    assert 'href="/exceptions/?team=&amp;status=open"' in detail.content.decode()


def test_a_refused_reassign_keeps_the_team_person_and_note(ops, brand_a, finance_user):
    ticket = raise_ticket(brand_a)
    here = url("ticket", ticket) + "?from=team%3D"
    response = ops.post(
        url("reassign", ticket),
        {
            "team": Team.OPERATIONS,
            "assignee": finance_user.pk,
            "note": "Please look at this",
            "next": here,
        },
    )
    [message] = refused(response)
    assert message.startswith("fiona_finance is not in the Operations team")
    page = response.content.decode()
    assert '<option value="operations" selected>' in page
    assert f'<option value="{finance_user.pk}" selected>' in page
    assert 'id="reassign-note" maxlength="2000" value="Please look at this"' in page
    # The way back to the inbox keeps its filters, as on the page the button was on.
    assert 'href="/exceptions/?team="' in page
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_a_refused_resolve_or_comment_keeps_the_note(ops, brand_a, monkeypatch):
    from exceptions import views
    from exceptions.services import TicketActionError

    def refuse(**kwargs):
        raise TicketActionError("Someone changed this ticket meanwhile; try again.")

    monkeypatch.setattr(views, "ticket_resolve", refuse)
    monkeypatch.setattr(views, "ticket_comment", refuse)
    ticket = raise_ticket(brand_a)
    response = ops.post(url("resolve", ticket), {"note": "Fixed the <email> in Brightpearl"})
    assert refused(response) == ["Someone changed this ticket meanwhile; try again."]
    page = response.content.decode()
    assert ">Fixed the &lt;email&gt; in Brightpearl</textarea>" in page
    response = ops.post(url("comment", ticket), {"note": "Asked the warehouse"})
    assert ">Asked the warehouse</textarea>" in response.content.decode()


def test_a_page_that_is_not_refused_starts_empty(ops, brand_a):
    ticket = raise_ticket(brand_a)
    page = ops.get(url("ticket", ticket)).content.decode()
    assert " selected>" not in page
    assert 'value="Please' not in page


# --- bulk -----------------------------------------------------------------------------------------
def test_bulk_retry_reports_per_ticket(ops, brand_a):
    good = [raise_ticket(brand_a) for _ in range(3)]
    stuck = [
        raise_ticket(brand_a, "duplicate_contact", source_system="email", source_id=f"{i}@x.y")
        for i in range(2)
    ]
    back = INBOX + "?team=&status=open"
    response = ops.post(
        reverse("exceptions:bulk"),
        {"ticket": [t.pk for t in good + stuck], "action": "retry", "next": back},
    )
    assert response.status_code == 302 and response["Location"] == back
    [(level, message)] = told(ops, response)
    assert level == "warning"
    assert message.startswith("3 tickets retried (")
    assert "2 could not be retried. #" in message
    assert "A retry cannot fix “Two Brightpearl contacts share one email”" in message
    assert SyncRun.objects.count() == 3


def test_bulk_reassign_and_resolve(ops, brand_a, finance_user, bravo_user):
    made = [raise_ticket(brand_a) for _ in range(2)]
    bulk = reverse("exceptions:bulk")
    ids = [t.pk for t in made]
    response = ops.post(bulk, {"ticket": ids, "action": "reassign", "assignee": finance_user.pk})
    [(level, message)] = told(ops, response)
    assert level == "success" and message.startswith("2 tickets reassigned")
    assert set(Ticket.objects.values_list("assignee", flat=True)) == {finance_user.pk}
    response = ops.post(bulk, {"ticket": ids, "action": "reassign", "assignee": bravo_user.pk})
    assert said(ops, response) == [
        "That person is not one of your brands' people; choose one from the list."
    ]
    response = ops.post(bulk, {"ticket": ids, "action": "resolve", "note": ""})
    assert said(ops, response) == [
        "Write a note saying how the problems were fixed; resolving needs one."
    ]
    response = ops.post(bulk, {"ticket": ids, "action": "resolve", "note": "Merged."})
    assert said(ops, response)[0].startswith("2 tickets resolved")
    assert set(Ticket.objects.values_list("status", flat=True)) == {TicketStatus.RESOLVED}
    response = ops.post(bulk, {"ticket": ids, "action": "resolve", "note": "Again."})
    [(level, message)] = told(ops, response)
    assert level == "error"
    assert message.startswith("2 could not be resolved. #")


def test_bulk_without_a_selection_or_an_action(ops, brand_a):
    ticket = raise_ticket(brand_a)
    bulk = reverse("exceptions:bulk")
    response = ops.post(bulk, {"action": "retry"})
    assert said(ops, response)[0].startswith("No ticket was selected.")
    response = ops.post(bulk, {"ticket": ticket.pk, "action": ""})
    assert said(ops, response) == ["“” is not an action for several tickets at once."]


def test_a_refused_bulk_action_keeps_the_ticks_and_the_note(ops, brand_a, finance_user):
    picked = [raise_ticket(brand_a) for _ in range(2)]
    other = raise_ticket(brand_a)
    back = INBOX + "?team=&status=open"
    response = ops.post(
        reverse("exceptions:bulk"),
        {"ticket": [t.pk for t in picked], "action": "resolve", "note": " ", "next": back},
    )
    assert response["Location"] == back
    inbox = ops.get(back)
    page = inbox.content.decode()
    for ticket in picked:
        assert (
            f'value="{ticket.pk}" id="pick-{ticket.pk}" aria-label="Select ticket #{ticket.pk}" checked'
            in page
        )
    assert f'aria-label="Select ticket #{other.pk}" checked' not in page
    # Once only: the next visit starts afresh.
    assert " checked" not in ops.get(back).content.decode()

    ops.post(
        reverse("exceptions:bulk"),
        {
            "ticket": [picked[0].pk],
            "action": "reassign",
            "team": Team.FINANCE,
            "assignee": "999999",
            "note": "For the month end",
            "next": back,
        },
    )
    page = ops.get(back).content.decode()
    assert f'aria-label="Select ticket #{picked[0].pk}" checked' in page
    assert '<option value="finance" selected>' in page
    assert 'id="bulk-note" maxlength="2000" value="For the month end"' in page


def test_after_a_partly_refused_bulk_action_only_the_refused_stay_ticked(ops, brand_a):
    done = raise_ticket(brand_a)
    closed = raise_ticket(brand_a)
    ticket_resolve(ticket=closed, actor=None, note="Earlier.")
    response = ops.post(
        reverse("exceptions:bulk"),
        {
            "ticket": [done.pk, closed.pk],
            "action": "resolve",
            "note": "Merged.",
            "next": INBOX + "?team=&status=",
        },
    )
    page = ops.get(response["Location"]).content.decode()
    assert f'aria-label="Select ticket #{closed.pk}" checked' in page
    assert f'aria-label="Select ticket #{done.pk}" checked' not in page

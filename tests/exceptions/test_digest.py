"""The daily digest: each team of each active brand, its open tickets grouped by type."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from brands.models import AuditEvent, Brand, Team
from exceptions.digest import NEWEST_LISTED, digest_due, digest_send
from exceptions.services import ticket_reassign, ticket_resolve
from exceptions.tasks import send_digest
from tests.conftest import make_user
from tests.exceptions.conftest import raise_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_tickets(brand_a, brand_b, ops_user, marketing_user, finance_user, bravo_user):
    """Acme: 5 ops tickets of two types, 1 marketing, 1 resolved; Bravo: 1 ops ticket."""
    delayed = [
        raise_ticket(brand_a, "sync_delayed", source_id=f"flow:f{i}", title=f"Flow {i} is late")
        for i in range(4)
    ]
    missing = raise_ticket(brand_a, "record_missing", title="Order 77 is gone")
    status = raise_ticket(brand_a, "unmapped_status", title="Status “Gift” has no mapping")
    done = raise_ticket(brand_a, "sync_delayed", source_id="flow:done", title="Was late")
    ticket_resolve(ticket=done, actor=ops_user, note="Caught up.")
    bravo = raise_ticket(brand_b, "sync_delayed", source_id="flow:b", title="Bravo is late")
    return {"delayed": delayed, "missing": missing, "status": status, "bravo": bravo}


def by_recipient() -> dict[str, mail.EmailMessage]:
    return {tuple(m.to): m for m in mail.outbox}


def test_each_team_with_open_tickets_gets_its_digest(open_tickets, brand_a, settings):
    settings.CONSOLE_PUBLIC_URL = "https://console.example.com"
    sent = digest_send()
    assert sent == 3
    mails = by_recipient()
    assert set(mails) == {
        ("olivia_ops@example.com",),
        ("mark_marketing@example.com",),
        ("bob_bravo@example.com",),
    }
    ops = mails[("olivia_ops@example.com",)]
    assert ops.subject == "Acme Apparel · Operations: 5 open exception tickets"
    body = ops.body
    # Grouped by type, the most severe first, with counts and the newest titles.
    assert body.index("== Sync is running late (high severity): 4 open") < body.index(
        "== Record not found in the source (low severity): 1 open"
    )
    assert "Flow 3 is late" in body and "Order 77 is gone" in body
    assert "Was late" not in body  # resolved
    assert "Bravo" not in body and "Status “Gift”" not in body  # other brand, other team
    assert (
        "https://console.example.com/exceptions/?brand=acme&team=operations&status=open"
        "&type=sync_delayed" in body
    )
    assert f"https://console.example.com/exceptions/{open_tickets['delayed'][3].pk}/" in body
    assert (
        "All of the team's open tickets: https://console.example.com/exceptions/?brand=acme&team=operations&status=open"
        in body
    )
    html, mimetype = ops.alternatives[0]
    assert mimetype == "text/html"
    assert "Sync is running late: 4 open" in html
    assert AuditEvent.objects.filter(action="digest.sent", brand=brand_a).count() == 2


def test_the_digest_names_only_the_newest_few_of_a_type(brand_a, ops_user):
    made = [
        raise_ticket(brand_a, "sync_delayed", source_id=f"flow:{i}", title=f"Late {i}")
        for i in range(NEWEST_LISTED + 2)
    ]
    digest_send()
    [message] = mail.outbox
    assert "Late 0" not in message.body and f"Late {len(made) - 1}" in message.body
    assert f"All {len(made)}: " in message.body


def test_teams_with_nothing_open_or_nobody_to_write_to_get_nothing(brand_a, ops_user, finance_user):
    # Finance has nobody open; ecommerce has a ticket but no member; a member without
    # an e-mail address and an inactive member get nothing either.
    raise_ticket(brand_a, "rejected_by_target")
    ticket = raise_ticket(brand_a, "order_total_mismatch", source_id="9")
    ticket_resolve(ticket=ticket, actor=ops_user, note="Fixed.")
    no_email = make_user("no_email", brand_a, Team.ECOMMERCE)
    no_email.email = ""
    no_email.save()
    make_user("gone", brand_a, Team.ECOMMERCE, is_active=False)
    assert digest_send() == 0
    assert mail.outbox == []


def test_an_inactive_brand_gets_no_digest(open_tickets, brand_b):
    Brand.objects.filter(pk=brand_b.pk).update(active=False)
    digest_send()
    assert ("bob_bravo@example.com",) not in by_recipient()


def test_in_progress_tickets_count_as_open(brand_a, ops_user):
    ticket = raise_ticket(brand_a, "sync_delayed", source_id="flow:x", title="Late x")
    ticket_reassign(ticket=ticket, actor=ops_user, assignee=ops_user)
    assert digest_send() == 1
    assert "Late x" in mail.outbox[0].body


def test_the_command_sends_every_brands_digest_now(open_tickets):
    out = StringIO()
    call_command("send_digest", stdout=out)
    assert "Sent 3 digest e-mail(s)." in out.getvalue()
    assert len(mail.outbox) == 3


def test_the_schedule_runs_every_hour_on_the_hour():
    schedule = Schedule.objects.get(func="exceptions.tasks.send_digest")
    assert schedule.schedule_type == Schedule.HOURLY
    assert schedule.repeats == -1
    assert (schedule.next_run.minute, schedule.next_run.second) == (0, 0)


def zone_where_it_is(hour: int, now: datetime) -> str:
    """A fixed-offset zone in which `now` falls in the given local hour."""
    offset = (hour - now.hour) % 24
    if offset > 14:
        offset -= 24
    return f"Etc/GMT{-offset:+d}"  # the Etc/ names count the other way


def test_the_schedule_sends_once_a_day_from_seven_in_each_brands_own_time_zone(
    open_tickets, brand_a, brand_b
):
    now = timezone.now()
    Brand.objects.filter(pk=brand_a.pk).update(timezone=zone_where_it_is(7, now))
    Brand.objects.filter(pk=brand_b.pk).update(timezone=zone_where_it_is(6, now))
    assert send_digest() == "2 digest e-mail(s) sent"
    assert {m.to[0] for m in mail.outbox} == {
        "olivia_ops@example.com",
        "mark_marketing@example.com",
    }
    # The schedule running again the same day sends nothing more.
    assert digest_send(now=now, due_only=True) == 0
    # Bravo's 07:00 has passed while nothing ran (the cluster was down): it goes now.
    mail.outbox.clear()
    Brand.objects.filter(pk=brand_b.pk).update(timezone=zone_where_it_is(9, now))
    assert digest_send(now=now, due_only=True) == 1
    assert [m.to for m in mail.outbox] == [["bob_bravo@example.com"]]


def test_a_team_whose_digest_could_not_be_sent_gets_it_at_the_next_hourly_run(
    open_tickets, brand_a, brand_b
):
    from unittest import mock

    from django.core.mail import EmailMultiAlternatives

    now = timezone.now()
    Brand.objects.filter(pk=brand_a.pk).update(timezone=zone_where_it_is(7, now))
    Brand.objects.filter(pk=brand_b.pk).update(timezone=zone_where_it_is(3, now))
    real_send = EmailMultiAlternatives.send

    def refuse_ops(message, *args, **kwargs):
        if message.to == ["olivia_ops@example.com"]:
            raise ConnectionRefusedError("the mail server refused it")
        return real_send(message, *args, **kwargs)

    with mock.patch.object(EmailMultiAlternatives, "send", refuse_ops):
        assert digest_send(now=now, due_only=True) == 1  # marketing's went
    # An hour later: only the team that missed it, once.
    assert digest_send(now=now, due_only=True) == 1
    assert [m.to for m in mail.outbox] == [
        ["mark_marketing@example.com"],
        ["olivia_ops@example.com"],
    ]
    assert digest_send(now=now, due_only=True) == 0


def test_a_brand_with_nothing_open_is_asked_once_a_day_too(brand_a):
    now = timezone.now()
    Brand.objects.filter(pk=brand_a.pk).update(timezone=zone_where_it_is(8, now))
    brand_a.refresh_from_db()
    assert digest_send(now=now, due_only=True) == 0
    assert AuditEvent.objects.filter(action="digest.run", brand=brand_a).count() == 1
    assert not digest_due(brand_a, now)


@pytest.mark.parametrize(
    ("zone", "utc", "due"),
    [
        ("Europe/London", datetime(2026, 1, 15, 6, 59, tzinfo=UTC), False),
        ("Europe/London", datetime(2026, 1, 15, 7, 0, tzinfo=UTC), True),
        ("Europe/London", datetime(2026, 1, 15, 15, 0, tzinfo=UTC), True),  # late, not never
        ("Europe/London", datetime(2026, 7, 15, 5, 0, tzinfo=UTC), False),  # 06:00 BST
        ("Europe/London", datetime(2026, 7, 15, 6, 0, tzinfo=UTC), True),  # 07:00 BST
        ("Asia/Kolkata", datetime(2026, 1, 15, 1, 0, tzinfo=UTC), False),  # 06:30
        ("Asia/Kolkata", datetime(2026, 1, 15, 2, 0, tzinfo=UTC), True),  # the 07:30 run
        ("America/New_York", datetime(2026, 1, 15, 7, 0, tzinfo=UTC), False),  # 02:00
    ],
)
def test_the_digest_is_due_from_seven_local_time(brand_a, zone, utc, due):
    brand_a.timezone = zone
    assert digest_due(brand_a, utc) is due

"""A ticket's page shows its data in words for everyone; the data as stored (JSON) sits behind
"Details", for agency staff and the brand's admins only. Times are the brand's."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from brands.models import Team
from exceptions.models import Ticket
from tests.conftest import make_user
from tests.exceptions.conftest import raise_ticket
from tests.exceptions.snapshot_samples import SAMPLES

pytestmark = pytest.mark.django_db


def page_of(client, ticket: Ticket) -> str:
    response = client.get(reverse("exceptions:ticket", args=[ticket.pk]))
    assert response.status_code == 200
    return response.content.decode()


def details(page: str) -> str:
    """The text of the "Details" toggle, or empty when the page has none."""
    found = re.search(r'<details class="raw-data">(.*?)</details>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


@pytest.fixture
def drift(brand_a) -> Ticket:
    sample = next(s for s in SAMPLES if s.type_code == "drift_found")
    return raise_ticket(
        brand_a,
        "drift_found",
        flow=sample.flow,
        source_system=sample.source_system,
        source_id=sample.source_id,
        snapshot={**sample.snapshot, "api_key": "s3cret"},
        title="3 orders in Ometria differed from Brightpearl",
    )


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.type_code)
def test_every_type_reads_as_words_on_its_page(client, brand_a, ops_user, sample):
    ticket = raise_ticket(
        brand_a,
        sample.type_code,
        flow=sample.flow,
        source_system=sample.source_system,
        source_id=sample.source_id,
        snapshot=sample.snapshot,
        error_code=sample.error_code,
        error_message=sample.error_message,
    )
    client.force_login(ops_user)
    page = html.unescape(page_of(client, ticket))
    for words in sample.says:
        assert words in page, words
    section = page[page.index("The data involved") : page.index('id="history"')]
    for mark in ('{"', '": ', "<pre"):
        assert mark not in section, mark


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("ops", False),
        ("marketing", False),
        ("brand_admin", True),
        ("staff", True),
        ("superuser", True),
    ],
)
def test_the_raw_data_is_for_admins_only(client, brand_a, drift, who, sees):
    people = {
        "ops": lambda: make_user("o", brand_a, Team.OPERATIONS),
        "marketing": lambda: make_user("m", brand_a, Team.MARKETING),
        "brand_admin": lambda: make_user("a", brand_a, Team.ADMIN),
        "staff": lambda: make_user("s", brand_a, Team.OPERATIONS, is_staff=True),
        "superuser": lambda: make_user("su", brand_a, Team.FINANCE, is_superuser=True),
    }
    client.force_login(people[who]())
    page = page_of(client, drift)
    shown = details(page)
    assert bool(shown) is sees
    assert "The daily check (run 812) compared 1,200 records with Ometria" in page
    if sees:
        assert "<summary>Details</summary>" in page
        assert '"mapping_changes": 2' in shown and '"differed": 3' in shown
        assert '"api_key": "(hidden)"' in shown
    else:
        assert "Details" not in page and "mapping_changes" not in page
    assert "s3cret" not in page


def test_an_admin_of_another_brand_is_not_an_admin_here(client, brand_a, brand_b, drift):
    both = make_user("two_hats", brand_b, Team.ADMIN)
    both.memberships.create(brand=brand_a, team=Team.OPERATIONS)
    client.force_login(both)
    assert details(page_of(client, drift)) == ""


def test_the_pages_times_are_the_brands(client, brand_a, ops_user):
    brand_a.timezone = "America/New_York"
    brand_a.save()
    ticket = raise_ticket(brand_a)
    seen = datetime(2025, 7, 4, 3, 15, tzinfo=UTC)  # 23:15 on 3 July in New York
    Ticket.objects.filter(pk=ticket.pk).update(first_seen=seen, last_seen=seen)
    ticket.events.update(created=seen)
    client.force_login(ops_user)
    page = page_of(client, ticket)
    assert page.count(">3 Jul 2025, 23:15</time>") == 3  # first and last seen, the history
    assert "Times are Acme Apparel's (America/New_York)." in page
    assert "a.m." not in page and "p.m." not in page


def test_the_inbox_times_are_each_brands(client, brand_a, brand_b, admin_user):
    brand_b.timezone = "Asia/Tokyo"
    brand_b.save()
    admin_user.memberships.create(brand=brand_b, team=Team.ADMIN)
    seen = datetime(2025, 7, 4, 3, 15, tzinfo=UTC)
    for brand in (brand_a, brand_b):
        ticket = raise_ticket(brand)
        Ticket.objects.filter(pk=ticket.pk).update(first_seen=seen, last_seen=seen)
    client.force_login(admin_user)
    page = client.get(reverse("exceptions:inbox") + "?team=").content.decode()
    assert ">4 Jul 2025, 04:15</time>" in page  # London, summer time
    assert ">4 Jul 2025, 12:15</time>" in page  # Tokyo
    assert "a.m." not in page and "p.m." not in page

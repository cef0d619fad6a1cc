"""The inbox costs the same number of queries for 5 tickets as for 50 (no query per row)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from brands.models import Team
from exceptions.services import ticket_reassign
from tests.exceptions.conftest import raise_ticket

pytestmark = pytest.mark.django_db

TYPES = ["sync_delayed", "attempts_exhausted", "record_missing", "auth_failure"]
VIEWS = [
    {},  # what an ops person lands on
    {"team": "", "status": ""},  # every ticket of their brands
    {"team": "", "sort": "severity", "assignee": "none"},
    {"team": "", "type": "sync_delayed", "page": "2"},
]


def fill(brand, people, start: int, stop: int) -> None:
    for i in range(start, stop):
        ticket = raise_ticket(brand, TYPES[i % len(TYPES)], source_id=f"flow:f{brand.pk}-{i}")
        if i % 3 == 0:
            ticket_reassign(ticket=ticket, actor=None, assignee=people[i % len(people)])
        if i % 5 == 0:
            ticket_reassign(ticket=ticket, actor=None, team=Team.FINANCE)


def queries_for(client, params) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("exceptions:inbox"), params)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("params", VIEWS)
def test_the_inbox_uses_the_same_queries_for_5_and_50_tickets(
    client, ops_user, finance_user, brand_a, params
):
    client.force_login(ops_user)
    people = [ops_user, finance_user]
    fill(brand_a, people, 0, 5)
    with_5 = queries_for(client, params)
    fill(brand_a, people, 5, 50)
    with_50 = queries_for(client, params)
    assert with_5 == with_50
    # session, user, memberships, types, people, counts, page ids, page rows
    assert with_50 <= 8

from io import StringIO

import pytest
from django.urls import reverse

from brands.models import Brand
from console.demo import DEMO_PASSWORD, DEMO_USERS, demo_setup

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_renders_with_the_stylesheet(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b"Sign in" in response.content
    assert b"console/console.css" in response.content


def test_home_lists_only_the_users_own_brands(client, ops_user, brand_a, brand_b, bravo_user):
    client.force_login(ops_user)
    page = client.get(reverse("home")).content.decode()
    assert brand_a.name in page
    assert brand_b.name not in page
    # Each brand's name leads to its history page (runs, charts, drift).
    assert f'href="/brands/{brand_a.slug}/"' in page

    client.force_login(bravo_user)
    page = client.get(reverse("home")).content.decode()
    assert brand_b.name in page
    assert brand_a.name not in page


def test_a_user_of_no_brand_sees_none(client, brand_a, brand_b, django_user_model):
    loner = django_user_model.objects.create_user("loner", password="pw")
    client.force_login(loner)
    page = client.get(reverse("home")).content.decode()
    assert brand_a.name not in page and brand_b.name not in page
    assert "do not belong to any brand" in page


def test_brand_for_user_scopes_the_queryset(ops_user, bravo_user, brand_a, brand_b):
    assert list(Brand.objects.for_user(ops_user)) == [brand_a]
    assert list(Brand.objects.for_user(bravo_user)) == [brand_b]


def test_demo_setup_creates_users_who_can_sign_in_and_is_repeatable(client):
    demo_setup()
    demo_setup()
    assert Brand.objects.filter(slug="demo").count() == 1
    for username in DEMO_USERS:
        assert client.login(username=username, password=DEMO_PASSWORD), username
        page = client.get(reverse("home")).content.decode()
        assert "Demo Outfitters" in page
        client.logout()


def test_sign_in_through_the_form(client, ops_user):
    response = client.post(reverse("login"), {"username": ops_user.username, "password": "pw"})
    assert response.status_code == 302
    client.logout()
    wrong = client.post(reverse("login"), {"username": ops_user.username, "password": "nope"})
    assert wrong.status_code == 200
    assert b"Please enter a correct username and password" in wrong.content


@pytest.mark.parametrize("existing", [False, True])
def test_make_demo_starts_fresh_sandbox_data_for_a_new_console_only(existing):
    from unittest import mock

    from django.core.management import call_command

    if existing:
        demo_setup()
    command = "console.management.commands.demo"
    with (
        mock.patch(f"{command}.subprocess.Popen") as popen,
        mock.patch(f"{command}.Command._wait_for_sandbox", return_value={}),
        mock.patch(f"{command}.demo_go_live"),
        mock.patch(f"{command}.signal.signal"),  # this test process keeps its Ctrl-C
    ):
        call_command("demo", setup_only=True, stdout=StringIO())
    [sandbox_args] = [c.args[0] for c in popen.call_args_list if "sandbox" in c.args[0]]
    # A new console's sandbox drops what an earlier console left in it (webhooks, errors).
    assert ("--reset" in sandbox_args) is not existing


def _bulk_work_and_calls(brand, read=12_400, bulk_calls=3_400):
    from django.utils import timezone

    from connectors.models import BudgetUsage
    from syncs.models import SyncRun

    SyncRun.objects.create(
        brand=brand,
        flow="order_lifecycle",
        trigger="manual",
        full=True,
        state="running",
        read=read,
        total=100_000,
    )
    SyncRun.objects.create(brand=brand, flow="customers", trigger="schedule", state="running")
    for system in ("brightpearl", "ometria", "salesforce"):
        BudgetUsage.objects.create(
            brand=brand, system=system, period=timezone.now(), events=120, bulk=bulk_calls
        )


def test_home_shows_bulk_progress_and_what_calls_went_to_for_the_users_brands_only(
    client, ops_user, brand_a, brand_b
):
    _bulk_work_and_calls(brand_a)
    _bulk_work_and_calls(brand_b, read=7_777_777, bulk_calls=9_999_999)
    client.force_login(ops_user)
    page = client.get(reverse("home")).content.decode()
    assert "Order lifecycle → Ometria: full sync, 12,400 of 100,000 orders" in page
    assert "Customers → Ometria: catching up, 0 contacts so far" in page
    assert "Brightpearl, last hour: 120 calls for events, 3,400 for bulk work" in page
    assert "7,777,777" not in page and "9,999,999" not in page  # brand B's, not this user's


def test_home_says_when_a_brand_made_no_calls(client, ops_user, brand_a):
    client.force_login(ops_user)
    page = client.get(reverse("home")).content.decode()
    assert "No calls in the last hour." in page
    assert "Bulk work under way" not in page


def test_bulk_work_and_calls_add_no_query_per_run_or_vendor(client, ops_user, brand_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(ops_user)
    with CaptureQueriesContext(connection) as empty:
        client.get(reverse("home"))
    _bulk_work_and_calls(brand_a)
    with CaptureQueriesContext(connection) as busy:
        page = client.get(reverse("home")).content.decode()
    assert "12,400 of 100,000 orders" in page and "Salesforce, last hour" in page
    assert len(busy) == len(empty)


def test_the_overview_refreshes_itself_and_a_signed_out_refresh_keeps_the_last_copy(
    client, ops_user, brand_a
):
    from connectors.models import Connection, Health
    from syncs.models import FlowConfig

    FlowConfig.objects.create(brand=brand_a, flow="order_lifecycle", enabled=True)
    for system in ("brightpearl", "ometria"):
        Connection.objects.create(
            brand=brand_a, system=system, base_url="https://x.example", status=Health.OK
        )
    client.force_login(ops_user)
    page = client.get(reverse("home")).content.decode()
    assert 'hx-get="/overview/live/"' in page and "vendor/htmx/htmx.min.js" in page
    assert "Updated just now" in page
    live = client.get(reverse("home_live"))
    assert live.status_code == 200
    fragment = live.content.decode()
    # Only the fragment (no page around it), with the brand's verdict.
    assert "<html" not in fragment and 'id="overview"' not in fragment
    assert "data-verdict>Healthy</span>" in fragment
    client.logout()
    # htmx does not swap an error answer in: the page keeps its copy and shows it is stale.
    assert client.get(reverse("home_live")).status_code == 401

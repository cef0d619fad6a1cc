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

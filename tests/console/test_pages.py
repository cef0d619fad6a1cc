import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


@override_settings(DEBUG=False)
def test_missing_page_is_a_console_page(client, ops_user):
    client.force_login(ops_user)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"There is nothing at this address" in response.content
    assert b"console/console.css" in response.content


def test_signing_out_by_address_shows_a_button_and_signs_out_only_on_post(client, ops_user):
    client.force_login(ops_user)
    response = client.get("/logout/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<title>Sign out · Integration Console</title>" in page
    assert '<form method="post" action="/logout/">' in page
    assert '<button type="submit" class="primary">Sign out</button>' in page
    # Looking at the page signs no one out.
    assert client.get("/").status_code == 200
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.get("/")["Location"].startswith("/login/")
    assert "You are signed out." in client.get("/logout/").content.decode()


def test_the_favicon_is_linked_and_answered(client, ops_user):
    from django.contrib.staticfiles import finders

    assert finders.find("console/favicon.svg")
    client.force_login(ops_user)
    page = client.get("/").content.decode()
    assert '<link rel="icon" href="/static/console/favicon.svg" type="image/svg+xml">' in page
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/console/favicon.svg"

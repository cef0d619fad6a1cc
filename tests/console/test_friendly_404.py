"""A missing page is the console's own "Not found" under DEBUG too, as `make demo` runs it
(console/friendly_404.py): never Django's technical 404, which lists every URL pattern."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from tests.exceptions.conftest import raise_ticket
from tests.fixtures import loopback
from tests.fixtures.processes import console_env

FRIENDLY = "There is nothing at this address"
# Words of Django's technical 404 page (django/views/templates/technical_404.html).
TECHNICAL = ("DEBUG = True", "Django tried these URL patterns", "Using the URLconf")


def friendly(text: str) -> bool:
    return FRIENDLY in text and not any(words in text for words in TECHNICAL)


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_an_address_nothing_answers_is_the_consoles_page_under_debug(client, ops_user):
    client.force_login(ops_user)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert friendly(page)
    assert [t.name for t in response.templates][:2] == ["404.html", "base.html"]
    # It is a console page for the person signed in: their menu, their name, the stylesheet.
    assert 'href="/exceptions/"' in page and "olivia_ops" in page
    assert "/static/console/console.css" in page
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_a_view_that_finds_nothing_is_the_consoles_page_under_debug(client, brand_b, ops_user):
    other_brands = raise_ticket(brand_b)
    client.force_login(ops_user)
    for path in [
        reverse("exceptions:ticket", args=[other_brands.pk]),
        reverse("exceptions:ticket", args=[999_999]),
        "/records/acme/order:brightpearl:404404/",
    ]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert friendly(response.content.decode()), path


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_a_signed_out_visitor_gets_it_too_and_a_missing_slash_still_redirects(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and friendly(response.content.decode())
    # CommonMiddleware's APPEND_SLASH still runs on the way out.
    response = client.get("/exceptions")
    assert response.status_code == 301 and response["Location"] == "/exceptions/"


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_without_debug_nothing_changes(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and friendly(response.content.decode())


@pytest.mark.django_db
@override_settings(
    DEBUG=True,
    MIDDLEWARE=[
        m for m in settings.MIDDLEWARE if m != "console.friendly_404.FriendlyNotFoundMiddleware"
    ],
)
def test_without_the_middleware_debug_would_show_the_technical_page(client):
    # What the middleware is for: proof that this test can fail.
    page = client.get("/no-such-page/").content.decode()
    assert not friendly(page) and "DEBUG = True" in page


# --- as the demo runs it: runserver with DEBUG=1 ----------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_demos_server_answers_a_missing_page_with_the_consoles_page(tmp_path):
    """`make demo` starts `manage.py runserver --noreload` with DEBUG=1 (console/management/
    commands/demo.py): the same here, on the test's database."""
    port = _free_port()
    log = tmp_path / "runserver.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=settings.BASE_DIR,
            env=console_env(DEBUG="1"),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                missing = loopback.get(f"{base}/no-such-page/", timeout=10)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"runserver did not start:\n{log.read_text()}")
                time.sleep(0.3)
        assert missing.status_code == 404
        assert friendly(missing.text), missing.text[:500]
        # DEBUG's conveniences stay: runserver serves the stylesheet itself.
        css = loopback.get(f"{base}/static/console/console.css", timeout=10)
        assert css.status_code == 200 and "table.tickets" in css.text
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)

"""A strict Content-Security-Policy on every page, and no template that would need a looser
one: no inline script, no inline style, nothing from anywhere but the console itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from tests.exceptions.conftest import raise_ticket

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# E-mails carry their styles inline (mail clients drop stylesheets) and no CSP applies.
EMAILS = TEMPLATES / "exceptions" / "email"

# A <script> with code in it (one with src= is a file; application/json is data, not run).
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I)
JS_URL = re.compile(r"javascript:", re.I)


def directives(header: str) -> dict[str, str]:
    return {
        part.split()[0]: " ".join(part.split()[1:])
        for part in (p.strip() for p in header.split(";"))
        if part
    }


def test_the_policy_is_strict():
    policy = directives(_header_for_a_page())
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert policy["form-action"] == "'self'"
    everything = " ".join(policy.values())
    for loose in ("unsafe-inline", "unsafe-eval", "unsafe-hashes", "*", "http:", "https:", "data:"):
        assert loose not in everything, loose


def _header_for_a_page() -> str:
    from django.test import Client

    response = Client().get(reverse("login"))
    assert response.status_code == 200
    return response["Content-Security-Policy"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who", ["anonymous", "ops_user", "marketing_user", "admin_user"], ids=lambda w: w
)
def test_every_page_sends_the_header(client, request, brand_a, who):
    ticket = raise_ticket(brand_a)
    pages = [reverse("login")]
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
        pages += [
            reverse("home"),
            reverse("exceptions:inbox"),
            reverse("exceptions:ticket", args=[ticket.pk]),
            reverse("records"),
            reverse("mappings:picker"),
            reverse("mappings:statuses", args=[brand_a.slug]),
        ]
    if who == "admin_user":
        pages += [reverse("admin:index"), reverse("onboarding:list"), reverse("onboarding:new")]
    for url in pages:
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        header = response.get("Content-Security-Policy", "")
        assert "script-src 'self'" in header and "frame-ancestors 'none'" in header, url


@pytest.mark.django_db
def test_error_pages_send_it_too(client, ops_user):
    client.force_login(ops_user)
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404
    assert "frame-ancestors 'none'" in missing["Content-Security-Policy"]


def test_the_server_error_page_needs_no_inline_style():
    page = render_to_string("500.html", request=RequestFactory().get("/"))
    assert not INLINE_STYLE.search(page) and not INLINE_SCRIPT.search(page)
    assert "/static/console/console.css" in page


def _templates() -> list[Path]:
    return sorted(p for p in TEMPLATES.rglob("*.html") if EMAILS not in p.parents)


@pytest.mark.parametrize("template", _templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_template_has_inline_script_or_style(template):
    text = template.read_text()
    assert not INLINE_SCRIPT.search(text), "inline <script>: move it to static/console/"
    assert not INLINE_STYLE.search(text), "inline style: use a class in a static stylesheet"
    assert not INLINE_HANDLER.search(text), "inline on…= handler: attach it in a static script"
    assert not JS_URL.search(text)

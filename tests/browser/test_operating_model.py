"""The operating model in a real browser: it fits a phone, and printed it is a document (no
menu, no buttons, each part from the second on a page of its own, links' addresses shown)."""

from __future__ import annotations

import pytest

from connectors.models import Connection, System
from syncs.flows import REGISTRY
from syncs.models import FlowConfig

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def wired(brand_a):
    for system in System.values:
        Connection.objects.create(brand=brand_a, system=system, base_url="https://x.example")
    for code in REGISTRY:
        FlowConfig.objects.create(brand=brand_a, flow=code, enabled=True)
    return brand_a


def test_it_fits_a_phone_and_prints_as_a_document(page, sign_in, wired, ops_user):
    sign_in(ops_user.username)
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"/brands/{wired.slug}/operating-model/")
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner

    def shown(selector: str) -> bool:
        return page.locator(selector).first.is_visible()

    def breaks(selector: str) -> str:
        return page.locator(selector).evaluate("e => getComputedStyle(e).breakBefore")

    assert shown(".topbar") and shown(".om-contents")
    page.emulate_media(media="print")
    assert not shown(".topbar") and not shown(".om-contents")
    assert breaks("#masters") != "page"  # the first part stays beside the title
    assert breaks("#flows") == "page" and breaks("#checks") == "page"
    link = page.locator("#checks a[href^='http']").first
    after = link.evaluate("e => getComputedStyle(e, '::after').content")
    assert link.get_attribute("href") in after

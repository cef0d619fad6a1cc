"""The pages fit a phone (390 px) and a laptop (1280 px): the page never scrolls sideways;
a wide table scrolls inside its own box, where every column can still be reached."""

from __future__ import annotations

import pytest

from console.models import Onboarding
from syncs.models import AttributeMapping, StatusMapping
from tests.exceptions.conftest import raise_ticket
from tests.fixtures.records import link, switch_on, synced_contact, synced_order

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_cache"),
]

WIDTHS = (390, 1280)


def page_width(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


def reachable(page, locator) -> bool:
    """Scrolled into view (inside its table's box if need be), it shows within the window."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    width = page.evaluate("window.innerWidth")
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


@pytest.fixture
def wide_data(brand_a, admin_user):
    for n in range(3):
        raise_ticket(brand_a, title=f"Order {n} refused by Ometria: the e-mail address is invalid")
    StatusMapping.objects.create(
        brand=brand_a,
        bp_status_id=4,
        bp_status_name="Awaiting payment confirmation",
        ometria_status="pending",
        lifecycle_stage="awaiting_payment",
    )
    AttributeMapping.objects.create(
        brand=brand_a,
        source="tag",
        source_name="Loyalty: Gold",
        ometria_attribute="loyalty_tier",
        value="Gold",
    )
    # A record with long words in every column: an e-mail, attributes, a pending create.
    email = "alexandra.montgomery-fitzwilliam.wholesale-orders@example-outfitters.co.uk"
    order, _, _ = synced_order(brand_a, "10001", contact="201", email=email)
    link(
        brand_a,
        "order",
        "bigcommerce",
        "",
        entity=order.entity,
        create_key="order_lifecycle:10001",
        natural_key="BRIGHTPEARL-ORDER-10001-WITH-A-VERY-LONG-EXTERNAL-REFERENCE",
    )
    synced_contact(brand_a, "201", email)
    switch_on(brand_a, "order_lifecycle")
    raise_ticket(brand_a, source_id="10001", title=f"Order 10001 refused: {email} is invalid")
    return Onboarding.objects.create(brand=brand_a, step=2)


def test_no_page_scrolls_sideways_at_390_or_1280_px(page, sign_in, wide_data, admin_user):
    sign_in(admin_user.username)
    ticket = wide_data.brand.tickets.first()
    paths = [
        "/",
        "/exceptions/",
        f"/exceptions/{ticket.pk}/",
        "/mappings/acme/",
        "/mappings/acme/attributes/",
        f"/onboarding/{wide_data.pk}/connections/",
        "/onboarding/",
        "/records/",
        "/records/?q=10001",
        "/records/?q=alexandra.montgomery-fitzwilliam.wholesale-orders@example-outfitters.co.uk",
        "/records/acme/order:brightpearl:10001/",
        "/records/acme/contact:brightpearl:201/",
    ]
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        for path in paths:
            page.goto(path)
            scroll_width, inner = page_width(page)
            assert scroll_width <= inner, f"{path} at {width} px is {scroll_width} px wide"


def test_at_390_px_the_last_columns_and_the_lifecycle_stage_can_be_reached(
    page, sign_in, wide_data, admin_user
):
    page.set_viewport_size({"width": 390, "height": 800})
    sign_in(admin_user.username)
    page.goto("/exceptions/?team=")
    # The inbox is cards at this width (tests/browser/test_inbox_phone.py): its last cells too.
    assert reachable(page, page.locator('td[data-label="Seen"]').last)
    assert reachable(page, page.locator('td[data-label="Status"]').last)

    page.goto("/mappings/acme/")
    stage = page.get_by_label("Lifecycle stage for Awaiting payment confirmation")
    assert reachable(page, stage)
    stage.select_option("processing")
    assert stage.input_value() == "processing"


def test_at_1280_px_the_inbox_filters_show_their_whole_choice(page, sign_in, wide_data, admin_user):
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(admin_user.username)
    page.goto("/exceptions/")
    # Each select's chosen text, measured in its own font, fits inside it beside the arrow.
    cut = page.evaluate(
        """() => {
          const ctx = document.createElement("canvas").getContext("2d");
          return Array.from(document.querySelectorAll(".filter-grid select")).filter((s) => {
            const style = getComputedStyle(s);
            ctx.font = style.font;
            const text = ctx.measureText(s.options[s.selectedIndex].text).width;
            const room = s.clientWidth - parseFloat(style.paddingLeft)
              - parseFloat(style.paddingRight) - 20;
            return text > room;
          }).map((s) => s.name);
        }"""
    )
    assert cut == []

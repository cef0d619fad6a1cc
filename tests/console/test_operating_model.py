"""The operating model page: drawn from the flow registry and the brand's own settings (a flow
switched off leaves it, a brand's choice of team shows), behind the tenant wall, printable."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone

from brands.models import Membership, Team
from connectors.models import Connection, System
from exceptions.models import ExceptionType, TeamOverride, Ticket
from exceptions.services import ticket_raise
from syncs import flows
from syncs.flows import REGISTRY
from syncs.flows.base import Flow
from syncs.history.models import DriftCheck
from syncs.models import AttributeMapping, FlowConfig, SyncRun
from syncs.operating_model import Duty, operating_model
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def wired_brand(brand_a):
    """brand_a connected to every system with every registered flow switched on."""
    for system in System.values:
        Connection.objects.create(brand=brand_a, system=system, base_url="https://x.example")
    for code, cls in REGISTRY.items():
        FlowConfig.objects.create(
            brand=brand_a, flow=code, enabled=True, schedule_minutes=cls.default_schedule_minutes
        )
    return brand_a


def page(client, brand) -> str:
    response = client.get(reverse("operating_model", args=[brand.slug]))
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, anchor: str) -> str:
    """One numbered part of the page, from its section tag to the next."""
    start = html.index(f'id="{anchor}"')
    end = html.find('<section class="card om-section"', start)
    return html[start : end if end != -1 else None]


# --- generated from the registry and the brand's settings ----------------------------------
def test_every_switched_on_flow_is_described_from_its_declaration(client, wired_brand, ops_user):
    client.force_login(ops_user)
    html = page(client, wired_brand)
    carried = section(html, "flows")
    for cls in REGISTRY.values():
        assert cls.label in carried
        assert cls.description in carried
    # A flow that declares who owns its two-way fields says so; a one-way flow says that.
    assert "Lines, prices and totals as placed: BigCommerce owns it" in carried
    assert "One way only: what Ometria holds comes from Brightpearl" in carried
    assert "Switched off" not in section(html, "masters")


def test_a_flow_switched_off_leaves_the_page_and_is_listed_as_off(client, wired_brand, ops_user):
    client.force_login(ops_user)
    shipments = REGISTRY["shipments"]
    assert shipments.label in section(page(client, wired_brand), "flows")

    # Both flows that send shipments (to Ometria and to BigCommerce) off.
    FlowConfig.objects.filter(
        brand=wired_brand, flow__in=["shipments", "bigcommerce_shipments"]
    ).update(enabled=False)
    html = page(client, wired_brand)
    assert shipments.label not in section(html, "flows")
    masters = section(html, "masters")
    assert "Switched off" in masters and shipments.label in masters
    assert "Shipments (goods-out notes)" not in masters
    # The check it answered no longer applies, and says why instead of linking.
    checks = operating_model(brand=wired_brand).checks
    [shipped] = [c for c in checks if c.title == "Shipped but not notified"]
    assert shipped.not_applicable and not shipped.links


def test_masters_follow_the_declared_owners(wired_brand):
    kinds = {k.code: k for k in operating_model(brand=wired_brand).kinds}
    orders = kinds["order"]
    # Brightpearl owns everything the order lifecycle carries and the status both ways;
    # BigCommerce and Salesforce only the orders made there, as placed.
    assert orders.master == "Brightpearl"
    assert sorted((f.field, f.owner) for f in orders.exceptions) == [
        # A cancellation made in the storefront is BigCommerce's to make.
        ("cancellation", "BigCommerce"),
        ("lines, prices and totals as placed", "BigCommerce"),
        ("lines, quantities and prices as placed", "Salesforce"),
    ]
    assert kinds["contact"].master == "Brightpearl"

    # With only the storefront flow on, its own declaration decides (a tie goes to the ERP).
    FlowConfig.objects.filter(brand=wired_brand).exclude(flow="storefront_orders").update(
        enabled=False
    )
    [orders] = operating_model(brand=wired_brand).kinds
    assert orders.master == "Brightpearl" and orders.flows[0].code == "storefront_orders"


def test_a_newly_registered_flow_appears_without_editing_the_page(
    client, wired_brand, ops_user, monkeypatch
):
    class LabelsFlow(Flow):
        code = "labels_test"
        label = "Shipping labels → Carrier (a test flow)"
        description = "Goods-out notes as carrier labels."
        target = "salesforce"
        kind = "label"
        owners = {"tracking number": "salesforce"}

    monkeypatch.setitem(flows.REGISTRY, LabelsFlow.code, LabelsFlow)
    FlowConfig.objects.create(brand=wired_brand, flow=LabelsFlow.code, enabled=True)
    client.force_login(ops_user)
    html = page(client, wired_brand)
    assert LabelsFlow.label in section(html, "flows")
    # A kind the page has no words for is named by its code; its master from the owners.
    [label_kind] = [k for k in operating_model(brand=wired_brand).kinds if k.code == "label"]
    assert label_kind.words == "Label" and label_kind.master == "Salesforce"


def test_the_brands_attribute_mappings_are_what_travels(client, wired_brand, ops_user):
    AttributeMapping.objects.create(
        brand=wired_brand, source="tag", source_name="VIP", ometria_attribute="vip"
    )
    client.force_login(ops_user)
    assert "Contact tag “VIP” → vip" in section(page(client, wired_brand), "flows")


# --- who answers which tickets ---------------------------------------------------------------
def duties_of(brand, team: str) -> dict[str, object]:
    [found] = [t for t in operating_model(brand=brand).teams if t.code == team] or [None]
    return {d.type.code: d for d in found.duties} if found else {}


def test_each_type_is_under_its_team_with_what_it_asks(client, wired_brand, ops_user):
    client.force_login(ops_user)
    teams = section(page(client, wired_brand), "teams")
    refund = ExceptionType.objects.get(code="refund_blocked")
    assert refund.how_to_fix in teams
    assert "refund_blocked" in duties_of(wired_brand, Team.FINANCE)
    # A value with no mapping goes to the team each kind of value map names.
    unmapped = duties_of(wired_brand, Team.FINANCE)["unmapped_value"]
    assert "Payment methods" in unmapped.kinds
    assert (
        "Storefront order statuses"
        in duties_of(wired_brand, Team.ECOMMERCE)["unmapped_value"].kinds
    )
    # The stock flow translates warehouses: their unmapped values go to operations.
    ops = duties_of(wired_brand, Team.OPERATIONS)
    assert "Warehouses → locations" in ops["unmapped_value"].kinds
    # A kind of value map no switched-on flow uses raises nothing.
    FlowConfig.objects.filter(brand=wired_brand, flow="bigcommerce_stock").update(enabled=False)
    ops = duties_of(wired_brand, Team.OPERATIONS)
    assert "Warehouses → locations" not in ops.get("unmapped_value", Duty(type=refund)).kinds
    [warehouses] = [
        t for t in operating_model(brand=wired_brand).translations if t.code == "bp_warehouse"
    ]
    assert warehouses.used_by == []
    # Payment methods are translated by the storefront payments flow alone.
    FlowConfig.objects.filter(brand=wired_brand, flow="bigcommerce_payments").update(enabled=False)
    assert "unmapped_value" not in duties_of(wired_brand, Team.FINANCE)


def test_a_brands_own_choice_of_team_is_shown_and_stays_with_that_brand(
    client, wired_brand, brand_b, ops_user
):
    duplicate = ExceptionType.objects.get(code="duplicate_contact")
    assert "duplicate_contact" in duties_of(wired_brand, Team.CUSTOMER_SERVICE)
    TeamOverride.objects.create(brand=wired_brand, exception_type=duplicate, team=Team.OPERATIONS)

    ops = duties_of(wired_brand, Team.OPERATIONS)
    assert ops["duplicate_contact"].chosen_by_brand
    assert ops["duplicate_contact"].usual_team == "Customer service"
    assert "duplicate_contact" not in duties_of(wired_brand, Team.CUSTOMER_SERVICE)
    client.force_login(ops_user)
    assert "Acme Apparel's choice; usually Customer service" in page(client, wired_brand)
    # Another brand keeps the usual team.
    assert "duplicate_contact" in duties_of(brand_b, Team.CUSTOMER_SERVICE)


def test_a_team_with_tickets_and_nobody_in_it_is_called_out(client, wired_brand, ops_user):
    client.force_login(ops_user)
    html = page(client, wired_brand)
    assert "Nobody is in this team at Acme Apparel" in html
    [staffed] = [
        c for c in operating_model(brand=wired_brand).checks if c.title.startswith("Every")
    ]
    assert "Finance" in staffed.now and "Operations" not in staffed.now


# --- the checks ------------------------------------------------------------------------------
def test_checks_link_to_the_pages_that_answer_them_or_say_there_is_none(
    client, wired_brand, ops_user
):
    client.force_login(ops_user)
    checks = section(page(client, wired_brand), "checks")
    for title in (
        "Open tickets by age",
        "Unmatched contacts",
        "Shipped but not notified",
        "Segment drift",
        "Stock mismatches",
    ):
        assert title in checks
    inbox = "http://testserver" + reverse("exceptions:inbox")
    assert f'href="{inbox}?brand=acme&amp;team=&amp;status=open&amp;sort=first_seen"' in checks
    assert (
        f'href="{inbox}?brand=acme&amp;team=&amp;status=open&amp;type=duplicate_contact"' in checks
    )
    assert "shipments" in checks and "flow=shipments" in checks
    # No page exists for these yet: said in words, not linked to a page that would not answer.
    # Drift: the flow pages' drift reports answer it.
    drift = reverse("history:flow", args=["acme", "customers"])
    assert f'href="http://testserver{drift}"' in checks
    assert "type=drift_found" in checks
    # No page lists the marketing system's contacts that match no Brightpearl contact: said.
    assert "There is no page yet that lists the contacts" in checks
    # No stock flow is registered, so the stock check does not apply.
    assert "Does not apply: the console has no stock flow yet" in checks


def test_the_drift_figures_come_from_the_daily_checks(wired_brand, brand_b):
    def check(brand, flow, days_ago, drifted):
        run = SyncRun.objects.create(brand=brand, flow=flow, trigger="schedule", full=True)
        DriftCheck.objects.create(
            run=run,
            brand=brand,
            flow=flow,
            target="ometria",
            checked_at=timezone.now() - timedelta(days=days_ago),
            drifted=drifted,
        )

    check(wired_brand, "customers", 2, 3)
    check(wired_brand, "customers", 40, 100)  # older than the month
    check(wired_brand, "shipments", 1, 2)
    check(brand_b, "customers", 1, 50)  # another brand's
    checks = {c.title: c for c in operating_model(brand=wired_brand).checks}
    assert (
        checks["Segment drift"].now == "3 contacts corrected by a daily check in the last 30 days."
    )
    assert (
        "2 sent late by a daily check in the last 7 days" in checks["Shipped but not notified"].now
    )


def test_the_open_tickets_figure_is_read_when_the_page_is_drawn(wired_brand, brand_b):
    ticket = ticket_raise(
        brand=wired_brand, type_code="record_missing", title="Gone", source_id="1"
    )
    Ticket.objects.filter(pk=ticket.pk).update(first_seen=timezone.now() - timedelta(days=40))
    ticket_raise(brand=brand_b, type_code="record_missing", title="Elsewhere", source_id="1")
    [ages] = [c for c in operating_model(brand=wired_brand).checks if c.title.startswith("Open")]
    assert ages.now == "1 open; 1 older than a week, 1 older than 30 days."


# --- the tenant wall -------------------------------------------------------------------------
def test_only_members_and_agency_admins_see_a_brands_page(client, wired_brand, bravo_user):
    url = reverse("operating_model", args=[wired_brand.slug])
    assert client.get(url).status_code == 302  # to sign in

    client.force_login(bravo_user)
    assert client.get(url).status_code == 404
    assert client.get(reverse("operating_model", args=["nope"])).status_code == 404

    agency = make_user("agnes_agency", None, is_staff=True)
    client.force_login(agency)
    assert client.get(url).status_code == 200


def test_the_nav_entry_leads_to_the_users_own_brands(client, wired_brand, brand_b, ops_user):
    client.force_login(ops_user)
    home = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("operating_model_index")}"' in home
    response = client.get(reverse("operating_model_index"))
    assert response.status_code == 302
    assert response["Location"] == reverse("operating_model", args=[wired_brand.slug])

    both = make_user("bea_both", wired_brand, Team.OPERATIONS)
    Membership.objects.create(user=both, brand=brand_b, team=Team.FINANCE)
    client.force_login(both)
    listing = client.get(reverse("operating_model_index")).content.decode()
    assert wired_brand.name in listing and brand_b.name in listing


# --- it prints as a document -----------------------------------------------------------------
def print_rules() -> str:
    css = Path(finders.find("console/console.css")).read_text()
    start = css.index("@media print")
    return css[start:]


def test_the_page_prints_without_menu_or_buttons_one_part_per_page(client, wired_brand, ops_user):
    client.force_login(ops_user)
    html = page(client, wired_brand)
    assert "console/console.css" in html
    assert html.count('class="card om-section"') == 4
    assert 'class="muted no-print"' in html

    rules = print_rules()
    hidden = next(line for line in rules.splitlines() if "display: none !important" in line)
    assert ".topbar" in hidden and "button" in hidden and ".no-print" in hidden
    assert ".om-section ~ .om-section { break-before: page" in rules
    # Paper cannot be clicked: the checks' addresses are written out.
    assert '.om-checks a[href^="http"]::after' in rules and "attr(href)" in rules

"""The weekly catalogue audit: each SKU only one catalogue has is one ticket for ecommerce and
one row of the page and its CSV; a re-run opens no second ticket; a gap that closes resolves
its ticket. The page and the CSV sit behind the tenant wall."""

from __future__ import annotations

import csv
import io
import json
from unittest import mock

import pytest
from django.core.management import call_command
from django.urls import reverse

from brands.models import AuditEvent, Team
from exceptions.models import OPEN_STATUSES, Ticket
from syncs.flows.bigcommerce.catalogue_audit import (
    ONLY_IN_BIGCOMMERCE,
    ONLY_IN_BRIGHTPEARL,
    catalogue_audit,
)
from tests.conftest import make_user
from tests.syncs.stock_helpers import add_products

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_cache")]


def gaps(brand) -> dict[str, str]:
    return dict(
        Ticket.objects.filter(
            brand=brand, type__code__in=[ONLY_IN_BIGCOMMERCE, ONLY_IN_BRIGHTPEARL],
            status__in=OPEN_STATUSES,
        ).values_list("source_id", "type__code")
    )  # fmt: skip


@pytest.fixture
def seed_skus(sandbox):
    facts = sandbox.discovery()["seed"]["demo"]
    return facts["bigcommerce"]["unknown_sku"], facts["brightpearl"]["brightpearl_only_sku"]


def test_each_gap_is_one_ticket_for_ecommerce_and_a_rerun_opens_no_second(
    sandbox, live_brand, seed_skus
):
    only_bc, only_bp = seed_skus

    report = catalogue_audit(brand_id=live_brand.pk)

    assert report["only_in_bigcommerce"] == [only_bc]
    assert report["only_in_brightpearl"] == [only_bp]
    assert report["bigcommerce_skus"] == 41 and report["brightpearl_skus"] == 41
    assert gaps(live_brand) == {only_bc: ONLY_IN_BIGCOMMERCE, only_bp: ONLY_IN_BRIGHTPEARL}
    tickets = Ticket.objects.filter(brand=live_brand, type__code__in=[ONLY_IN_BIGCOMMERCE])
    (ticket,) = tickets
    assert ticket.team == Team.ECOMMERCE
    assert ticket.title == f"SKU {only_bc} is in BigCommerce but not in Brightpearl"

    catalogue_audit(brand_id=live_brand.pk)

    assert Ticket.objects.filter(brand=live_brand).count() == 2
    ticket.refresh_from_db()
    assert ticket.occurrences == 2
    assert AuditEvent.objects.filter(brand=live_brand, action="catalogue.audited").count() == 2


def test_a_gap_that_closes_resolves_its_ticket(sandbox, live_brand, seed_skus):
    only_bc, only_bp = seed_skus
    catalogue_audit(brand_id=live_brand.pk)
    # The gift card made in Brightpearl (not again on the storefront): that gap closes.
    add_products(sandbox, [{"sku": only_bc, "in_bigcommerce": False}])

    report = catalogue_audit(brand_id=live_brand.pk)

    assert report["only_in_bigcommerce"] == [] and report["resolved"] == 1
    assert gaps(live_brand) == {only_bp: ONLY_IN_BRIGHTPEARL}
    closed = Ticket.objects.get(brand=live_brand, source_id=only_bc)
    assert closed.status == "resolved"


def test_skus_match_trimmed_and_regardless_of_case(sandbox, live_brand, seed_skus):
    only_bc, _ = seed_skus
    add_products(sandbox, [{"sku": f" {only_bc.lower()} ", "in_bigcommerce": False}])
    report = catalogue_audit(brand_id=live_brand.pk)
    assert report["only_in_bigcommerce"] == []


def test_the_command_prints_the_counts(sandbox, live_brand, capsys):
    call_command("catalogue_audit", live_brand.slug)
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line == {
        "brand": live_brand.slug,
        "bigcommerce_skus": 41,
        "brightpearl_skus": 41,
        "only_in_bigcommerce": 1,
        "only_in_brightpearl": 1,
        "resolved": 0,
    }


# --- the page and its CSV ------------------------------------------------------------------
@pytest.fixture
def ecommerce_user(brand_a):
    return make_user("erin_ecommerce", brand_a, Team.ECOMMERCE)


def test_the_page_lists_each_gap_and_the_csv_has_a_row_each(
    client, sandbox, live_brand, ecommerce_user, seed_skus
):
    only_bc, only_bp = seed_skus
    catalogue_audit(brand_id=live_brand.pk)
    client.force_login(ecommerce_user)

    page = client.get(reverse("catalogue:brand", args=[live_brand.slug]))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Open gaps: 1 only in BigCommerce, 1 only in Brightpearl" in html
    assert only_bc in html and only_bp in html
    assert "Last audit:" in html
    assert reverse("catalogue:csv", args=[live_brand.slug]) in html
    # Reached from every page's navigation.
    assert reverse("catalogue:picker") in html

    download = client.get(reverse("catalogue:csv", args=[live_brand.slug]))

    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    assert "attachment" in download["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(download.content.decode())))
    assert [(r["SKU"], r["Found in"], r["Missing from"]) for r in rows] == [
        (only_bc, "BigCommerce", "Brightpearl"),
        (only_bp, "Brightpearl", "BigCommerce"),
    ]
    assert rows[1]["Brightpearl product"] == "1041" and rows[0]["Times found"] == "1"


def test_a_closed_gap_leaves_the_page_and_the_csv(
    client, sandbox, live_brand, ecommerce_user, seed_skus
):
    only_bc, only_bp = seed_skus
    catalogue_audit(brand_id=live_brand.pk)
    add_products(sandbox, [{"sku": only_bc, "in_bigcommerce": False}])
    catalogue_audit(brand_id=live_brand.pk)
    client.force_login(ecommerce_user)
    download = client.get(reverse("catalogue:csv", args=[live_brand.slug])).content.decode()
    assert only_bc not in download and only_bp in download


def test_run_now_queues_the_audit_and_is_audited(client, sandbox, live_brand, ecommerce_user):
    client.force_login(ecommerce_user)
    with (
        mock.patch("console.catalogue_views.async_task") as enqueue,
        mock.patch("django.db.transaction.on_commit", side_effect=lambda fn: fn()),
    ):
        reply = client.post(reverse("catalogue:run", args=[live_brand.slug]))
    assert reply.status_code == 302
    enqueue.assert_called_once_with("syncs.tasks.catalogue_audit_run", live_brand.pk)
    assert AuditEvent.objects.filter(
        brand=live_brand, action="catalogue.audit_requested", actor=ecommerce_user
    ).exists()


def test_another_brands_page_csv_and_button_are_404(client, sandbox, live_brand, bravo_user):
    catalogue_audit(brand_id=live_brand.pk)
    client.force_login(bravo_user)
    for name, method in (("brand", "get"), ("csv", "get"), ("run", "post")):
        reply = getattr(client, method)(reverse(f"catalogue:{name}", args=[live_brand.slug]))
        assert reply.status_code == 404, name


def test_the_weekly_task_audits_every_brand_with_a_store(sandbox, live_brand, brand_b):
    from syncs import tasks

    with mock.patch("django_q.tasks.async_task") as enqueue:
        assert tasks.catalogue_audits() == "1 brand(s) queued"
    enqueue.assert_called_once_with("syncs.tasks.catalogue_audit_run", live_brand.pk)
    assert "1 only in BigCommerce, 1 only in Brightpearl" in tasks.catalogue_audit_run(
        live_brand.pk
    )

"""The manual import of one storefront order by its number: from the Find a record page
(queued, audited, tenant-walled) and from `manage.py import_order` (here and now)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from brands.models import AuditEvent, Team
from syncs.models import RecordLink, SyncRun
from tests.contract.scenarios import BC_TO_BP, items, value_maps

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_cache")]


def a_new_order(sandbox) -> str:
    facts = sandbox.seed_facts()["demo"]["bigcommerce"]
    linked = set(facts["linked_orders"])
    skip = {str(facts["unknown_sku_order_id"])}
    return next(
        str(o["id"])
        for o in items(sandbox, "bigcommerce", "orders")
        if str(o["id"]) not in linked | skip
    )


def test_the_command_imports_one_order_now(sandbox, live_brand):
    value_maps(live_brand, "bc_order_status", BC_TO_BP)
    number = a_new_order(sandbox)
    out = StringIO()
    call_command("import_order", live_brand.slug, f"#{number}", stdout=out)

    bp = RecordLink.objects.get(
        brand=live_brand, kind="order", system="brightpearl", written_by="storefront_orders"
    )
    assert f"BigCommerce order {number} is Brightpearl sales order {bp.external_id}." in (
        out.getvalue()
    )
    # Only that order was read and posted.
    assert (
        RecordLink.objects.filter(
            brand=live_brand, kind="order", system="brightpearl", written_by="storefront_orders"
        ).count()
        == 1
    )
    # Imported again: the same order, not a second one.
    call_command("import_order", live_brand.slug, number, stdout=StringIO())
    assert sandbox.duplicates("brightpearl", created_after_seed=True)["count"] == 0


def test_the_command_says_why_it_cannot(sandbox, live_brand):
    with pytest.raises(CommandError, match="is not a BigCommerce order number"):
        call_command("import_order", live_brand.slug, "ten", stdout=StringIO())
    with pytest.raises(CommandError, match="BigCommerce has no order 999999"):
        call_command("import_order", live_brand.slug, "999999", stdout=StringIO())


def test_the_records_page_queues_an_import_for_a_member(client, sandbox, live_brand):
    from tests.conftest import make_user

    user = make_user("erin_ecommerce", live_brand, Team.ECOMMERCE)
    client.force_login(user)
    page = client.get(reverse("records")).content.decode()
    assert "Import a storefront order by its number" in page
    number = a_new_order(sandbox)

    response = client.post(reverse("order_import"), {"brand": live_brand.slug, "number": number})

    assert response.status_code == 302 and f"q={number}" in response["Location"]
    run = SyncRun.objects.get(brand=live_brand, flow="storefront_orders")
    assert run.scope == [number] and run.trigger == "manual"
    assert AuditEvent.objects.filter(action="storefront.order_import", actor=user).exists()
    page = client.get(response["Location"]).content.decode()
    assert f"Import of BigCommerce order {number} queued" in page

    bad = client.post(reverse("order_import"), {"brand": live_brand.slug, "number": "abc"})
    assert "is not a BigCommerce order number" in client.get(bad["Location"]).content.decode()


def test_another_brands_import_is_a_404(client, sandbox, live_brand, brand_b):
    from tests.conftest import make_user

    client.force_login(make_user("bob_bravo", brand_b, Team.ECOMMERCE))
    response = client.post(reverse("order_import"), {"brand": live_brand.slug, "number": "101"})
    assert response.status_code == 404
    assert not SyncRun.objects.filter(brand=live_brand).exists()

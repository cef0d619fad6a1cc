"""A value map's tab on the mappings page: tenant walls, who may change what, preview then
save (tickets resolved, waiting records queued), errors by row, drafts, stale previews and
revert — the same as for order statuses, from the kind's declaration alone."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from connectors.models import Connection
from exceptions.models import Ticket
from syncs.mapping_tables import field_id
from syncs.mappings import StatusChange, ValueChange, value_map_save
from syncs.models import Checkpoint, MappingChange, SyncRun, ValueMap
from syncs.services import flow_run_now
from tests.syncs.test_mapping_views import back_link, payload_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]

KIND = "bc_payment_method"


def url(name: str, brand, kind: str = KIND) -> str:
    return reverse(f"mappings:{name}", args=[brand.slug, kind])


def field(value: str, part: str) -> str:
    return f"v-{field_id(value)}-{part}"


@pytest.fixture
def waiting_klarna(sandbox, live_brand, payments_flow):
    """Stripe and PayPal mapped, one full run: the Klarna order waits with a ticket."""
    value_map_save(
        brand=live_brand,
        changes=[
            ValueChange(KIND, "Stripe", target_value="STRIPE", extra={"nominal_code": "1220"}),
            ValueChange(KIND, "PayPal", target_value="PAYPAL", extra={"nominal_code": "1221"}),
        ],
    )
    flow_run_now(brand=live_brand, flow=payments_flow.code, full=True)
    return Ticket.objects.get(type__code="unmapped_value")


# --- walls and permissions -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name,method", [("values", "get"), ("value_preview", "post"), ("value_save", "post")]
)
def test_another_brands_tab_is_not_found(client, live_brand, brand_b, bravo_user, name, method):
    client.force_login(bravo_user)
    assert getattr(client, method)(url(name, live_brand)).status_code == 404


def test_a_kind_the_brand_is_not_connected_for_is_not_found_nor_in_the_tabs(
    client, brand_a, marketing_user
):
    Connection.objects.create(brand=brand_a, system="brightpearl", base_url="https://x.example")
    Connection.objects.create(brand=brand_a, system="salesforce", base_url="https://x.example")
    client.force_login(marketing_user)
    assert client.get(url("values", brand_a)).status_code == 404
    assert client.get(url("values", brand_a, "teleport")).status_code == 404
    page = client.get(url("values", brand_a, "bp_customer_group")).content.decode()
    tabs = re.search(r'<nav class="tabs".*?</nav>', page, re.S).group(0)
    assert "Customer groups → account types" in tabs and "Payment methods" not in tabs


def test_other_members_may_look_but_not_change(client, waiting_klarna, live_brand, ops_user):
    client.force_login(ops_user)
    page = client.get(url("values", live_brand)).content.decode()
    assert 'data-value="Klarna"' in page and 'data-value="Stripe"' in page
    assert "marketing and admin teams change them" in page
    assert '<input type="text"' not in page and "<select" not in page
    assert "Preview the changes" not in page and "Revert…" not in page
    data = {field("Klarna", "target"): "KLARNA", field("Klarna", "nominal_code"): "1230"}
    assert client.post(url("value_preview", live_brand), data).status_code == 403
    assert client.post(url("value_save", live_brand), data).status_code == 403
    assert not ValueMap.objects.filter(source_value="Klarna").exists()


# --- the page, preview and save ------------------------------------------------------------------------
def test_a_waiting_value_comes_first_then_preview_then_save(
    client, waiting_klarna, live_brand, marketing_user, django_capture_on_commit_callbacks
):
    client.force_login(marketing_user)
    page = client.get(url("values", live_brand)).content.decode()
    unmapped = page.split('id="unmapped"')[1].split('id="mapped"')[0]
    assert 'data-value="Klarna"' in unmapped and "1 waiting" in unmapped
    assert f"Ticket #{waiting_klarna.pk}" in unmapped
    mapped = page.split('id="mapped"')[1]
    assert 'data-value="Stripe"' in mapped and 'value="STRIPE"' in mapped

    data = {field("Klarna", "target"): "KLARNA", field("Klarna", "nominal_code"): " 1230 "}
    preview = client.post(url("value_preview", live_brand), data)
    assert preview.status_code == 200
    text = preview.content.decode()
    assert "Preview: what saving would do" in text
    assert "not mapped" in text and "KLARNA · nominal code 1230" in text
    assert re.search(r'<span class="stat">1</span> waiting record sent for the first time', text)
    assert f"Resolves ticket #{waiting_klarna.pk}" in text
    assert not ValueMap.objects.filter(source_value="Klarna").exists()

    with django_capture_on_commit_callbacks(execute=False):
        saved = client.post(
            url("value_save", live_brand), {"payload": payload_of(preview)}, follow=True
        )
    klarna = ValueMap.objects.get(brand=live_brand, kind=KIND, source_value="Klarna")
    assert (klarna.target_value, klarna.extra) == ("KLARNA", {"nominal_code": "1230"})
    assert klarna.updated_by == marketing_user
    waiting_klarna.refresh_from_db()
    assert waiting_klarna.status == "resolved"
    run = SyncRun.objects.get(brand=live_brand, state="queued")
    message = saved.content.decode()
    assert f"Ticket #{waiting_klarna.pk} resolved" in message and f"Run {run.pk} queued" in message
    # The history on the page: who, from what to what.
    history = message[message.index('id="history"') :]
    assert "<strong>Klarna</strong>: not mapped → <strong>KLARNA · nominal code 1230</strong>" in (
        history
    )
    assert "mark_marketing" in history


def test_a_new_value_is_typed_in_and_a_bad_one_named(client, live_brand, marketing_user):
    client.force_login(marketing_user)
    bad = client.post(
        url("value_preview", live_brand),
        {"new-source": "Afterpay", "new-target": "AFTERPAY", "new-nominal_code": ""},
    )
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "Give the nominal code as well." in text
    assert 'id="new-source" value="Afterpay"' in text  # what was typed stays
    assert not ValueMap.objects.exists()

    good = client.post(
        url("value_preview", live_brand),
        {"new-source": "Afterpay", "new-target": "AFTERPAY", "new-nominal_code": "1240"},
    )
    assert good.status_code == 200, good.content.decode()[:3000]
    client.post(url("value_save", live_brand), {"payload": payload_of(good)})
    assert ValueMap.objects.get(source_value="Afterpay").target_value == "AFTERPAY"

    again = client.post(
        url("value_preview", live_brand),
        {"new-source": "Afterpay", "new-target": "X", "new-nominal_code": "1240"},
    )
    assert again.status_code == 400
    assert "“Afterpay” has a row above already" in again.content.decode()


def test_a_listed_value_is_chosen_from_the_vendors_list(client, live_brand, marketing_user):
    """BigCommerce's statuses are every row; Brightpearl's statuses are the choices."""
    client.force_login(marketing_user)
    page = client.get(url("values", live_brand, "bc_order_status")).content.decode()
    assert page.count('data-value="') == 15 and "Map another value" not in page
    assert '<option value="2" >' in page  # a Brightpearl status to choose
    forged = client.post(
        url("value_preview", live_brand, "bc_order_status"), {field("11", "target"): "999"}
    )
    assert forged.status_code == 400
    assert "“999” is not a Brightpearl order status of this brand" in forged.content.decode()


def test_nothing_changed_says_so(client, live_brand, marketing_user):
    client.force_login(marketing_user)
    response = client.post(url("value_preview", live_brand), {}, follow=True)
    assert "Nothing to preview" in response.content.decode()


# --- stale, tampered and foreign previews ----------------------------------------------------------
def test_a_tampered_foreign_or_other_pages_payload_is_refused(
    client, live_brand, brand_b, marketing_user
):
    from syncs.mapping_views import _sign

    client.force_login(marketing_user)
    change = ValueChange(KIND, "Klarna", target_value="KLARNA", extra={"nominal_code": "1"})
    for payload in (
        "changed on the way",
        _sign(brand_b, [change]),  # another brand's
        _sign(live_brand, [StatusChange(25, "Gift", "pending", "placed")]),  # another page's
        _sign(live_brand, [ValueChange("bc_channel", "1", target_value="3")]),  # another kind's
    ):
        response = client.post(url("value_save", live_brand), {"payload": payload})
        assert response.status_code == 400
        assert response.templates[0].name == "mappings/stale_preview.html"
        assert "This preview has expired or was changed on the way" in response.content.decode()
        assert f'href="{url("values", live_brand)}"' in response.content.decode()
    assert not ValueMap.objects.exists()


def test_a_change_made_meanwhile_is_not_overwritten(
    client, waiting_klarna, live_brand, marketing_user, admin_user
):
    client.force_login(marketing_user)
    data = {field("Stripe", "target"): "CARD", field("Stripe", "nominal_code"): "1220"}
    preview = client.post(url("value_preview", live_brand), data)
    value_map_save(
        brand=live_brand,
        changes=[
            ValueChange(KIND, "Stripe", target_value="STRIPE", extra={"nominal_code": "9999"})
        ],
        actor=admin_user,
    )
    response = client.post(
        url("value_save", live_brand), {"payload": payload_of(preview)}, follow=True
    )
    assert "was changed by someone else since you looked" in response.content.decode()
    assert ValueMap.objects.get(source_value="Stripe").extra == {"nominal_code": "9999"}


def test_back_without_saving_keeps_what_was_typed(
    client, waiting_klarna, live_brand, marketing_user
):
    client.force_login(marketing_user)
    data = {
        field("Klarna", "target"): "KLARNA",
        field("Klarna", "nominal_code"): "1230",
        "new-source": "Afterpay",
        "new-target": "AFTERPAY",
        "new-nominal_code": "1240",
    }
    preview = client.post(url("value_preview", live_brand), data)
    assert preview.status_code == 200
    back = back_link(preview)
    assert back.startswith(url("values", live_brand) + "?draft=")
    page = client.get(back).content.decode()
    row = page[page.index('data-value="Klarna"') :]
    row = row[: row.index("</tr>")]
    assert 'value="KLARNA" data-saved=""' in row and 'value="1230" data-saved=""' in row
    assert 'id="new-source" value="Afterpay"' in page
    assert not ValueMap.objects.filter(source_value__in=["Klarna", "Afterpay"]).exists()


# --- history and revert ---------------------------------------------------------------------------
def test_revert_previews_then_puts_the_map_back(client, live_brand, marketing_user):
    first = value_map_save(
        brand=live_brand,
        changes=[
            ValueChange(KIND, "Stripe", target_value="STRIPE", extra={"nominal_code": "1220"})
        ],
        actor=marketing_user,
    ).entries[0]
    second = value_map_save(
        brand=live_brand,
        changes=[ValueChange(KIND, "Stripe", target_value="CARD", extra={"nominal_code": "1299"})],
        actor=marketing_user,
    ).entries[0]
    client.force_login(marketing_user)
    page = client.get(url("values", live_brand)).content.decode()
    assert f"Revert change #{second.pk}" in page and f"Revert change #{first.pk}" in page

    preview = client.get(reverse("mappings:revert_preview", args=[live_brand.slug, second.pk]))
    text = preview.content.decode()
    assert f"Revert change #{second.pk}?" in text and "STRIPE · nominal code 1220" in text
    assert ValueMap.objects.get(source_value="Stripe").target_value == "CARD"

    client.post(
        reverse("mappings:revert", args=[live_brand.slug, second.pk]),
        {"payload": payload_of(preview)},
    )
    saved = ValueMap.objects.get(source_value="Stripe")
    assert (saved.target_value, saved.extra) == ("STRIPE", {"nominal_code": "1220"})
    revert = MappingChange.objects.get(reverts=second)
    assert revert.via == "revert" and revert.actor == marketing_user
    again = client.get(
        reverse("mappings:revert_preview", args=[live_brand.slug, second.pk]), follow=True
    )
    assert "there is nothing to revert" in again.content.decode()


def test_the_picker_counts_the_values_records_wait_on(client, waiting_klarna, brand_b):
    from brands.models import Membership, Team
    from tests.conftest import make_user

    both = make_user("two_brands", waiting_klarna.brand, Team.MARKETING)
    Membership.objects.create(user=both, brand=brand_b, team=Team.MARKETING)
    client.force_login(both)
    page = client.get(reverse("mappings:picker")).content.decode()
    acme = page[page.index("Acme Apparel") :]
    acme = acme[: acme.index("</tr>")]
    assert "1 unmapped" in acme
    bravo = page[page.index("Bravo Beauty") :]
    assert "None with records waiting" in bravo[: bravo.index("</tr>")]


def test_a_vendor_that_cannot_be_reached_is_said_and_the_saved_maps_still_show(
    client, live_brand, marketing_user, sandbox
):
    value_map_save(brand=live_brand, changes=[ValueChange("bp_warehouse", "2", target_value="1")])
    from django.core.cache import cache

    cache.clear()
    # Never read before (a list read once is shown as last read, with its age).
    Checkpoint.objects.filter(brand=live_brand, name__startswith="list:").delete()
    sandbox.set_faults("brightpearl", outage_seconds=60)
    client.force_login(marketing_user)
    page = client.get(url("values", live_brand, "bp_warehouse"))
    sandbox.clear_faults()
    assert page.status_code == 200
    text = page.content.decode()
    assert "Brightpearl could not be reached to read the list to choose the Brightpearl" in text
    mapped = text.split('id="mapped"')[1]
    assert 'data-value="2"' in mapped and 'value="1"' in mapped


def test_refresh_reads_the_kinds_lists_again_and_only_a_kind_with_lists_offers_it(
    client, live_brand, marketing_user, sandbox
):
    client.force_login(marketing_user)
    page = client.get(url("values", live_brand, "bp_warehouse")).content.decode()
    assert "Refresh from Brightpearl</button>" in page
    assert "Refresh from" not in client.get(url("values", live_brand)).content.decode()
    before = sandbox.stats()["brightpearl"]["requests"]
    done = client.post(
        reverse("mappings:refresh", args=[live_brand.slug]),
        {"next": "value:bp_warehouse"},
        follow=True,
    )
    assert done.redirect_chain[-1][0] == url("values", live_brand, "bp_warehouse")
    assert "Read the lists from Brightpearl just now." in done.content.decode()
    assert sandbox.stats()["brightpearl"]["requests"] > before


@pytest.mark.django_db
def test_a_value_maps_own_team_may_change_it_and_no_other(brand_a):
    """Marketing and admins change every mapping; the team a kind's tickets go to changes
    that kind (finance its payment methods), and nothing else."""
    from brands.models import Team
    from syncs.mapping_selectors import can_edit_mappings
    from tests.conftest import make_user

    finance = make_user("fin_only", brand_a, Team.FINANCE)
    marketing = make_user("mkt_only", brand_a, Team.MARKETING)
    assert can_edit_mappings(finance, brand_a, "bc_payment_method")
    assert not can_edit_mappings(finance, brand_a, "bc_customer_group")
    assert not can_edit_mappings(finance, brand_a, "status")
    assert not can_edit_mappings(finance, brand_a)
    assert can_edit_mappings(marketing, brand_a, "bc_customer_group")

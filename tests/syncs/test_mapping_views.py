"""The mappings pages: tenant walls, who may change what, preview then save, history, revert."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from brands.models import Team
from connectors.models import RateBudget
from exceptions.models import Ticket
from syncs.mappings import AttributeChange, StatusChange, attribute_mapping_save, mapping_save
from syncs.models import AttributeMapping, Checkpoint, MappingChange, StatusMapping, SyncRun
from tests.conftest import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def url(name: str, *args) -> str:
    return reverse(f"mappings:{name}", args=args)


def payload_of(response) -> str:
    match = re.search(r'name="payload" value="([^"]+)"', response.content.decode())
    assert match, "the preview carries the change in its form"
    return match.group(1)


GIFT_WRAP = 25


# --- tenant walls and permissions -------------------------------------------------------------
def test_anonymous_is_sent_to_login(client, brand_a):
    for target in (url("picker"), url("statuses", "acme"), url("attributes", "acme")):
        response = client.get(target)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize(
    "name,method",
    [
        ("statuses", "get"),
        ("attributes", "get"),
        ("refresh", "post"),
        ("status_preview", "post"),
        ("status_save", "post"),
        ("attribute_preview", "post"),
        ("attribute_save", "post"),
    ],
)
def test_another_brands_pages_are_not_found(client, brand_a, brand_b, bravo_user, name, method):
    client.force_login(bravo_user)
    response = getattr(client, method)(url(name, brand_a.slug))
    assert response.status_code == 404


def test_another_brands_history_entry_is_not_found(client, brand_a, brand_b, marketing_user):
    theirs = MappingChange.objects.create(
        brand=brand_b, kind="status", key="3", label="X", after=None, via="console"
    )
    client.force_login(marketing_user)
    assert client.get(url("revert_preview", brand_a.slug, theirs.pk)).status_code == 404
    assert client.post(url("revert", brand_a.slug, theirs.pk)).status_code == 404
    assert client.get(url("revert_preview", brand_b.slug, theirs.pk)).status_code == 404


def test_the_picker_lists_only_the_users_brands(client, brand_a, brand_b):
    both = make_user("two_brands", brand_a, Team.MARKETING)
    from brands.models import Membership

    Membership.objects.create(user=both, brand=brand_b, team=Team.MARKETING)
    client.force_login(both)
    page = client.get(url("picker")).content.decode()
    assert brand_a.name in page and brand_b.name in page

    client.force_login(make_user("one_brand", brand_a, Team.OPERATIONS))
    # One brand only: straight to its page.
    assert client.get(url("picker"))["Location"] == url("statuses", brand_a.slug)


def test_other_members_may_look_but_not_change(client, live_brand, ops_user):
    client.force_login(ops_user)
    page = client.get(url("statuses", live_brand.slug))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Awaiting gift wrap" in text
    assert "marketing and admin teams change them" in text
    assert "<select" not in text and "Preview the changes" not in text
    data = {f"s-{GIFT_WRAP}-ometria": "pending", f"s-{GIFT_WRAP}-stage": "processing"}
    assert client.post(url("status_preview", live_brand.slug), data).status_code == 403
    assert client.post(url("status_save", live_brand.slug), data).status_code == 403
    assert client.post(url("attribute_preview", live_brand.slug), {}).status_code == 403
    entry = MappingChange.objects.filter(brand=live_brand).first()
    assert client.get(url("revert_preview", live_brand.slug, entry.pk)).status_code == 403
    assert not StatusMapping.objects.filter(bp_status_id=GIFT_WRAP).exists()


# --- the status page ----------------------------------------------------------------------------
def test_unmapped_statuses_come_first_with_their_waiting_orders(
    client, synced_brand, marketing_user
):
    client.force_login(marketing_user)
    page = client.get(url("statuses", synced_brand.slug)).content.decode()
    unmapped = page.split('id="unmapped"')[1].split('id="mapped"')[0]
    assert "Awaiting gift wrap" in unmapped and "8 waiting" in unmapped
    ticket = Ticket.objects.get(type__code="unmapped_status")
    assert f"Ticket #{ticket.pk}" in unmapped
    mapped = page.split('id="mapped"')[1]
    assert "Fraud hold" in mapped and "Awaiting gift wrap" not in mapped
    # Every Brightpearl sales-order status is listed once.
    assert page.count('data-status="') == 12


def test_preview_then_save_maps_the_status_resolves_the_ticket_and_queues_the_orders(
    client, synced_brand, marketing_user, django_capture_on_commit_callbacks
):
    client.force_login(marketing_user)
    data = {f"s-{GIFT_WRAP}-ometria": "pending", f"s-{GIFT_WRAP}-stage": "processing"}
    preview = client.post(url("status_preview", synced_brand.slug), data)
    assert preview.status_code == 200
    text = preview.content.decode()
    assert "Preview: what saving would do" in text
    assert "not mapped" in text and "Pending · Processing" in text
    assert "sent for the first time" in text
    # Nothing saved by the preview.
    assert not StatusMapping.objects.filter(bp_status_id=GIFT_WRAP).exists()

    with django_capture_on_commit_callbacks(execute=False):
        saved = client.post(
            url("status_save", synced_brand.slug), {"payload": payload_of(preview)}, follow=True
        )
    mapping = StatusMapping.objects.get(brand=synced_brand, bp_status_id=GIFT_WRAP)
    assert (mapping.ometria_status, mapping.lifecycle_stage) == ("pending", "processing")
    assert mapping.updated_by == marketing_user
    ticket = Ticket.objects.get(type__code="unmapped_status")
    assert ticket.status == "resolved"
    run = SyncRun.objects.get(brand=synced_brand, state="queued")
    assert run.flow == "order_lifecycle" and len(run.scope) == 8
    message = saved.content.decode()
    assert f"Ticket #{ticket.pk} resolved" in message and f"Run {run.pk} queued" in message
    # The history shows who changed what, from what to what.
    entry = MappingChange.objects.get(brand=synced_brand, key=str(GIFT_WRAP))
    assert entry.actor == marketing_user and entry.before is None
    assert "mark_marketing" in message and "not mapped → <strong>Pending · Processing" in message


def test_unmapping_a_status_counts_the_orders_that_would_stop_syncing(
    client, synced_brand, marketing_user
):
    client.force_login(marketing_user)
    fraud = 24  # the demo seed's "Fraud hold", mapped and synced
    preview = client.post(
        url("status_preview", synced_brand.slug), {f"s-{fraud}-ometria": "", f"s-{fraud}-stage": ""}
    )
    text = preview.content.decode()
    waiting = re.search(r'<span class="stat">(\d+)</span> orders? would stop syncing', text)
    assert waiting and int(waiting.group(1)) > 0, text


def test_an_incomplete_row_names_the_status_and_keeps_the_choice(
    client, live_brand, marketing_user
):
    client.force_login(marketing_user)
    response = client.post(
        url("status_preview", live_brand.slug), {f"s-{GIFT_WRAP}-ometria": "shipped"}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "“Awaiting gift wrap”: choose a lifecycle stage as well" in text
    assert '<option value="shipped" selected>' in text
    assert not StatusMapping.objects.filter(bp_status_id=GIFT_WRAP).exists()


def test_a_forged_choice_is_refused(client, live_brand, marketing_user):
    client.force_login(marketing_user)
    response = client.post(
        url("status_preview", live_brand.slug),
        {f"s-{GIFT_WRAP}-ometria": "teleported", f"s-{GIFT_WRAP}-stage": "processing"},
    )
    assert response.status_code == 400
    assert "“teleported” is not an Ometria order status" in response.content.decode()


def test_nothing_changed_says_so(client, live_brand, marketing_user):
    client.force_login(marketing_user)
    response = client.post(url("status_preview", live_brand.slug), {}, follow=True)
    assert "Nothing to preview" in response.content.decode()


def test_a_tampered_or_foreign_payload_is_refused(client, live_brand, brand_b, marketing_user):
    client.force_login(marketing_user)
    assert client.post(url("status_save", live_brand.slug), {"payload": "x"}).status_code == 400
    from syncs.mapping_views import _sign

    foreign = _sign(brand_b, [StatusChange(GIFT_WRAP, "Gift", "pending", "placed")])
    response = client.post(url("status_save", live_brand.slug), {"payload": foreign})
    assert response.status_code == 400
    assert not StatusMapping.objects.filter(bp_status_id=GIFT_WRAP).exists()


def test_a_change_made_by_someone_else_meanwhile_is_not_overwritten(
    client, live_brand, marketing_user, admin_user
):
    client.force_login(marketing_user)
    data = {"s-23-ometria": "complete", "s-23-stage": "completed"}
    preview = client.post(url("status_preview", live_brand.slug), data)
    # Meanwhile, an admin maps Dispatched otherwise.
    mapping_save(
        brand=live_brand,
        changes=[StatusChange(23, "Dispatched", "shipped", "partially_shipped")],
        actor=admin_user,
    )
    response = client.post(
        url("status_save", live_brand.slug), {"payload": payload_of(preview)}, follow=True
    )
    assert "was changed by someone else since you looked" in response.content.decode()
    assert StatusMapping.objects.get(bp_status_id=23).lifecycle_stage == "partially_shipped"


def test_brightpearl_unreachable_says_so_and_shows_the_saved_mappings(
    client, live_brand, marketing_user, sandbox
):
    cache.clear()
    Checkpoint.objects.filter(brand=live_brand, name__startswith="list:").delete()  # never read
    sandbox.set_faults("brightpearl", outage_seconds=60)
    client.force_login(marketing_user)
    page = client.get(url("statuses", live_brand.slug))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Brightpearl could not be reached" in text
    assert "Dispatched" in text and "Fraud hold" in text
    sandbox.clear_faults()


# --- history and revert ---------------------------------------------------------------------------
def test_revert_previews_then_puts_the_mapping_back_and_is_recorded(
    client, live_brand, marketing_user
):
    first = mapping_save(
        brand=live_brand,
        changes=[StatusChange(23, "Dispatched", "complete", "completed")],
        actor=marketing_user,
    ).entries[0]
    client.force_login(marketing_user)
    page = client.get(url("statuses", live_brand.slug)).content.decode()
    assert f"Revert change #{first.pk}" in page

    preview = client.get(url("revert_preview", live_brand.slug, first.pk))
    assert preview.status_code == 200
    assert f"Revert change #{first.pk}?" in preview.content.decode()
    assert StatusMapping.objects.get(bp_status_id=23).lifecycle_stage == "completed"

    client.post(url("revert", live_brand.slug, first.pk), {"payload": payload_of(preview)})
    mapping = StatusMapping.objects.get(bp_status_id=23)
    assert (mapping.ometria_status, mapping.lifecycle_stage) == ("shipped", "shipped")
    revert = MappingChange.objects.filter(reverts=first).get()
    assert revert.via == "revert" and revert.actor == marketing_user
    assert revert.before == first.after and revert.after == first.before
    assert f"Reverts change #{first.pk}" in revert.note

    # Reverting the same entry again changes nothing and says so.
    again = client.get(url("revert_preview", live_brand.slug, first.pk), follow=True)
    assert "there is nothing to revert" in again.content.decode()


def test_reverting_an_added_mapping_removes_it(client, live_brand, marketing_user):
    added = mapping_save(
        brand=live_brand,
        changes=[StatusChange(GIFT_WRAP, "Awaiting gift wrap", "pending", "processing")],
        actor=marketing_user,
    ).entries[0]
    client.force_login(marketing_user)
    preview = client.get(url("revert_preview", live_brand.slug, added.pk))
    client.post(url("revert", live_brand.slug, added.pk), {"payload": payload_of(preview)})
    assert not StatusMapping.objects.filter(bp_status_id=GIFT_WRAP).exists()
    assert MappingChange.objects.get(reverts=added).after is None


# --- attributes ---------------------------------------------------------------------------------------
def test_attribute_page_preview_save_and_history(client, synced_brand, marketing_user):
    vip = AttributeMapping.objects.get(brand=synced_brand, source_name="VIP")
    client.force_login(marketing_user)
    page = client.get(url("attributes", synced_brand.slug)).content.decode()
    assert "Contact tag “VIP”" in page and "Loyalty: Gold" in page

    data = {
        f"a-{vip.pk}-attribute": "vip",
        f"a-{vip.pk}-value": "yes",
        f"a-{vip.pk}-absent": "no",
        "new-source": "tag",
        "new-source_name": "",
    }
    preview = client.post(url("attribute_preview", synced_brand.slug), data)
    assert preview.status_code == 200
    text = preview.content.decode()
    assert "would change" in text and "“true”" in text and "“yes”" in text
    vip.refresh_from_db()
    assert vip.value == "true"

    client.post(url("attribute_save", synced_brand.slug), {"payload": payload_of(preview)})
    vip.refresh_from_db()
    assert (vip.value, vip.absent_value) == ("yes", "no")
    entry = MappingChange.objects.get(kind="attribute", via="console")
    assert entry.before["value"] == "true" and entry.after["value"] == "yes"
    assert SyncRun.objects.get(brand=synced_brand, state="queued").flow == "customers"


def test_a_new_attribute_for_an_unknown_tag_names_the_row(client, live_brand, marketing_user):
    client.force_login(marketing_user)
    response = client.post(
        url("attribute_preview", live_brand.slug),
        {"new-source": "tag", "new-source_name": "Gold member", "new-attribute": "gold"},
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Brightpearl has no contact tag called “Gold member”" in text
    assert 'value="Gold member"' in text
    assert not AttributeMapping.objects.filter(source_name="Gold member").exists()


def test_an_attribute_name_ometria_would_refuse_is_refused(client, live_brand, marketing_user):
    vip = AttributeMapping.objects.get(brand=live_brand, source_name="VIP")
    client.force_login(marketing_user)
    response = client.post(
        url("attribute_preview", live_brand.slug),
        {f"a-{vip.pk}-attribute": "very important", f"a-{vip.pk}-value": "true"},
    )
    assert response.status_code == 400
    assert "is not an attribute name Ometria takes" in response.content.decode()


def test_an_attribute_change_can_be_reverted_after_its_preview(client, live_brand, marketing_user):
    vip = AttributeMapping.objects.get(brand=live_brand, source_name="VIP")
    entry = attribute_mapping_save(
        brand=live_brand,
        changes=[AttributeChange("tag", "VIP", "vip", "yes", "no")],
        actor=marketing_user,
    ).entries[0]
    client.force_login(marketing_user)
    preview = client.get(url("revert_preview", live_brand.slug, entry.pk))
    text = preview.content.decode()
    assert f"Revert change #{entry.pk}?" in text and "“yes”" in text
    client.post(url("revert", live_brand.slug, entry.pk), {"payload": payload_of(preview)})
    vip.refresh_from_db()
    assert (vip.value, vip.absent_value) == ("true", "false")
    assert MappingChange.objects.get(reverts=entry).via == "revert"


def test_a_preview_saved_on_the_other_page_is_refused(client, live_brand, marketing_user):
    """A status preview's payload posted to the attributes' Save changes nothing."""
    client.force_login(marketing_user)
    preview = client.post(
        url("status_preview", live_brand.slug),
        {f"s-{GIFT_WRAP}-ometria": "pending", f"s-{GIFT_WRAP}-stage": "processing"},
    )
    response = client.post(url("attribute_save", live_brand.slug), {"payload": payload_of(preview)})
    assert response.status_code == 400
    assert not StatusMapping.objects.filter(bp_status_id=GIFT_WRAP).exists()


def back_link(response) -> str:
    """Where the preview's "Back, without saving" goes."""
    match = re.search(
        r'<a class="button" href="([^"]+)">Back, without saving</a>', response.content.decode()
    )
    assert match, "the preview has a way back"
    return match.group(1).replace("&amp;", "&")


def test_back_without_saving_keeps_every_choice_made(client, live_brand, marketing_user):
    client.force_login(marketing_user)
    data = {f"s-{GIFT_WRAP}-ometria": "pending", f"s-{GIFT_WRAP}-stage": "processing"}
    preview = client.post(url("status_preview", live_brand.slug), data)
    back = back_link(preview)
    assert back.startswith(url("statuses", live_brand.slug) + "?draft=")
    page = client.get(back).content.decode()
    row = page[page.index(f'data-status="{GIFT_WRAP}"') :]
    row = row[: row.index("</tr>")]
    assert '<option value="pending" selected>' in row
    assert '<option value="processing" selected>' in row
    # Still shown as a change, not as what is saved.
    assert 'data-saved=""' in row
    assert (
        'class="row-changed"'
        in page[page.rindex("<tr", 0, page.index(f'data-status="{GIFT_WRAP}"')) :][:80]
    )
    assert not StatusMapping.objects.filter(bp_status_id=GIFT_WRAP).exists()
    # The top link goes the same way.
    assert preview.content.decode().count(back.replace("&", "&amp;")) == 2


def test_a_draft_of_many_changes_fits_in_a_link_and_is_never_a_save(
    client, live_brand, marketing_user
):
    from syncs.mapping_views import DRAFT_SALT, _sign

    client.force_login(marketing_user)
    changes = [
        StatusChange(900 + i, f"A status with a long name {i}", "pending", "placed")
        for i in range(30)
    ]
    draft = _sign(live_brand, changes, salt=DRAFT_SALT)
    # Gunicorn refuses a request line over 4,094 bytes.
    assert len(url("statuses", live_brand.slug)) + len(draft) < 2000
    # Taken from a browser history or a log, the link cannot be posted as a confirmed Save.
    response = client.post(url("status_save", live_brand.slug), {"payload": draft})
    assert response.status_code == 400
    assert not StatusMapping.objects.filter(bp_status_id__gte=900).exists()


def test_a_draft_that_is_not_ours_shows_the_saved_mappings(
    client, live_brand, brand_b, marketing_user
):
    from syncs.mapping_views import DRAFT_SALT, _sign

    client.force_login(marketing_user)
    change = [StatusChange(GIFT_WRAP, "Gift", "pending", "placed")]
    foreign = _sign(brand_b, change, salt=DRAFT_SALT)
    a_save = _sign(live_brand, change)  # a Save's payload is not a draft either
    for draft in ("x", foreign, a_save):
        response = client.get(url("statuses", live_brand.slug), {"draft": draft})
        assert response.status_code == 200
        assert "row-changed" not in response.content.decode()


def test_back_without_saving_keeps_the_attribute_choices(client, live_brand, marketing_user):
    vip = AttributeMapping.objects.get(brand=live_brand, source_name="VIP")
    client.force_login(marketing_user)
    data = {
        f"a-{vip.pk}-attribute": "vip",
        f"a-{vip.pk}-value": "yes",
        f"a-{vip.pk}-absent": "no",
        "new-source": "tag",
        "new-source_name": "Loyalty: Gold",
        "new-attribute": "gold",
    }
    AttributeMapping.objects.filter(brand=live_brand, source_name="Loyalty: Gold").delete()
    preview = client.post(url("attribute_preview", live_brand.slug), data)
    assert preview.status_code == 200, preview.content.decode()
    page = client.get(back_link(preview)).content.decode()
    assert f'id="a-{vip.pk}-value" value="yes"' in page
    assert f'id="a-{vip.pk}-absent" value="no"' in page
    assert 'id="new-source_name" value="Loyalty: Gold"' in page
    assert 'id="new-attribute" value="gold"' in page
    vip.refresh_from_db()
    assert vip.value == "true"


def test_a_stale_preview_says_so_on_a_page_with_the_way_back(client, live_brand, marketing_user):
    client.force_login(marketing_user)
    for name, back in (("status_save", "statuses"), ("attribute_save", "attributes")):
        response = client.post(url(name, live_brand.slug), {"payload": "changed on the way"})
        assert response.status_code == 400
        assert response.templates[0].name == "mappings/stale_preview.html"
        page = response.content.decode()
        assert "<title>Nothing saved · Acme Apparel · Integration Console</title>" in page
        assert "This preview has expired or was changed on the way" in page
        assert f'href="{url(back, live_brand.slug)}"' in page
        assert 'class="topbar"' in page


def test_a_mapping_is_described_in_plain_words():
    from syncs.mappings import describe

    tag = {"source": "tag", "ometria_attribute": "vip", "value": "", "absent_value": "false"}
    field = {"source": "custom_field", "ometria_attribute": "birth_month", "value": ""}
    assert describe("attribute", tag) == "vip = true; when absent: “false”"
    assert describe("attribute", field) == (
        "birth_month = the field's value in Brightpearl; when absent: cleared"
    )


def spend_the_allowance(brand) -> None:
    """Brightpearl's 200 requests for this minute are used up (by a backfill, say)."""
    RateBudget.objects.update_or_create(
        brand=brand,
        system="brightpearl",
        defaults={
            "limit": 200,
            "window_seconds": 60,
            "remaining": 0,
            "resets_at": time.time() + 60,
        },
    )


def test_no_page_waits_on_a_spent_allowance_it_shows_the_last_lists_and_their_age(
    client, live_brand, marketing_user, sandbox
):
    """Brightpearl's allowance is used up for the minute: the page answers at once with the
    statuses as last read, says how old they are, and reads them again in the background."""
    cache.clear()
    Checkpoint.objects.filter(brand=live_brand, name__startswith="list:").update(
        updated=timezone.now() - timedelta(minutes=25)
    )
    spend_the_allowance(live_brand)
    client.force_login(marketing_user)
    started = time.monotonic()
    with mock.patch("syncs.vendor_lists.async_task") as queued:
        page = client.get(url("statuses", live_brand.slug))
    assert time.monotonic() - started < 2
    text = page.content.decode()
    assert page.status_code == 200 and "Dispatched" in text
    assert "were read 25" in text and "read again in the background" in text
    assert queued.call_args.args == ("syncs.tasks.vendor_list_read", live_brand.pk, "bp-statuses")


def test_a_list_never_read_is_not_waited_for_when_the_allowance_is_spent(
    client, live_brand, marketing_user, sandbox
):
    cache.clear()
    Checkpoint.objects.filter(brand=live_brand, name__startswith="list:").delete()
    spend_the_allowance(live_brand)
    client.force_login(marketing_user)
    started = time.monotonic()
    page = client.get(url("statuses", live_brand.slug))
    assert time.monotonic() - started < 2, "the page did not wait for the next minute"
    assert "Brightpearl could not be reached: The vendor asked us to slow down" in (
        page.content.decode()
    )


def test_the_background_read_waits_for_the_allowance_and_keeps_the_list(live_brand, sandbox):
    from syncs.vendor_lists import vendor_list_read

    Checkpoint.objects.filter(brand=live_brand, name__startswith="list:").delete()
    cache.clear()
    vendor_list_read(brand_id=live_brand.pk, key="bp-statuses")
    kept = Checkpoint.objects.get(brand=live_brand, name="list:bp-statuses")
    assert any(s["name"] == "Dispatched" for s in kept.value["items"])

"""Value maps in the admin: import and export (CSV and XLSX, every kind in one file), each
problem named by row and column, and edits through the services and the history."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from exceptions.models import Ticket
from syncs.mappings import ValueChange, value_map_save
from syncs.models import MappingChange, SyncRun, ValueMap
from syncs.services import flow_run_now
from tests.syncs.test_mapping_import import page_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]

IMPORT = "/admin/syncs/valuemap/import/"
CONFIRM = "/admin/syncs/valuemap/process_import/"
EXPORT = "/admin/syncs/valuemap/export/"
CSV, XLSX = "0", "1"
HEADER = (
    "Brand,Kind,Source value,Source name,Target value,Nominal code,Mailchimp field type,"
    "In this audience?,Note\n"
)


def upload(client, content: bytes, fmt: str = CSV, name: str = "values.csv"):
    return client.post(
        IMPORT, {"import_file": SimpleUploadedFile(name, content), "format": fmt, "resource": "0"}
    )


def confirm(client, preview):
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', preview.content.decode()))
    assert "import_file_name" in fields, "the preview offers to confirm"
    keep = ("import_file_name", "original_file_name", "format", "resource")
    return client.post(CONFIRM, {k: fields[k] for k in keep if k in fields})


def snapshot():
    return sorted(ValueMap.objects.values_list("kind", "source_value", "target_value", "extra"))


def test_a_good_file_previews_then_saves_resolves_and_queues(
    client, sandbox, live_brand, payments_flow, admin_user, django_capture_on_commit_callbacks
):
    value_map_save(
        brand=live_brand,
        changes=[
            ValueChange(
                "bc_payment_method", m, target_value=m.upper(), extra={"nominal_code": "1220"}
            )
            for m in ("Stripe", "PayPal")
        ],
    )
    flow_run_now(brand=live_brand, flow=payments_flow.code, full=True)
    ticket = Ticket.objects.get(type__code="unmapped_value")
    client.force_login(admin_user)
    csv = HEADER + (
        "acme,Payment methods,Klarna,,KLARNA,1230,,,Pay later\n"
        "acme,bc_order_status,11.0,,2,,,,\n"
        "acme,bp_contact_to_mailchimp,VIP,,VIP,,merge_field,,\n"
        "acme,bc_payment_method,Stripe,,STRIPE,1220,,,\n"  # as it is: skipped
    )
    before = snapshot()
    preview = upload(client, csv.encode())
    text = page_text(preview)
    assert "Confirm import" in text, text[:3000]
    assert snapshot() == before, "the preview changed nothing"

    with django_capture_on_commit_callbacks(execute=False):
        done = confirm(client, preview)
    assert done.status_code == 302
    klarna = ValueMap.objects.get(kind="bc_payment_method", source_value="Klarna")
    assert (klarna.target_value, klarna.extra, klarna.note) == (
        "KLARNA",
        {"nominal_code": "1230"},
        "Pay later",
    )
    assert ValueMap.objects.get(kind="bc_order_status").source_value == "11"
    assert ValueMap.objects.get(kind="bp_contact_to_mailchimp").extra == {"as": "merge_field"}
    entries = MappingChange.objects.filter(via="import").order_by("kind")
    assert [(e.kind, e.key) for e in entries] == [
        ("bc_order_status", "11"),
        ("bc_payment_method", "Klarna"),
        ("bp_contact_to_mailchimp", "VIP"),
    ]
    assert all(e.actor == admin_user and "Imported from values.csv" in e.note for e in entries)
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    run = SyncRun.objects.get(flow=payments_flow.code, state="queued")
    assert run.scope == [
        str(sandbox.seed_facts()["demo"]["bigcommerce"]["unmapped_payment_order_id"])
    ]


def test_every_problem_is_named_by_row_and_column_and_nothing_changes(
    client, live_brand, admin_user
):
    client.force_login(admin_user)
    csv = HEADER + (
        "acme,bc_payment_method,Stripe,,STRIPE,1220,,\n"
        "acme,teleport,x,,y,,,\n"
        "acme,bc_payment_method,Klarna,,KLARNA,12a4,,\n"
        "acme,bc_order_status,11,,999,,,\n"
        "acme,bc_channel,1,,3,1220,,\n"
        "nowhere,bc_channel,1,,3,,,\n"
        "acme,bc_payment_method,Stripe,,CARD,1299,,\n"
    )
    before = snapshot()
    text = page_text(upload(client, csv.encode()))
    assert "Row 2, Kind: “teleport” is not a kind of value map." in text
    assert "Row 3, Nominal code: “12a4” is not a nominal code" in text
    assert "Row 4, Target value: “999” is not a Brightpearl order status of this brand" in text
    assert "Row 5, Nominal code: A channels mapping has no nominal code" in text
    assert "Row 6, Brand: No brand has the short name “nowhere”" in text
    assert "Row 1, Source value: “Stripe” (bc_payment_method) of acme is in row 7 as well." in text
    assert "Confirm import" not in text
    assert snapshot() == before
    assert not MappingChange.objects.filter(via="import").exists()


def test_a_file_without_the_needed_columns_says_which(client, live_brand, admin_user):
    client.force_login(admin_user)
    text = page_text(upload(client, b"brand,kind,value\nacme,bc_channel,1\n"))
    assert "The file is missing the columns “Source value” and “Target value”" in text
    assert "Nominal code (may be left out)" in text


def export(client, fmt: str):
    page = client.get(EXPORT).content.decode()
    boxes = re.findall(r'name="(valuemapresource_\w+)"', page)
    assert boxes, "the export offers the columns"
    return client.post(EXPORT, {"format": fmt, "resource": "0", **{b: "on" for b in boxes}})


@pytest.mark.parametrize("fmt,name", [(CSV, "values.csv"), (XLSX, "values.xlsx")])
def test_an_exported_file_imports_unchanged(client, live_brand, admin_user, fmt, name):
    value_map_save(
        brand=live_brand,
        changes=[
            ValueChange(
                "bc_payment_method",
                "Klarna",
                target_value="KLARNA",
                extra={"nominal_code": "1230"},
                note="Pay later",
            ),
            ValueChange("bp_warehouse", "2", target_value="1"),
            ValueChange(
                "bp_contact_to_mailchimp", "VIP", target_value="VIP customers", extra={"as": "tag"}
            ),
        ],
    )
    client.force_login(admin_user)
    exported = export(client, fmt)
    assert exported.status_code == 200
    if fmt == CSV:
        lines = exported.content.decode().splitlines()
        assert lines[0] == HEADER.strip()
        assert "acme,bc_payment_method,Klarna,,KLARNA,1230,,,Pay later" in lines
    preview = upload(client, exported.content, fmt=fmt, name=name)
    assert "Confirm import" in page_text(preview)
    kinds = set(re.findall(r'<tr class="(\w+)">', preview.content.decode()))
    assert kinds == {"skip"}, "every row is read as it is"


def test_admin_edits_go_through_the_services_and_the_history(client, live_brand, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/admin/syncs/valuemap/add/",
        {
            "brand": live_brand.pk,
            "kind": "bc_payment_method",
            "source_value": "Klarna",
            "source_label": "",
            "target_value": "KLARNA",
            "extra": '{"nominal_code": "12x"}',
            "note": "",
        },
    )
    assert response.status_code == 200
    assert "a Brightpearl nominal code is a number" in response.content.decode()
    response = client.post(
        "/admin/syncs/valuemap/add/",
        {
            "brand": live_brand.pk,
            "kind": "bc_payment_method",
            "source_value": "Klarna",
            "target_value": "KLARNA",
            "extra": '{"nominal_code": "1230"}',
            "note": "",
        },
    )
    assert response.status_code == 302, page_text(response)[:2000]
    saved = ValueMap.objects.get(source_value="Klarna")
    entry = MappingChange.objects.get(via="admin")
    assert entry.kind == "bc_payment_method" and entry.actor == admin_user
    client.post(f"/admin/syncs/valuemap/{saved.pk}/delete/", {"post": "yes"})
    assert not ValueMap.objects.exists()
    assert MappingChange.objects.filter(via="admin", after__isnull=True).count() == 1


def test_the_admin_history_filters_by_kind_in_words(client, live_brand, admin_user):
    value_map_save(
        brand=live_brand,
        changes=[ValueChange("bc_channel", "1", target_value="3")],
        actor=admin_user,
    )
    client.force_login(admin_user)
    page = client.get("/admin/syncs/mappingchange/?kind=bc_channel").content.decode()
    assert "Channels" in page and "Order status" in page  # the filter's choices
    assert page.count('class="field-kind_name"') == 1
    everything = client.get("/admin/syncs/mappingchange/").content.decode()
    assert everything.count('class="field-kind_name"') == MappingChange.objects.count() > 1

"""Import and export of the mappings in the admin (django-import-export, CSV and XLSX).

An import shows its preview first; a file with an unknown status, stage or tag names the row
and changes nothing; a good one is recorded in the history and resolves what it fixes.
"""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile

from exceptions.models import Ticket
from syncs.models import AttributeMapping, MappingChange, StatusMapping, SyncRun
from syncs.resources import StatusMappingResource

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]

STATUS_IMPORT = "/admin/syncs/statusmapping/import/"
STATUS_CONFIRM = "/admin/syncs/statusmapping/process_import/"
ATTRIBUTE_IMPORT = "/admin/syncs/attributemapping/import/"
CSV, XLSX = "0", "1"


def upload(client, url: str, content: bytes, fmt: str = CSV, name: str = "mappings.csv"):
    return client.post(
        url, {"import_file": SimpleUploadedFile(name, content), "format": fmt, "resource": "0"}
    )


def confirm(client, preview, url: str = STATUS_CONFIRM):
    html = preview.content.decode()
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', html))
    assert "import_file_name" in fields, "the preview offers to confirm"
    return client.post(
        url,
        {
            k: fields[k]
            for k in ("import_file_name", "original_file_name", "format", "resource")
            if k in fields
        },
    )


def snapshot_statuses():
    return sorted(
        StatusMapping.objects.values_list("bp_status_id", "ometria_status", "lifecycle_stage")
    )


def test_a_good_import_previews_then_saves_records_and_resolves_the_ticket(
    client, synced_brand, admin_user, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    csv = (
        b"brand,bp_status_id,bp_status_name,ometria_status,lifecycle_stage\n"
        b"acme,25,Gift wrap,Pending,Processing\n"
        b"acme,23,Dispatched,complete,completed\n"
        b"acme,4,Invoiced,complete,completed\n"  # as it is: skipped
    )
    before = snapshot_statuses()
    preview = upload(client, STATUS_IMPORT, csv)
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "Confirm import" in html and "Errors" not in html
    assert snapshot_statuses() == before, "the preview changed nothing"
    assert not MappingChange.objects.filter(via="import").exists()

    with django_capture_on_commit_callbacks(execute=False):
        done = confirm(client, preview)
    assert done.status_code == 302
    gift = StatusMapping.objects.get(bp_status_id=25)
    # Labels are read as their codes; the name is Brightpearl's own.
    assert (gift.ometria_status, gift.lifecycle_stage) == ("pending", "processing")
    assert gift.bp_status_name == "Awaiting gift wrap"
    assert StatusMapping.objects.get(bp_status_id=23).lifecycle_stage == "completed"
    entries = MappingChange.objects.filter(via="import").order_by("key")
    assert [(e.key, e.actor) for e in entries] == [("23", admin_user), ("25", admin_user)]
    assert all("Imported from mappings.csv" in e.note for e in entries)
    ticket = Ticket.objects.get(type__code="unmapped_status")
    assert ticket.status == "resolved"
    run = SyncRun.objects.get(state="queued")
    assert run.flow == "order_lifecycle" and len(run.scope) > 8


@pytest.mark.parametrize(
    "row,column,error",
    [
        (
            "acme,99,Teleported,pending,placed",
            "Brightpearl status id",
            "Brightpearl has no sales-order status with id 99",
        ),
        (
            "acme,25,Gift wrap,pending,wrapped",
            "Lifecycle stage",
            "“wrapped” is not a lifecycle stage",
        ),
        (
            "acme,25,Gift wrap,sideways,placed",
            "Ometria order status",
            "“sideways” is not an Ometria order status",
        ),
        ("nowhere,25,Gift wrap,pending,placed", "Brand", "No brand has the short name “nowhere”"),
    ],
)
def test_a_bad_row_is_named_and_nothing_changes(client, live_brand, admin_user, row, column, error):
    client.force_login(admin_user)
    csv = (
        "brand,bp_status_id,bp_status_name,ometria_status,lifecycle_stage\n"
        "acme,23,Dispatched,complete,completed\n" + row + "\n"
    ).encode()
    before = snapshot_statuses()
    text = page_text(upload(client, STATUS_IMPORT, csv))
    # Named by its number and its column.
    assert f"Row 2, {column}: {error}" in text
    assert "Confirm import" not in text
    assert snapshot_statuses() == before
    assert not MappingChange.objects.filter(via="import").exists()


def test_a_confirmed_file_that_went_bad_still_changes_nothing(live_brand, admin_user):
    dataset = tablib.Dataset(
        ["acme", 23, "Dispatched", "complete", "completed"],
        ["acme", 25, "Gift wrap", "pending", "wrapped"],
        headers=["brand", "bp_status_id", "bp_status_name", "ometria_status", "lifecycle_stage"],
    )
    before = snapshot_statuses()
    result = StatusMappingResource().import_data(dataset, dry_run=False, user=admin_user)
    assert result.has_validation_errors()
    assert snapshot_statuses() == before
    assert not MappingChange.objects.filter(via="import").exists()


def test_an_xlsx_import_and_both_exports(client, live_brand, admin_user):
    client.force_login(admin_user)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["brand", "bp_status_id", "bp_status_name", "ometria_status", "lifecycle_stage"])
    sheet.append(["acme", 25, "Awaiting gift wrap", "pending", "processing"])
    buffer = io.BytesIO()
    book.save(buffer)
    preview = upload(client, STATUS_IMPORT, buffer.getvalue(), fmt=XLSX, name="m.xlsx")
    assert "Confirm import" in preview.content.decode()
    confirm(client, preview)
    assert StatusMapping.objects.filter(bp_status_id=25).exists()

    exported = client.post(
        "/admin/syncs/statusmapping/export/",
        {
            "format": CSV,
            "resource": "0",
            **{
                f"statusmappingresource_{f}": "on"
                for f in (
                    "brand",
                    "bp_status_id",
                    "bp_status_name",
                    "ometria_status",
                    "lifecycle_stage",
                )
            },
        },
    )
    assert exported.status_code == 200
    text = exported.content.decode()
    assert text.splitlines()[0] == (
        "Brand,Brightpearl status id,Brightpearl status name,Ometria order status,Lifecycle stage"
    )
    assert "acme,25,Awaiting gift wrap,pending,processing" in text

    xlsx = client.post(
        "/admin/syncs/attributemapping/export/",
        {
            "format": XLSX,
            "resource": "0",
            **{
                f"attributemappingresource_{f}": "on"
                for f in (
                    "brand",
                    "source",
                    "source_name",
                    "ometria_attribute",
                    "value",
                    "absent_value",
                )
            },
        },
    )
    rows = list(openpyxl.load_workbook(io.BytesIO(xlsx.content)).active.values)
    assert rows[0] == (
        "Brand",
        "Source",
        "Brightpearl tag or field",
        "Ometria attribute",
        "Value",
        "Value when absent",
    )
    assert ("acme", "tag", "VIP", "vip", "true", "false") in rows


def test_attribute_import_names_an_unknown_tag_and_takes_a_good_file(
    client, live_brand, admin_user
):
    client.force_login(admin_user)
    header = "brand,source,source_name,ometria_attribute,value,absent_value\n"
    bad = upload(client, ATTRIBUTE_IMPORT, (header + "acme,tag,Platinum,tier,platinum,\n").encode())
    assert "Brightpearl has no contact tag called “Platinum”" in bad.content.decode()
    assert not AttributeMapping.objects.filter(source_name="Platinum").exists()

    good = upload(
        client,
        ATTRIBUTE_IMPORT,
        (
            header
            + "acme,Contact tag,VIP,vip,yes,no\nacme,custom_field,PCF_BIRTHMON,birth_month,,\n"
        ).encode(),
    )
    assert "Confirm import" in good.content.decode()
    confirm(client, good, "/admin/syncs/attributemapping/process_import/")
    vip = AttributeMapping.objects.get(brand=live_brand, source_name="VIP")
    assert (vip.value, vip.absent_value) == ("yes", "no")
    assert AttributeMapping.objects.filter(source_name="PCF_BIRTHMON").exists()
    assert MappingChange.objects.filter(kind="attribute", via="import").count() == 2


def test_admin_edits_go_through_the_services_and_the_history(client, live_brand, admin_user):
    client.force_login(admin_user)
    mapping = StatusMapping.objects.get(brand=live_brand, bp_status_id=23)
    response = client.post(
        f"/admin/syncs/statusmapping/{mapping.pk}/change/",
        {
            "bp_status_name": "Dispatched",
            "ometria_status": "complete",
            "lifecycle_stage": "completed",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = MappingChange.objects.get(via="admin")
    assert entry.before["lifecycle_stage"] == "shipped" and entry.actor == admin_user
    client.post(f"/admin/syncs/statusmapping/{mapping.pk}/delete/", {"post": "yes"})
    assert not StatusMapping.objects.filter(pk=mapping.pk).exists()
    assert MappingChange.objects.filter(via="admin", after__isnull=True).count() == 1


def test_admin_attribute_edits_go_through_the_services_and_the_history(
    client, live_brand, admin_user
):
    client.force_login(admin_user)
    vip = AttributeMapping.objects.get(brand=live_brand, source_name="VIP")
    response = client.post(
        f"/admin/syncs/attributemapping/{vip.pk}/change/",
        {"ometria_attribute": "vip", "value": "yes", "absent_value": "no"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = MappingChange.objects.get(via="admin", kind="attribute")
    assert (entry.before["value"], entry.after["value"]) == ("true", "yes")
    assert entry.actor == admin_user
    client.post(f"/admin/syncs/attributemapping/{vip.pk}/delete/", {"post": "yes"})
    assert not AttributeMapping.objects.filter(pk=vip.pk).exists()
    assert (
        MappingChange.objects.filter(via="admin", kind="attribute", after__isnull=True).count() == 1
    )


def page_text(response) -> str:
    """The page's content as a reader sees it: no tags, no tooltips, spaces collapsed."""
    html = response.content.decode()
    html = html[html.find('id="content"') :]
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", text.replace("&#x27;", "'").replace("&quot;", '"'))


STATUS_HEADER = "brand,bp_status_id,bp_status_name,ometria_status,lifecycle_stage\n"


def test_a_status_id_that_is_not_a_number_says_so(client, live_brand, admin_user):
    client.force_login(admin_user)
    csv = STATUS_HEADER + (
        "acme,23,Dispatched,complete,completed\n"
        "acme,4,Invoiced,complete,completed\n"
        "acme,20,Awaiting payment,pending,awaiting_payment\n"
        "acme,26,Completed,complete,completed\n"
        "acme,abc,Gift wrap,pending,placed\n"
    )
    before = snapshot_statuses()
    text = page_text(upload(client, STATUS_IMPORT, csv.encode()))
    assert "“abc” is not a number" in text
    assert "decimal" not in text.lower() and "ConversionSyntax" not in text
    assert "Confirm import" not in text
    assert snapshot_statuses() == before


def test_every_row_s_problems_show_in_one_pass(client, live_brand, admin_user):
    client.force_login(admin_user)
    csv = STATUS_HEADER + (
        "nowhere,25,Gift wrap,pending,placed\n"
        "acme,999,Teleported,pending,placed\n"
        "acme,26,Completed,complete,teleported\n"
        "acme,abc,Gift wrap,sideways,placed\n"
        "acme,23,Dispatched,complete,completed\n"
    )
    before = snapshot_statuses()
    text = page_text(upload(client, STATUS_IMPORT, csv.encode()))
    assert "No brand has the short name “nowhere”" in text
    assert "Brightpearl has no sales-order status with id 999" in text
    assert "“teleported” is not a lifecycle stage" in text
    # Two problems in one row: both named.
    assert "“abc” is not a number" in text
    assert "“sideways” is not an Ometria order status" in text
    assert "Confirm import" not in text
    assert snapshot_statuses() == before
    assert not MappingChange.objects.filter(via="import").exists()


def test_row_problems_are_lines_of_text_naming_the_row_and_the_column(
    client, live_brand, admin_user
):
    client.force_login(admin_user)
    csv = STATUS_HEADER + (
        "acme,23,Dispatched,complete,completed\n"
        "acme,4,Invoiced,complete,completed\n"
        "acme,25,Gift wrap,pending,wrapped\n"
        "acme,26,Completed,complete,completed\n"
        "acme,abc,Gift wrap,pending,placed\n"
    )
    html = upload(client, STATUS_IMPORT, csv.encode()).content.decode()
    # Visible as text, not only in a tooltip over a red count.
    assert "validation-error-container" not in html
    lines = [re.sub(r"\s+", " ", li).strip() for li in re.findall(r"<li>(.*?)</li>", html, re.S)]
    assert "Row 5, Brightpearl status id: “abc” is not a number." in " ".join(lines)
    assert any(
        li.startswith("Row 3, Lifecycle stage: “wrapped” is not a lifecycle stage") for li in lines
    )
    assert "Nothing has been imported" in page_text(upload(client, STATUS_IMPORT, csv.encode()))


def export(client, model: str, fmt: str):
    page = client.get(f"/admin/syncs/{model}/export/").content.decode()
    boxes = re.findall(rf'name="({model}resource_\w+)"', page)
    return client.post(
        f"/admin/syncs/{model}/export/",
        {"format": fmt, "resource": "0", **{box: "on" for box in boxes}},
    )


@pytest.mark.parametrize("fmt,name", [(CSV, "mappings.csv"), (XLSX, "mappings.xlsx")])
@pytest.mark.parametrize("model", ["statusmapping", "attributemapping"])
def test_an_exported_file_imports_unchanged(client, live_brand, admin_user, model, fmt, name):
    client.force_login(admin_user)
    page = client.get(f"/admin/syncs/{model}/export/").content.decode()
    # The boxes to tick say the columns as the file will.
    assert "Bp Status Id" not in page and "Source Name" not in page
    exported = export(client, model, fmt)
    assert exported.status_code == 200
    preview = upload(client, f"/admin/syncs/{model}/import/", exported.content, fmt=fmt, name=name)
    text = page_text(preview)
    assert "Confirm import" in text, text[:3000]
    kinds = set(re.findall(r'<tr class="(\w+)">', preview.content.decode()))
    assert kinds == {"skip"}, "every row is read as it is"


def test_files_with_the_older_headers_still_import(client, live_brand, admin_user):
    client.force_login(admin_user)
    for header in (
        "brand,bp_status_id,bp_status_name,ometria_status,lifecycle_stage",
        "Brand,Bp Status Id,Bp Status Name,Ometria Status,Lifecycle Stage",
    ):
        csv = f"{header}\nacme,25,Gift wrap,pending,processing\n"
        preview = upload(client, STATUS_IMPORT, csv.encode())
        assert "Confirm import" in page_text(preview)
        assert '<tr class="new">' in preview.content.decode()


@pytest.mark.parametrize(
    "content,says",
    [
        (
            b"brand;status;stage\nacme;25;placed\n",
            "This file seems to be separated by semicolons: save it as comma-separated CSV",
        ),
        (
            b"brand,status,stage\nacme,25,placed\n",
            "The file must be comma-separated CSV or XLSX.",
        ),
        (
            b"Brand;Brightpearl status id;Brightpearl status name;Ometria order status;Lifecycle "
            b"stage\nacme;25;Gift wrap;pending;placed\n",
            "separated by semicolons",
        ),
    ],
)
def test_a_file_with_the_wrong_columns_says_which_and_shows_no_traceback(
    client, live_brand, admin_user, content, says
):
    client.force_login(admin_user)
    before = snapshot_statuses()
    response = upload(client, STATUS_IMPORT, content)
    html = response.content.decode()
    text = page_text(response)
    assert "Traceback" not in html and "import_id_fields" not in html and "FieldError" not in html
    assert "The file is missing the columns " in text
    assert "“Brightpearl status id”" in text and "“Lifecycle stage” (its columns: “" in text
    assert (
        "The first row of the file must name the columns: Brand, Brightpearl status id, "
        "Brightpearl status name (may be left out), Ometria order status, Lifecycle stage."
    ) in text
    assert says in text
    assert "Confirm import" not in text
    assert snapshot_statuses() == before


def test_a_file_in_another_format_than_chosen_says_so_plainly(client, live_brand, admin_user):
    client.force_login(admin_user)
    text = page_text(upload(client, STATUS_IMPORT, b"\x00\xff\xfe not a workbook", fmt=XLSX))
    assert "could not be read in the format chosen" in text
    assert "Error" not in text.replace("errors", "")


def test_the_same_status_twice_is_refused_naming_both_rows(client, live_brand, admin_user):
    client.force_login(admin_user)
    csv = STATUS_HEADER + (
        "acme,25,Gift wrap,pending,placed\n"
        "acme,23,Dispatched,complete,completed\n"
        "acme,25.0,Gift wrap,complete,completed\n"
    )
    before = snapshot_statuses()
    text = page_text(upload(client, STATUS_IMPORT, csv.encode()))
    assert (
        "Row 1, Brightpearl status id: Status 25 of acme is in row 3 as well. "
        "Keep only the row with the mapping you want." in text
    )
    assert "Row 3, Brightpearl status id: Status 25.0 of acme is in row 1 as well." in text
    assert "Row 2" not in text
    assert "Confirm import" not in text
    assert snapshot_statuses() == before


def test_the_same_tag_twice_is_refused_naming_both_rows(client, live_brand, admin_user):
    client.force_login(admin_user)
    header = "Brand,Source,Brightpearl tag or field,Ometria attribute,Value,Value when absent\n"
    csv = header + "acme,tag,VIP,vip,yes,no\nacme,Contact tag,VIP,vip_flag,true,\n"
    text = page_text(upload(client, ATTRIBUTE_IMPORT, csv.encode()))
    assert "Row 1, Brightpearl tag or field: “VIP” of acme is in row 2 as well." in text
    assert "Row 2, Brightpearl tag or field: “VIP” of acme is in row 1 as well." in text
    assert "Confirm import" not in text


def test_attribute_problems_are_named_under_their_own_column(client, live_brand, admin_user):
    client.force_login(admin_user)
    header = "Brand,Source,Brightpearl tag or field,Ometria attribute,Value,Value when absent\n"
    csv = header + (
        "acme,tag,Platinum,tier,platinum,\nacme,custom_field,PCF_BIRTHMON,birth month,may,\n"
    )
    text = page_text(upload(client, ATTRIBUTE_IMPORT, csv.encode()))
    assert (
        "Row 1, Brightpearl tag or field: Brightpearl has no contact tag called “Platinum”" in text
    )
    assert "Row 1, Ometria attribute" not in text
    assert "Row 2, Ometria attribute: “birth month” is not an attribute name Ometria takes" in text
    assert "Row 2, Value: A field's value comes from Brightpearl" in text
    assert "Confirm import" not in text

"""The onboarding wizard: admins only, each step saved, resumable, going back duplicates
nothing, a failed step says what to fix and keeps what was typed (never a secret)."""

from __future__ import annotations

import pytest
from django.db import connection as db
from django.urls import reverse

from brands.models import AuditEvent, Brand, Membership, Team
from connectors.brightpearl.client import Brightpearl
from connectors.errors import AuthError
from connectors.models import Connection, Health
from console.models import Onboarding
from syncs.flows import REGISTRY as FLOWS
from syncs.models import FlowConfig, MappingChange, StatusMapping, SyncRun
from tests.conftest import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


@pytest.fixture
def staff(brand_a):
    return make_user("sam_staff", None, is_staff=True)


@pytest.fixture
def second(sandbox) -> dict:
    """The sandbox's second brand account: what an admin would be given for a new brand."""
    return sandbox.discovery()["accounts"]["second"]


def u(name: str, onboarding: Onboarding | None = None) -> str:
    return reverse(f"onboarding:{name}", args=[onboarding.pk] if onboarding else [])


def credentials_form(second: dict, **override) -> dict:
    bp, om = second["brightpearl"], second["ometria"]
    data = {
        "brightpearl-base_url": bp["base_url"],
        "brightpearl-setting__account": bp["account"],
        "brightpearl-credential__brightpearl__app_ref": bp["headers"]["brightpearl-app-ref"],
        "brightpearl-credential__brightpearl__account_token": bp["headers"][
            "brightpearl-account-token"
        ],
        "ometria-base_url": om["base_url"],
        "ometria-credential__ometria__api_key": om["headers"]["X-Ometria-Auth"],
        "mailchimp-unused": "1",
        "bigcommerce-unused": "1",
        "salesforce-unused": "1",
    }
    data.update(override)
    return {k: v for k, v in data.items() if v is not None}


def start(client) -> Onboarding:
    response = client.post(
        u("new"), {"name": "Second Style", "slug": "second-style", "timezone": "Europe/Paris"}
    )
    onboarding = Onboarding.objects.get(brand__slug="second-style")
    assert response["Location"] == u("connections", onboarding)
    return onboarding


# --- who may onboard --------------------------------------------------------------------------
def test_only_agency_admins_see_the_wizard(client, brand_a, marketing_user, staff):
    onboarding = Onboarding.objects.create(brand=Brand.objects.create(name="X", slug="x"))
    targets = [u("list"), u("new")] + [
        u(name, onboarding)
        for name in ("resume", "brand", "connections", "test", "mappings", "flows", "review")
    ]
    assert client.get(u("list"))["Location"].startswith("/login/")
    client.force_login(marketing_user)
    for target in targets:
        assert client.get(target).status_code == 404, target
    assert client.post(u("live", onboarding)).status_code == 404
    assert client.post(u("new"), {"name": "Y", "slug": "y", "timezone": "UTC"}).status_code == 404
    assert not Brand.objects.filter(slug="y").exists()
    client.force_login(staff)
    assert client.get(u("list")).status_code == 200
    assert "Onboarding" in client.get(reverse("home")).content.decode()


# --- the whole wizard ------------------------------------------------------------------------------
def test_an_admin_onboards_a_brand_end_to_end(
    client, staff, sandbox, second, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    onboarding = start(client)
    brand = onboarding.brand
    assert brand.active is False and brand.timezone == "Europe/Paris"

    response = client.post(u("connections", onboarding), credentials_form(second))
    assert response["Location"] == u("test", onboarding)
    assert set(Connection.objects.filter(brand=brand).values_list("system", flat=True)) == {
        "brightpearl",
        "ometria",
    }
    # On step 3 itself, the page points below, not to "step 3".
    page = client.get(u("test", onboarding)).content.decode()
    assert "Brightpearl has not been tested since it was saved: test it below." in page
    assert "test it at step 3" not in page

    page = client.post(u("test", onboarding)).content.decode()
    assert "Signed in to Brightpearl account second" in page
    assert set(Connection.objects.filter(brand=brand).values_list("status", flat=True)) == {
        Health.OK
    }

    client.post(u("mappings", onboarding), {"action": "fetch"})
    page = client.get(u("mappings", onboarding)).content.decode()
    # The second account has only standard statuses: the template knows them all.
    assert "Every status is mapped." in page
    assert StatusMapping.objects.filter(brand=brand).count() == 10

    response = client.post(
        u("flows", onboarding),
        {
            "order_lifecycle-enabled": "1",
            "order_lifecycle-minutes": "15",
            "customers-enabled": "1",
            "customers-minutes": "60",
            "refunds-minutes": "5",
            "shipments-minutes": "15",
        },
    )
    assert response["Location"] == u("review", onboarding)
    page = client.get(u("review", onboarding)).content.decode()
    assert "Go live" in page and "error-box" not in page

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(u("live", onboarding))
    assert response["Location"] == u("live", onboarding)
    brand.refresh_from_db()
    assert brand.active
    assert Membership.objects.filter(user=staff, brand=brand, team=Team.ADMIN).exists()
    configs = {c.flow: c for c in FlowConfig.objects.filter(brand=brand)}
    assert configs["order_lifecycle"].enabled and configs["order_lifecycle"].schedule_id
    assert configs["customers"].schedule_minutes == 60
    assert not configs["refunds"].enabled and not configs["shipments"].enabled
    runs = SyncRun.objects.filter(brand=brand)
    assert sorted(r.flow for r in runs) == ["customers", "order_lifecycle"]
    assert all(r.full and r.state == "queued" for r in runs)
    hooks = sandbox.state("brightpearl", "webhooks", account="second", limit=100)["items"]
    # Only names on Brightpearl's list; customers has none (it runs on its schedule).
    assert {h["subscribeTo"] for h in hooks} == {
        "order.modified.order-status",
        "sales-order.created",
    }
    page = client.get(u("live", onboarding)).content.decode()
    assert "Second Style is live" in page
    # A page about the brand names each flow without the brand again.
    assert "<td>Customers → Ometria</td>" in page
    assert "Second Style · " not in page

    # Going live again changes nothing: no second first sync, no second membership.
    client.post(u("live", onboarding))
    assert SyncRun.objects.filter(brand=brand).count() == 2
    assert Membership.objects.filter(user=staff, brand=brand).count() == 1


# --- resuming, going back ------------------------------------------------------------------------------
def test_the_wizard_can_be_left_and_resumed(client, staff, sandbox, second):
    client.force_login(staff)
    onboarding = start(client)
    client.post(u("connections", onboarding), credentials_form(second))
    client.logout()

    client.force_login(staff)
    page = client.get(u("list")).content.decode()
    assert "Second Style" in page and "Step 3: Test the connections" in page
    assert client.get(u("resume", onboarding))["Location"] == u("test", onboarding)
    # A step not reached yet sends back to the furthest one.
    assert client.get(u("review", onboarding))["Location"] == u("test", onboarding)


def test_going_back_and_saving_again_duplicates_nothing(client, staff, sandbox, second):
    client.force_login(staff)
    onboarding = start(client)
    client.post(u("connections", onboarding), credentials_form(second))
    client.post(u("test", onboarding))
    client.post(u("mappings", onboarding), {"action": "fetch"})
    mapped = StatusMapping.objects.count()
    history = MappingChange.objects.count()
    audits = AuditEvent.objects.count()
    token_before = Connection.objects.get(system="brightpearl").credentials

    # Back to step 1 and 2, saved again as they were (credentials left empty: kept).
    page = client.get(u("brand", onboarding)).content.decode()
    assert 'value="Second Style"' in page
    client.post(
        u("brand", onboarding),
        {"name": "Second Style", "slug": "second-style", "timezone": "Europe/Paris"},
    )
    again = credentials_form(
        second,
        **{
            "brightpearl-credential__brightpearl__account_token": "",
            "brightpearl-credential__brightpearl__app_ref": "",
            "ometria-credential__ometria__api_key": "",
        },
    )
    assert client.post(u("connections", onboarding), again)["Location"] == u("test", onboarding)
    client.post(u("mappings", onboarding), {"action": "fetch"})

    assert Brand.objects.filter(slug="second-style").count() == 1
    assert Onboarding.objects.count() == 1
    assert Connection.objects.filter(brand=onboarding.brand).count() == 2
    assert Connection.objects.get(system="brightpearl").credentials == token_before
    assert StatusMapping.objects.count() == mapped
    assert MappingChange.objects.count() == history
    assert AuditEvent.objects.count() == audits
    onboarding.refresh_from_db()
    assert onboarding.step == 5


def test_a_changed_connection_must_be_tested_again(client, staff, sandbox, second):
    client.force_login(staff)
    onboarding = start(client)
    client.post(u("connections", onboarding), credentials_form(second))
    client.post(u("test", onboarding))
    client.post(u("mappings", onboarding), {"action": "fetch"})
    changed = credentials_form(second, **{"ometria-credential__ometria__api_key": "new-key"})
    client.post(u("connections", onboarding), changed)
    onboarding.refresh_from_db()
    assert onboarding.step == 3
    assert Connection.objects.get(system="ometria").status == Health.UNTESTED
    page = client.post(u("test", onboarding)).content.decode()
    assert "Failing" in page and "Correct it" in page


# --- failed steps -----------------------------------------------------------------------------------------
def test_a_failed_step_names_the_field_and_keeps_what_was_typed_but_no_secret(
    client, staff, sandbox, second
):
    client.force_login(staff)
    onboarding = start(client)
    data = credentials_form(second, **{"brightpearl-setting__account": ""})
    response = client.post(u("connections", onboarding), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Account code: Enter the Brightpearl account code." in page
    assert second["brightpearl"]["base_url"] in page  # typed, kept
    token = second["brightpearl"]["headers"]["brightpearl-account-token"]
    assert token not in page  # a secret is never rendered back
    assert not Connection.objects.filter(system="brightpearl").exists()
    # Ometria was complete: it is saved, and its key is not shown either.
    assert Connection.objects.filter(system="ometria").exists()
    assert second["ometria"]["headers"]["X-Ometria-Auth"] not in page


def test_a_bad_address_keeps_every_non_secret_field_and_asks_for_the_secrets_again(client, staff):
    client.force_login(staff)
    onboarding = start(client)
    response = client.post(
        u("connections", onboarding),
        {
            "brightpearl-base_url": "not a url",
            "brightpearl-setting__account": "secondstyle",
            "brightpearl-credential__brightpearl__app_ref": "second_console",
            "brightpearl-credential__brightpearl__account_token": "tok-5ecret-123",
            "ometria-base_url": "https://api.ometria.com",
            "mailchimp-unused": "1",
            "bigcommerce-unused": "1",
            "salesforce-unused": "1",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Base URL: Enter a valid URL." in page
    assert 'value="not a url"' in page
    assert 'value="secondstyle"' in page
    # The app reference names the app, it unlocks nothing: kept, in a plain text box.
    assert (
        '<input type="text" name="brightpearl-credential__brightpearl__app_ref" '
        'value="second_console"' in page
    )
    # The token is a secret: never on the page, and the page says to type it again.
    assert "tok-5ecret-123" not in page
    assert (
        "Nothing of Brightpearl was saved. For safety the account token you typed is not "
        "shown again: type it again below, with the corrections." in page
    )
    assert "Not kept after the error: type it again." in page
    assert not Connection.objects.exists()


def test_a_first_visit_asks_nothing_to_be_typed_again(client, staff):
    client.force_login(staff)
    onboarding = start(client)
    page = client.get(u("connections", onboarding)).content.decode()
    assert "type it again" not in page
    assert 'type="password" name="brightpearl-credential__brightpearl__account_token"' in page


def test_a_name_taken_by_another_brand_is_refused_in_words(client, staff, brand_a):
    client.force_login(staff)
    response = client.post(
        u("new"), {"name": brand_a.name, "slug": brand_a.slug, "timezone": "Mars/Olympus"}
    )
    page = response.content.decode()
    assert "A brand with this name already exists" in page
    assert "Another brand already uses this short name" in page
    assert "is not a time zone name" in page
    assert Onboarding.objects.count() == 0


def test_a_refused_credential_is_said_in_plain_english_and_blocks_going_live(
    client, staff, sandbox, second
):
    client.force_login(staff)
    onboarding = start(client)
    client.post(
        u("connections", onboarding),
        credentials_form(second, **{"brightpearl-credential__brightpearl__account_token": "wrong"}),
    )
    page = client.post(u("test", onboarding)).content.decode()
    assert "did not accept the saved credentials" in page
    onboarding.refresh_from_db()
    assert onboarding.step == 3
    assert client.get(u("mappings", onboarding))["Location"] == u("test", onboarding)


def test_a_flow_that_needs_a_missing_system_is_refused(client, staff, sandbox, second):
    client.force_login(staff)
    onboarding = start(client)
    client.post(
        u("connections", onboarding),
        credentials_form(
            second,
            **{
                "ometria-base_url": None,
                "ometria-credential__ometria__api_key": None,
                "ometria-unused": "1",
            },
        ),
    )
    client.post(u("test", onboarding))
    client.post(u("mappings", onboarding), {"action": "fetch"})
    response = client.post(
        u("flows", onboarding), {"order_lifecycle-enabled": "1", "order_lifecycle-minutes": "15"}
    )
    assert response.status_code == 400
    assert "needs the Ometria connection" in response.content.decode()


def test_going_back_to_rename_the_brand_renames_it(client, staff):
    client.force_login(staff)
    onboarding = start(client)
    response = client.post(
        u("brand", onboarding),
        {"name": "Second Studio", "slug": "second-studio", "timezone": "Europe/London"},
    )
    assert response["Location"] == u("connections", onboarding)
    brand = Brand.objects.get(pk=onboarding.brand_id)
    assert (brand.name, brand.slug, brand.timezone) == (
        "Second Studio",
        "second-studio",
        "Europe/London",
    )
    assert Brand.objects.filter(slug__startswith="second").count() == 1
    assert AuditEvent.objects.filter(action="onboarding.brand_changed").count() == 1


def test_a_new_address_at_step_2_needs_the_credentials_again(client, staff, sandbox, second):
    """Saved secrets are never sent to a new address: going back to step 2 and pointing
    Brightpearl somewhere else with the boxes left empty is refused, and nothing moves."""
    client.force_login(staff)
    onboarding = start(client)
    client.post(u("connections", onboarding), credentials_form(second))
    saved = Connection.objects.get(brand=onboarding.brand, system="brightpearl")
    token = second["brightpearl"]["headers"]["brightpearl-account-token"]
    blank = {
        "brightpearl-credential__brightpearl__account_token": "",
        "brightpearl-credential__brightpearl__app_ref": "",
        "ometria-credential__ometria__api_key": "",
    }
    moved = credentials_form(
        second, **{"brightpearl-base_url": "https://collector.example", **blank}
    )
    response = client.post(u("connections", onboarding), moved)
    assert response.status_code == 400
    page = response.content.decode()
    assert (
        "Base URL: The address changed: enter the credentials again; saved ones are never "
        "sent to a new address." in page
    )
    assert token not in page
    fresh = Connection.objects.get(pk=saved.pk)
    assert fresh.base_url == saved.base_url
    assert fresh.credentials == saved.credentials

    # Typed again, the new address is taken (and must be tested again).
    typed = credentials_form(second, **{"brightpearl-base_url": "https://collector.example"})
    assert client.post(u("connections", onboarding), typed)["Location"] == u("test", onboarding)
    fresh.refresh_from_db()
    assert fresh.base_url == "https://collector.example"
    assert fresh.status == Health.UNTESTED


# --- going live: vendor calls outside transactions, resumable ----------------------------------------
def flow_choices(**enabled: int) -> dict[str, str]:
    """The flows step's form: these flows on (with their minutes), the others off."""
    data = {f"{code}-minutes": "15" for code in FLOWS}
    for code, minutes in enabled.items():
        data[f"{code}-enabled"] = "1"
        data[f"{code}-minutes"] = str(minutes)
    return data


def ready_to_go_live(client, second: dict) -> Onboarding:
    onboarding = start(client)
    client.post(u("connections", onboarding), credentials_form(second))
    client.post(u("test", onboarding))
    client.post(u("mappings", onboarding), {"action": "fetch"})
    client.post(u("flows", onboarding), flow_choices(order_lifecycle=15))
    onboarding.refresh_from_db()
    assert onboarding.step == 6
    return onboarding


@pytest.mark.django_db(transaction=True)
def test_go_live_calls_brightpearl_outside_transactions_and_resumes_after_a_refusal(
    client, staff, sandbox, second, monkeypatch
):
    """Brightpearl is called with no database transaction open (SQLite would stay locked
    while it answers); a refused registration leaves the brand off, and pressing Go live
    again finishes the job. The same holds for a live brand whose flows change."""
    in_transaction: list[bool] = []
    register, check = Brightpearl.register_webhook, Brightpearl.check

    def watched_register(self, *args, **kwargs):
        in_transaction.append(db.in_atomic_block)
        return register(self, *args, **kwargs)

    def watched_check(self):
        in_transaction.append(db.in_atomic_block)
        return check(self)

    def refuse(self, *args, **kwargs):
        in_transaction.append(db.in_atomic_block)
        raise AuthError("Brightpearl did not accept the token.", vendor="brightpearl", status=401)

    monkeypatch.setattr(Brightpearl, "check", watched_check)
    client.force_login(staff)
    onboarding = ready_to_go_live(client, second)
    brand = onboarding.brand

    monkeypatch.setattr(Brightpearl, "register_webhook", refuse)
    response = client.post(u("live", onboarding), follow=True)
    assert "Brightpearl refused the webhook registration" in response.content.decode()
    assert "Nothing went live" in response.content.decode()
    brand.refresh_from_db()
    onboarding.refresh_from_db()
    assert not brand.active and not onboarding.is_live
    assert not SyncRun.objects.filter(brand=brand).exists()

    monkeypatch.setattr(Brightpearl, "register_webhook", watched_register)
    assert client.post(u("live", onboarding))["Location"] == u("live", onboarding)
    brand.refresh_from_db()
    onboarding.refresh_from_db()
    assert brand.active and onboarding.is_live
    assert [r.flow for r in SyncRun.objects.filter(brand=brand)] == ["order_lifecycle"]
    assert "webhooks_owed" not in onboarding.data

    # Live, a flow switched on, and Brightpearl refuses: the flow is saved, the webhooks are
    # still owed, and the next press registers them even though the flows now match.
    client.post(u("flows", onboarding), flow_choices(order_lifecycle=15, shipments=5))
    monkeypatch.setattr(Brightpearl, "register_webhook", refuse)
    page = client.post(u("live", onboarding), follow=True).content.decode()
    assert "The flow changes are saved" in page
    assert FlowConfig.objects.get(brand=brand, flow="shipments").enabled
    monkeypatch.setattr(Brightpearl, "register_webhook", watched_register)
    client.post(u("live", onboarding))
    hooks = sandbox.state("brightpearl", "webhooks", account="second", limit=100)["items"]
    assert "goods-out-note.modified.shipped" in {h["subscribeTo"] for h in hooks}
    onboarding.refresh_from_db()
    assert "webhooks_owed" not in onboarding.data
    assert SyncRun.objects.filter(brand=brand).count() == 1  # the first sync, once

    assert in_transaction and not any(in_transaction), in_transaction


def test_a_label_in_a_sentence_keeps_its_abbreviations():
    from connectors.forms import in_sentence

    assert in_sentence("API key") == "API key"
    assert in_sentence("Account token") == "account token"
    assert in_sentence("Audience (list) id") == "audience (list) id"


def test_a_refused_ometria_form_names_the_api_key_with_its_capitals(client, staff):
    client.force_login(staff)
    onboarding = start(client)
    page = client.post(
        u("connections", onboarding),
        {
            "brightpearl-base_url": "https://euw1.brightpearlconnect.com",
            "ometria-base_url": "not a url",
            "ometria-credential__ometria__api_key": "om-5ecret",
            "mailchimp-unused": "1",
            "bigcommerce-unused": "1",
            "salesforce-unused": "1",
        },
    ).content.decode()
    assert "the API key you typed is not shown again" in page
    assert "om-5ecret" not in page

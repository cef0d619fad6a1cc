"""manage.py onboard_brand FILE: the wizard's steps from a file; the second run changes nothing."""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict
from django_q.models import Schedule

from brands.models import AuditEvent, Brand, Membership
from connectors.models import Connection
from console.models import Onboarding
from syncs.models import AttributeMapping, FlowConfig, MappingChange, StatusMapping, SyncRun

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def spec_for(second: dict, **override) -> dict:
    bp, om = second["brightpearl"], second["ometria"]
    spec = {
        "name": "Second Style",
        "slug": "second-style",
        "timezone": "Europe/Paris",
        "connections": {
            "brightpearl": {
                "base_url": bp["base_url"],
                "credentials": {
                    "app_ref": bp["headers"]["brightpearl-app-ref"],
                    "account_token": {"env": "SECOND_BP_TOKEN"},
                },
                "settings": {"account": bp["account"]},
            },
            "ometria": {
                "base_url": om["base_url"],
                "credentials": {"api_key": om["headers"]["X-Ometria-Auth"]},
            },
        },
        "flows": {
            "order_lifecycle": {"schedule_minutes": 15},
            "customers": True,
            "refunds": False,
        },
        "members": [
            {"username": "mia", "email": "mia@second.example", "teams": ["marketing"]},
            {"username": "oscar", "teams": ["operations", "finance"]},
        ],
    }
    spec.update(override)
    return spec


@pytest.fixture
def second(sandbox, monkeypatch) -> dict:
    accounts = sandbox.discovery()["accounts"]["second"]
    monkeypatch.setenv(
        "SECOND_BP_TOKEN", accounts["brightpearl"]["headers"]["brightpearl-account-token"]
    )
    return accounts


def run(tmp_path, spec: dict, *args: str) -> str:
    path = tmp_path / "brand.json"
    path.write_text(json.dumps(spec))
    out = StringIO()
    call_command("onboard_brand", str(path), *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    """Every row onboarding touches, field by field (timestamps included)."""
    models = [
        Brand,
        Onboarding,
        Connection,
        StatusMapping,
        AttributeMapping,
        FlowConfig,
        Schedule,
        SyncRun,
        Membership,
        MappingChange,
        AuditEvent,
        get_user_model(),
    ]
    out = {}
    for model in models:
        rows = []
        for obj in model.objects.order_by("pk"):
            row = model_to_dict(obj)
            for f in model._meta.fields:
                row[f.name] = getattr(obj, f.attname)
            rows.append(row)
        out[model.__name__] = rows
    return out


def test_onboarding_a_brand_from_a_file(
    tmp_path, second, sandbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        out = run(tmp_path, spec_for(second))
    assert "brand second-style" in out and "second-style: onboarded." in out
    brand = Brand.objects.get(slug="second-style")
    assert brand.active and brand.timezone == "Europe/Paris"
    bp = Connection.objects.get(brand=brand, system="brightpearl")
    assert bp.status == "ok" and bp.settings == {"account": "second"}
    assert (
        bp.credentials["account_token"]
        == second["brightpearl"]["headers"]["brightpearl-account-token"]
    )
    assert StatusMapping.objects.filter(brand=brand).count() == 10
    configs = {c.flow: c for c in FlowConfig.objects.filter(brand=brand)}
    assert configs["order_lifecycle"].enabled and configs["customers"].enabled
    assert not configs["refunds"].enabled and not configs["shipments"].enabled
    assert sorted(SyncRun.objects.filter(brand=brand).values_list("flow", flat=True)) == [
        "customers",
        "order_lifecycle",
    ]
    teams = set(Membership.objects.filter(brand=brand).values_list("user__username", "team"))
    assert teams == {("mia", "marketing"), ("oscar", "operations"), ("oscar", "finance")}
    assert not get_user_model().objects.get(username="mia").has_usable_password()
    # The secret from the environment is nowhere but the connection.
    token = second["brightpearl"]["headers"]["brightpearl-account-token"]
    assert token not in out
    assert not AuditEvent.objects.filter(summary__contains=token).exists()
    assert token not in json.dumps(Onboarding.objects.get().data)


def test_running_it_twice_changes_nothing_the_second_time(tmp_path, second, sandbox):
    run(tmp_path, spec_for(second))
    before = snapshot()
    requests_before = sandbox.stats()["brightpearl"]["by_method"].get("POST", 0)
    out = run(tmp_path, spec_for(second))
    assert snapshot() == before
    assert "second-style: nothing to change." in out
    assert re.search(r"connection brightpearl +unchanged", out)
    assert re.search(r"test brightpearl +skipped \(working before, unchanged\)", out)
    assert re.search(r"first sync +skipped", out)
    assert re.search(r"member mia \(marketing\) +found", out)
    # No webhook registered twice at Brightpearl.
    assert sandbox.stats()["brightpearl"]["by_method"].get("POST", 0) == requests_before


def test_a_changed_file_updates_only_what_changed(tmp_path, second, sandbox):
    run(tmp_path, spec_for(second))
    changed = spec_for(second, timezone="Europe/London")
    changed["flows"]["refunds"] = {"schedule_minutes": 10}
    out = run(tmp_path, changed)
    assert re.search(r"brand second-style +updated", out)
    assert "scheduled: refunds" in out
    assert re.search(r"first sync +skipped", out)
    assert Brand.objects.get(slug="second-style").timezone == "Europe/London"
    assert FlowConfig.objects.get(flow="refunds").schedule_minutes == 10


@pytest.mark.parametrize(
    "override,message",
    [
        ({"slug": ""}, "the file needs “slug”"),
        ({"timezone": "Nowhere/Land"}, "is not a time zone name"),
        ({"connections": {}}, "connections needs “brightpearl”"),
        ({"connections": {"shopify": {}}}, "“shopify”, which is not a system"),
        ({"flows": {"order_lifecycle": "yes"}}, "flows.order_lifecycle must be true, false"),
        ({"members": [{"username": "x", "teams": ["sales"]}]}, "“sales” is not a team"),
    ],
)
def test_a_bad_file_says_what_to_fix(tmp_path, second, override, message):
    with pytest.raises(CommandError, match=message):
        run(tmp_path, spec_for(second, **override))


def test_a_missing_environment_variable_is_named(tmp_path, second, monkeypatch):
    monkeypatch.delenv("SECOND_BP_TOKEN")
    with pytest.raises(CommandError, match="SECOND_BP_TOKEN is not set"):
        run(tmp_path, spec_for(second))
    assert not Connection.objects.filter(system="brightpearl").exists()


def test_a_refused_connection_stops_before_going_live(tmp_path, second, monkeypatch):
    monkeypatch.setenv("SECOND_BP_TOKEN", "wrong")
    with pytest.raises(CommandError, match=r"Brightpearl is failing: .* Nothing went live"):
        run(tmp_path, spec_for(second))
    brand = Brand.objects.get(slug="second-style")
    assert not brand.active and not SyncRun.objects.exists()


def test_not_json(tmp_path):
    path = tmp_path / "brand.json"
    path.write_text("{name: 1}")
    with pytest.raises(CommandError, match=r"not valid JSON \(line 1"):
        call_command("onboard_brand", str(path))


def test_a_new_address_in_the_file_needs_its_credentials(tmp_path, second, sandbox):
    """The file run again with Brightpearl pointed elsewhere and no credentials: refused
    (saved secrets never follow a new address), and the connection is left as it was."""
    run(tmp_path, spec_for(second))
    saved = Connection.objects.get(system="brightpearl")
    spec = spec_for(second)
    spec["connections"]["brightpearl"]["base_url"] = "https://collector.example"
    del spec["connections"]["brightpearl"]["credentials"]
    with pytest.raises(CommandError, match="The address changed: enter the credentials again"):
        run(tmp_path, spec)
    fresh = Connection.objects.get(pk=saved.pk)
    assert (fresh.base_url, fresh.credentials) == (saved.base_url, saved.credentials)

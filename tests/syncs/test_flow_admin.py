"""FlowConfig in the admin: every switch, schedule and look-back change is audited, through
flow_configure; the cursor cannot be moved by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django_q.models import Schedule

from brands.models import AuditEvent
from syncs.models import FlowConfig

pytestmark = pytest.mark.django_db

CURSOR = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def config(brand_a) -> FlowConfig:
    return FlowConfig.objects.create(
        brand=brand_a, flow="refunds", enabled=False, schedule_minutes=5, cursor=CURSOR
    )


def edit(client, config: FlowConfig, **values):
    data = {
        "enabled": "on" if values.get("enabled", config.enabled) else "",
        "schedule_minutes": values.get("schedule_minutes", config.schedule_minutes),
        "lookback_minutes": values.get("lookback_minutes", config.lookback_minutes),
        # Posted anyway: a read-only field's value is ignored.
        "cursor_0": "2030-01-01",
        "cursor_1": "00:00:00",
    }
    return client.post(reverse("admin:syncs_flowconfig_change", args=[config.pk]), data)


def test_switching_on_in_the_admin_is_audited_and_scheduled(client, admin_user, config):
    client.force_login(admin_user)
    response = edit(client, config, enabled=True, schedule_minutes=10)
    assert response.status_code == 302, response.content.decode()[:2000]
    config.refresh_from_db()
    assert config.enabled and config.schedule_minutes == 10
    assert Schedule.objects.get(pk=config.schedule_id).minutes == 10
    event = AuditEvent.objects.get(action="flow.configured")
    assert event.actor == admin_user and event.summary == "On, every 10 min"

    # Off again: audited, and the schedule goes.
    edit(client, config, enabled=False)
    config.refresh_from_db()
    assert not config.enabled and config.schedule_id is None
    assert AuditEvent.objects.filter(action="flow.configured").count() == 2


def test_the_cursor_is_read_only(client, admin_user, config):
    client.force_login(admin_user)
    page = client.get(reverse("admin:syncs_flowconfig_change", args=[config.pk])).content
    assert b'name="cursor_0"' not in page
    edit(client, config, schedule_minutes=7)
    config.refresh_from_db()
    assert config.cursor == CURSOR and config.schedule_minutes == 7


def test_a_lookback_change_is_audited_old_to_new(client, admin_user, config):
    client.force_login(admin_user)
    assert edit(client, config, lookback_minutes=60).status_code == 302
    config.refresh_from_db()
    assert config.lookback_minutes == 60
    event = AuditEvent.objects.get(action="flow.lookback_changed")
    assert event.summary == "Look-back 15 → 60 min"
    assert event.detail == {"before": 15, "after": 60} and event.actor == admin_user
    # Saved again unchanged: no new line anywhere.
    edit(client, config)
    assert AuditEvent.objects.filter(action__startswith="flow.").count() == 1


def test_adding_a_flow_in_the_admin_goes_through_flow_configure(client, admin_user, brand_a):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:syncs_flowconfig_add"),
        {
            "brand": brand_a.pk,
            "flow": "customers",
            "enabled": "on",
            "schedule_minutes": 30,
            "lookback_minutes": 20,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    config = FlowConfig.objects.get(brand=brand_a, flow="customers")
    assert config.enabled and config.schedule_id and config.lookback_minutes == 20
    assert AuditEvent.objects.filter(action="flow.configured", brand=brand_a).count() == 1
    assert AuditEvent.objects.filter(action="flow.lookback_changed", brand=brand_a).count() == 1

    # A flow the registry does not have is refused in words, not a crash.
    response = client.post(
        reverse("admin:syncs_flowconfig_add"),
        {"brand": brand_a.pk, "flow": "nope", "schedule_minutes": 5, "lookback_minutes": 15},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()

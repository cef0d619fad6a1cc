"""A live brand's settings page (issue 17), separate from first-time onboarding; step 1 of
the wizard on a live brand is no longer a form."""

from __future__ import annotations

import pytest
from django.urls import reverse

from brands.models import Brand
from tests.console.test_onboarding_permissions import brand_admin, live, staff_not_admin

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]
__all__ = ["brand_admin", "live", "staff_not_admin"]  # fixtures, used by name


def test_the_settings_page_shows_systems_connections_flows_and_people(client, live, brand_admin):
    client.force_login(brand_admin)
    page = client.get(reverse("onboarding:settings", args=[live.pk])).content.decode()
    assert "Live Label's settings" in page
    assert "Live Label uses Brightpearl, Ometria." in page
    for heading in ("Systems", "Connections", "Flows", "People"):
        assert f">{heading}</h2>" in page
    assert reverse("onboarding:connections", args=[live.pk]) in page


def test_a_brand_admin_adds_a_system_there(client, live, brand_admin):
    client.force_login(brand_admin)
    url = reverse("onboarding:settings", args=[live.pk])
    response = client.post(url, {"systems": ["ometria", "bigcommerce"]})
    assert response["Location"] == url
    live.refresh_from_db()
    assert live.data["chosen"] == ["brightpearl", "ometria", "bigcommerce"]
    page = client.get(url).content.decode()
    assert "Enter the BigCommerce connection" in page


def test_step_1_of_a_live_brand_is_facts_not_a_form_and_refuses_a_post(client, live, brand_admin):
    client.force_login(brand_admin)
    url = reverse("onboarding:brand", args=[live.pk])
    page = client.get(url).content.decode()
    assert "this step is no longer a form" in page
    assert 'name="name"' not in page and '<form method="post" novalidate>' not in page
    response = client.post(url, {"name": "Renamed", "slug": "renamed", "timezone": "UTC"})
    assert response.status_code == 409
    assert Brand.objects.get(pk=live.brand_id).name == "Live Label"


def test_a_draft_has_no_settings_page_yet(client, live, brand_admin):
    live.live_at = None
    live.save()
    client.force_login(brand_admin)
    response = client.get(reverse("onboarding:settings", args=[live.pk]))
    assert response["Location"] == reverse("onboarding:resume", args=[live.pk])


def test_a_brand_admin_sets_the_lag_alert_and_a_bad_value_is_refused_in_words(
    client, live, brand_admin, staff_not_admin
):
    from brands.models import AuditEvent

    url = reverse("onboarding:settings", args=[live.pk])
    client.force_login(brand_admin)
    refused = client.post(url, {"action": "lag_alert", "lag_alert_minutes": "0"})
    assert refused.status_code == 400 and "Enter at least 1 minute." in refused.content.decode()
    saved = client.post(url, {"action": "lag_alert", "lag_alert_minutes": "45"})
    assert saved["Location"] == url
    assert Brand.objects.get(pk=live.brand_id).lag_alert_minutes == 45
    assert AuditEvent.objects.filter(action="brand.lag_alert_changed").get().summary == (
        "Lag alert was 30 min; now 45 min."
    )
    # Saving the systems form still works beside it, and leaves the lag alert alone.
    client.post(url, {"systems": ["ometria"]})
    assert Brand.objects.get(pk=live.brand_id).lag_alert_minutes == 45
    # Someone who is not the brand's admin cannot change it.
    client.force_login(staff_not_admin)
    assert client.post(url, {"action": "lag_alert", "lag_alert_minutes": "5"}).status_code == 403
    assert Brand.objects.get(pk=live.brand_id).lag_alert_minutes == 45

"""Cancelling a draft onboarding (issue 17): it removes the draft brand and its
connections, is audited (the earlier trail kept), and is never possible for a live brand."""

from __future__ import annotations

import pytest
from django.utils import timezone

from brands.models import AuditEvent, Brand
from connectors.models import Connection
from console.models import Onboarding
from console.onboarding import OnboardingError
from console.onboarding_live import onboarding_cancel
from tests.console.test_onboarding import credentials_form, second, staff, start, u

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]
__all__ = ["second", "staff"]  # fixtures, used by name


def test_a_draft_is_cancelled_with_its_brand_and_connections(client, staff, sandbox, second):
    client.force_login(staff)
    onboarding = start(client)
    client.post(u("connections", onboarding), credentials_form(second))
    assert Connection.objects.filter(brand=onboarding.brand).count() == 2
    page = client.get(u("cancel", onboarding)).content.decode()
    assert "Cancel the onboarding of Second Style?" in page
    assert "the Brightpearl connection" in page

    response = client.post(u("cancel", onboarding))
    assert response["Location"] == u("list")
    assert not Brand.objects.filter(slug="second-style").exists()
    assert not Onboarding.objects.exists() and not Connection.objects.exists()
    event = AuditEvent.objects.get(action="onboarding.cancelled")
    assert event.actor == staff and event.detail["connections"] == ["brightpearl", "ometria"]
    # The draft's earlier trail outlives it.
    assert AuditEvent.objects.filter(action="onboarding.started").exists()


def test_a_live_brand_cannot_be_cancelled(client, staff):
    brand = Brand.objects.create(name="Live", slug="live", active=True)
    onboarding = Onboarding.objects.create(brand=brand, step=7, live_at=timezone.now())
    with pytest.raises(OnboardingError, match="cannot be cancelled"):
        onboarding_cancel(onboarding=onboarding, actor=staff)
    client.force_login(staff)
    assert client.post(u("cancel", onboarding))["Location"] == u("settings", onboarding)
    assert Brand.objects.filter(pk=brand.pk).exists()
    assert not AuditEvent.objects.filter(action="onboarding.cancelled").exists()


def test_only_agency_admins_may_cancel(client, staff, marketing_user):
    onboarding = Onboarding.objects.create(
        brand=Brand.objects.create(name="X", slug="x", active=False)
    )
    client.force_login(marketing_user)
    assert client.post(u("cancel", onboarding)).status_code == 404
    assert Brand.objects.filter(slug="x").exists()

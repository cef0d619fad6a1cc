"""Onboarding's Salesforce step (issue 15): it asks for the org's My Domain address and says
why, refuses the shared login page for client credentials, and asks only for the credentials
of the kind of sign-in chosen."""

from __future__ import annotations

import pytest

from brands.models import Brand
from console.models import Onboarding
from console.onboarding_forms import connection_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def onboarding() -> Onboarding:
    brand = Brand.objects.create(name="Sales Label", slug="sales-label")
    return Onboarding.objects.create(brand=brand, step=2, data={"chosen": ["salesforce"]})


def form(onboarding, **fields):
    data = {f"salesforce-{k}": v for k, v in fields.items()}
    return connection_form(onboarding, "salesforce", data or None)


def test_the_address_field_asks_for_my_domain_and_says_why(onboarding):
    blank = form(onboarding)
    help_text = str(blank.fields["base_url"].help_text)
    assert "My Domain" in help_text and "login.salesforce.com" in help_text
    assert "shared login page" in help_text
    kinds = dict(blank.fields["setting__auth"].choices)
    assert set(kinds) == {"client_credentials", "jwt_bearer"}


def test_the_shared_login_page_is_refused_for_client_credentials(onboarding):
    bound = form(
        onboarding,
        base_url="https://login.salesforce.com",
        setting__auth="client_credentials",
        credential__salesforce__client_id="3MVG9.key",
        credential__salesforce__client_secret="S3CRET",
    )
    assert not bound.is_valid()
    assert "shared login page" in " ".join(bound.errors["base_url"])


def test_client_credentials_on_my_domain_are_saved_without_jwt_fields(onboarding):
    bound = form(
        onboarding,
        base_url="https://acme.my.salesforce.com",
        setting__auth="client_credentials",
        credential__salesforce__client_id="3MVG9.key",
        credential__salesforce__client_secret="S3CRET",
    )
    assert bound.is_valid(), bound.errors
    conn = bound.save()
    assert conn.settings["auth"] == "client_credentials"
    assert conn.credentials == {"client_id": "3MVG9.key", "client_secret": "S3CRET"}


def test_jwt_bearer_asks_for_the_username_and_private_key(onboarding):
    bound = form(
        onboarding,
        base_url="https://acme.my.salesforce.com",
        setting__auth="jwt_bearer",
        credential__salesforce__client_id="3MVG9.key",
    )
    assert not bound.is_valid()
    assert "credential__salesforce__username" in bound.errors
    assert "credential__salesforce__private_key" in bound.errors
    assert "credential__salesforce__client_secret" not in bound.errors

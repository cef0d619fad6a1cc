"""The demo brand's Mailchimp audience: after the demo's go-live and first syncs, purchases
are in Mailchimp as e-commerce orders, the retail contacts are members, and the seed's
unsubscribes are written back to Brightpearl."""

from __future__ import annotations

import pytest

from console.demo import demo_go_live, demo_setup
from syncs.flows.mailchimp.consent import FIELDS
from tests.console.test_demo import run_queued

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_cache"),
    pytest.mark.slow,
]


@pytest.fixture
def quiet_sandbox(sandbox, settings):
    # As tests/console/test_demo.py: webhooks go nowhere, a Brightpearl minute is short.
    settings.CONSOLE_PUBLIC_URL = "http://127.0.0.1:9"
    sandbox.configure(time_scale=300)
    return sandbox


def items(sandbox, vendor: str, collection: str, **params) -> list[dict]:
    return sandbox.state(vendor, collection, limit=100_000, **params)["items"]


@pytest.mark.longest
def test_the_demo_audience_has_purchases_members_and_unsubscribes(quiet_sandbox):
    brand = demo_setup()
    demo_go_live(brand, quiet_sandbox.discovery())
    run_queued()
    orders = items(quiet_sandbox, "mailchimp", "ecommerce_orders")
    assert orders, "purchases reached Mailchimp"
    assert any(o.get("cancelled_at_foreign") for o in orders), "a cancelled order shows"
    left = [
        m["email_address"].lower()
        for m in items(quiet_sandbox, "mailchimp", "members")
        if m["status"] in ("unsubscribed", "cleaned")
    ]
    assert left
    written = 0
    for contact in items(quiet_sandbox, "brightpearl", "contacts"):
        found = items(
            quiet_sandbox, "brightpearl", "contact_custom_fields", id=contact["contactId"]
        )
        if found and found[0].get(FIELDS["consent_status_field"]) in ("unsubscribed", "cleaned"):
            written += 1
    assert written > 0, "the seed's unsubscribes are in Brightpearl"

"""Flows that read from BigCommerce and Mailchimp by webhook, for tests only: the real ones
are coming in their own packages, and the webhook inbox must route to them already."""

from __future__ import annotations

import pytest

from syncs.flows import REGISTRY
from syncs.flows.base import Flow


class StorefrontOrdersForTests(Flow):
    code = "test_storefront_orders"
    label = "Storefront orders (test only)"
    source = "bigcommerce"
    target = "brightpearl"
    webhook_events = ("store/order/*",)


class ConsentForTests(Flow):
    code = "test_consent"
    label = "Consent (test only)"
    source = "mailchimp"
    target = "brightpearl"
    webhook_events = ("unsubscribe", "cleaned")


@pytest.fixture
def vendor_flows(monkeypatch) -> dict[str, type[Flow]]:
    """The two test flows in the flow registry for this test."""
    flows = {cls.code: cls for cls in (StorefrontOrdersForTests, ConsentForTests)}
    for code, cls in flows.items():
        monkeypatch.setitem(REGISTRY, code, cls)
    return flows

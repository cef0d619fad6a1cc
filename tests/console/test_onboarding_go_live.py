"""Going live: the vendor calls are made outside database transactions, and a refused
registration can be pressed again (moved from test_onboarding.py, which had grown past
500 lines)."""

from __future__ import annotations

import pytest
from django.db import connection as db

from connectors.brightpearl.client import Brightpearl
from connectors.errors import AuthError
from syncs.models import FlowConfig, SyncRun
from tests.console.test_onboarding import flow_choices, ready_to_go_live, second, staff, u

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]
__all__ = ["second", "staff"]  # fixtures, used by name


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

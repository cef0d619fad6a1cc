"""Consent → Brightpearl on the sandbox: an unsubscribe or cleaned webhook (form-encoded) or
the sweep writes the consent to every Brightpearl contact with the email, audited, only when
it changed; and no Brightpearl-driven write ever moves a member back to subscribed (a
property over random sequences of Brightpearl edits, unsubscribes, lost webhooks and sweeps).
"""

from __future__ import annotations

from unittest import mock
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brands.models import AuditEvent
from connectors.mailchimp.common import subscriber_hash
from connectors.models import Connection
from connectors.registry import connector_for
from exceptions.models import Ticket
from syncs.flows.mailchimp.consent import FIELDS
from syncs.models import FlowConfig, RecordLink, RecordState, SyncRun, WebhookEvent
from syncs.services import flow_run_now
from syncs.webhooks import webhooks_drain
from tests.fixtures import loopback
from tests.syncs.test_mailchimp_contacts import by_email, fields_mapped, members
from tests.syncs.test_mailchimp_purchases import groups_mapped, items

pytestmark = pytest.mark.django_db(transaction=True)

CONSENT, CONTACTS = "mailchimp_consent", "mailchimp_contacts"
STATUS_FIELD = FIELDS["consent_status_field"]
LEFT = ("unsubscribed", "cleaned")


def custom_fields(sandbox, contact_id) -> dict:
    found = items(sandbox, "brightpearl", "contact_custom_fields", id=contact_id)
    return found[0] if found else {}


def callback(client, brand, kind: str, email: str, reason: str) -> None:
    """Mailchimp's form-encoded callback, as its webhook sends it, then the inbox drained."""
    conn = Connection.objects.get(brand=brand, system="mailchimp")
    form = [
        ("type", kind),
        ("fired_at", "2026-12-04 10:00:00"),
        ("data[reason]", reason),
        ("data[list_id]", conn.settings["list_id"]),
        ("data[email]", email),
    ]
    with mock.patch("syncs.webhooks.async_task"):
        answer = client.post(
            reverse("webhook", args=["mailchimp", conn.webhook_secret]),
            data=urlencode(form),
            content_type="application/x-www-form-urlencoded",
        )
    assert answer.status_code == 200, answer.content
    webhooks_drain(connection_id=conn.pk)


def control(sandbox, what: str, email: str, **body) -> None:
    loopback.post(
        f"{sandbox.url}/_sandbox/mailchimp/{what}", json={"email": email, **body}
    ).raise_for_status()


def subscribed_in_brightpearl(sandbox, brand, count: int) -> list[tuple[str, list[dict]]]:
    """Retail emails whose member is subscribed, duplicates first (several contacts)."""
    got = members(sandbox)
    groups = [
        (e, cs)
        for e, cs in by_email(sandbox).items()
        if e in got
        and got[e]["status"] == "subscribed"
        and all((c.get("customerGroup") or {}).get("name") == "Retail" for c in cs)
    ]
    groups.sort(key=lambda g: (-len(g[1]), g[0]))
    return groups[:count]


def test_an_unsubscribe_webhook_writes_every_contact_with_the_email(client, sandbox, live_brand):
    email, contacts = subscribed_in_brightpearl(sandbox, live_brand, 1)[0]
    control(sandbox, "unsubscribe", email, reason="manual")
    callback(client, live_brand, "unsubscribe", email, "manual")
    run = SyncRun.objects.get(brand=live_brand, flow=CONSENT)
    assert run.trigger == "webhook" and run.written == 1, run.log
    for contact in contacts:
        fields = custom_fields(sandbox, contact["contactId"])
        assert fields[STATUS_FIELD] == "unsubscribed"
        assert fields[FIELDS["consent_reason_field"]] == "manual"
        assert fields[FIELDS["consent_changed_field"]] == members(sandbox)[email]["last_changed"]
    event = AuditEvent.objects.get(brand=live_brand, action="consent.written")
    assert event.target == email
    assert sorted(event.detail["contacts"]) == sorted(str(c["contactId"]) for c in contacts)


def test_a_cleaned_webhook_writes_cleaned(client, sandbox, live_brand):
    email, contacts = subscribed_in_brightpearl(sandbox, live_brand, 1)[0]
    control(sandbox, "clean", email, reason="hard")
    callback(client, live_brand, "cleaned", email, "hard")
    assert custom_fields(sandbox, contacts[0]["contactId"])[STATUS_FIELD] == "cleaned"


def test_a_member_who_comes_back_is_written_back_as_subscribed(client, sandbox, live_brand):
    """A member who unsubscribed and re-subscribed (a Mailchimp form: the subscribe
    webhook) is "subscribed" again in Brightpearl, so an export from there includes them."""
    email, contacts = subscribed_in_brightpearl(sandbox, live_brand, 1)[0]
    control(sandbox, "unsubscribe", email, reason="manual")
    callback(client, live_brand, "unsubscribe", email, "manual")
    assert custom_fields(sandbox, contacts[0]["contactId"])[STATUS_FIELD] == "unsubscribed"
    with connector_for(Connection.objects.get(brand=live_brand, system="mailchimp")) as mc:
        # The member's own choice, made in Mailchimp: never a Brightpearl-driven write.
        mc.http.json(
            "PATCH",
            f"{mc.list_path}/members/{subscriber_hash(email)}",
            json_body={"status": "subscribed"},
        )
    callback(client, live_brand, "subscribe", email, "")
    latest = SyncRun.objects.filter(brand=live_brand, flow=CONSENT).latest("pk")
    assert latest.trigger == "webhook" and latest.written == 1, latest.log
    for contact in contacts:
        fields = custom_fields(sandbox, contact["contactId"])
        assert fields[STATUS_FIELD] == "subscribed"
        assert fields[FIELDS["consent_reason_field"]] == ""
    # A subscribe webhook for someone who never left has nothing to tell Brightpearl.
    other, others = subscribed_in_brightpearl(sandbox, live_brand, 2)[1]
    callback(client, live_brand, "subscribe", other, "")
    assert STATUS_FIELD not in custom_fields(sandbox, others[0]["contactId"])


def test_the_sweep_catches_a_lost_webhook_and_writes_only_real_changes(sandbox, live_brand):
    first = flow_run_now(brand=live_brand, flow=CONSENT)
    seeded = {m["email_address"].lower() for m in items(sandbox, "mailchimp", "members")
              if m["status"] in LEFT}  # fmt: skip
    assert first.written == len(seeded & set(by_email(sandbox))), first.log
    email, contacts = subscribed_in_brightpearl(sandbox, live_brand, 1)[0]
    control(sandbox, "unsubscribe", email)  # no webhook reaches the console
    patches = sandbox.stats()["brightpearl"]["by_method"].get("PATCH", 0)
    sweep = flow_run_now(brand=live_brand, flow=CONSENT)
    assert sweep.written == 1, sweep.log
    assert custom_fields(sandbox, contacts[0]["contactId"])[STATUS_FIELD] == "unsubscribed"
    assert sandbox.stats()["brightpearl"]["by_method"]["PATCH"] == patches + len(contacts)
    # A member the console touched since (a merge field) has no news: nothing is written.
    groups_mapped(live_brand)
    fields_mapped(live_brand)
    flow_run_now(brand=live_brand, flow=CONTACTS, full=True)
    again = flow_run_now(brand=live_brand, flow=CONSENT)
    assert again.written == 0, again.log
    assert sandbox.stats()["brightpearl"]["by_method"]["PATCH"] == patches + len(contacts)


# --- the invariant, over random sequences ----------------------------------------------------
STEP = st.one_of(
    st.tuples(st.just("bp_edit"), st.integers(0, 3), st.booleans()),
    st.tuples(st.just("unsubscribe"), st.integers(0, 3), st.booleans()),
    st.tuples(st.just("clean"), st.integers(0, 3), st.booleans()),
    st.tuples(st.just("contacts"), st.integers(0, 3), st.booleans()),
    st.tuples(st.just("sweep"), st.integers(0, 3), st.booleans()),
)


def _fresh(sandbox, brand) -> None:
    sandbox.reset("demo")
    for model in (RecordState, SyncRun, Ticket, RecordLink, WebhookEvent):
        model.objects.filter(brand=brand).delete()
    FlowConfig.objects.filter(brand=brand).update(cursor=None)


@pytest.mark.longest
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=1, max_size=7))
def test_no_brightpearl_write_ever_resubscribes_anyone(client, sandbox, live_brand, steps):
    """Brightpearl says "subscribe" (an opt-in field) for every contact and keeps editing them;
    Mailchimp members unsubscribe or are cleaned, their webhooks delivered or lost; the
    contacts flow and the consent sweep run in any order. After every step, no member who
    left is subscribed again, and after a final sweep Brightpearl knows each one's consent."""
    _fresh(sandbox, live_brand)
    groups_mapped(live_brand)
    fields_mapped(live_brand)
    bp = Connection.objects.get(brand=live_brand, system="brightpearl")
    bp.settings = {**bp.settings, "optin_field": "PCF_OPTIN"}
    bp.save()
    pool = subscribed_in_brightpearl(sandbox, live_brand, 4)
    assert len(pool) == 4
    emails = [e for e, _ in pool]
    for _, contacts in pool:
        for contact in contacts:
            loopback.post(
                f"{sandbox.url}/_sandbox/brightpearl/contacts/{contact['contactId']}",
                json={"customFields": {"PCF_OPTIN": "yes"}},
            ).raise_for_status()
    left: dict[str, str] = {}
    for n, (what, i, flag) in enumerate(steps):
        email, contacts = pool[i]
        if what == "bp_edit":
            loopback.post(
                f"{sandbox.url}/_sandbox/brightpearl/contacts/{contacts[0]['contactId']}",
                json={"firstName": f"Edit{n}", "customFields": {"PCF_OPTIN": "yes"}},
            ).raise_for_status()
        elif what in ("unsubscribe", "clean"):
            control(sandbox, what, email)
            left[email] = "unsubscribed" if what == "unsubscribe" else "cleaned"
            if flag:  # the webhook arrives; otherwise it is lost
                kind = "unsubscribe" if what == "unsubscribe" else "cleaned"
                callback(client, live_brand, kind, email, "manual")
        elif what == "contacts":
            scope = None if flag else emails
            flow_run_now(brand=live_brand, flow=CONTACTS, full=flag, scope=scope)
        else:
            flow_run_now(brand=live_brand, flow=CONSENT, full=flag)
        now = members(sandbox)
        for gone, status in left.items():
            assert now[gone]["status"] == status, f"step {n} {what}: {gone} went back"
        # Mailchimp's own changes (a member unsubscribing again) are its business; an API
        # write moving a member out of unsubscribed or cleaned is the console's, and forbidden.
        back = [
            c
            for c in map(
                lambda c: c.get("data") or c, items(sandbox, "mailchimp", "status_changes")
            )
            if c.get("from") in LEFT and c.get("to") not in LEFT and c.get("source") == "api"
        ]
        assert not back, f"step {n} {what}: a member who left was moved: {back}"
    flow_run_now(brand=live_brand, flow=CONSENT)
    for gone, status in left.items():
        for contact in dict(pool)[gone]:
            assert custom_fields(sandbox, contact["contactId"]).get(STATUS_FIELD) == status

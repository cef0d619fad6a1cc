"""Contacts → Mailchimp on the sandbox's demo seed: one member per email, 500 a call, only the
mapped fields, wholesale kept out, duplicates merged by the rule with one ticket each, and
Mailchimp's consent never changed."""

from __future__ import annotations

from collections import defaultdict

import pytest

from connectors.mailchimp.common import subscriber_hash
from exceptions.models import OPEN_STATUSES, Ticket
from syncs.flows.mailchimp.contacts import TOTAL_SPENT
from syncs.flows.mailchimp.maps import (
    AS_MERGE_FIELD,
    AS_TAG,
    BP_CONTACT_ATTRIBUTE,
    DEFAULT_FIELDS,
)
from syncs.models import RecordState, RecordStatus, RunState, ValueMap
from syncs.services import flow_run_now
from tests.fixtures import loopback
from tests.syncs.test_mailchimp_purchases import groups_mapped, items

pytestmark = pytest.mark.django_db(transaction=True)

FLOW = "mailchimp_contacts"


def fields_mapped(brand, extra=()) -> None:
    for source, target, kind in (*DEFAULT_FIELDS, *extra):
        ValueMap.objects.update_or_create(
            brand=brand,
            kind=BP_CONTACT_ATTRIBUTE.code,
            source_value=source,
            defaults={"target_value": target, "extra": {"as": kind}},
        )


def bp_contacts(sandbox) -> list[dict]:
    return items(sandbox, "brightpearl", "contacts")


def email_of(contact: dict) -> str:
    emails = (contact.get("communication") or {}).get("emails") or {}
    return str((emails.get("PRI") or {}).get("email", "")).strip().lower()


def members(sandbox) -> dict[str, dict]:
    return {m["email_address"].lower(): m for m in items(sandbox, "mailchimp", "members")}


def by_email(sandbox) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for c in bp_contacts(sandbox):
        if email_of(c):
            out[email_of(c)].append(c)
    return out


@pytest.fixture
def mapped_brand(live_brand):
    groups_mapped(live_brand)
    fields_mapped(live_brand)
    return live_brand


def test_a_full_run_sends_each_retail_email_once_in_calls_of_500(sandbox, mapped_brand):
    before = members(sandbox)
    sandbox.reset_stats()
    run = flow_run_now(brand=mapped_brand, flow=FLOW, full=True)
    assert run.state in (RunState.SUCCEEDED, RunState.PARTIAL), run.error
    after = members(sandbox)
    groups = by_email(sandbox)
    retail = {
        e
        for e, cs in groups.items()
        if all((c.get("customerGroup") or {}).get("name") == "Retail" for c in cs)
    }
    wholesale = set(groups) - retail
    sent = {s.source_id for s in RecordState.objects.filter(brand=mapped_brand, flow=FLOW)}
    # Members Mailchimp cleaned are never sent (see the cleaned test below); the rest are.
    cleaned = {e for e, m in before.items() if m["status"] == "cleaned"}
    assert cleaned and not cleaned & sent
    assert retail - cleaned - sent == set() or all(
        "looks fake" in s.detail or "compliance" in s.detail.lower()
        for s in RecordState.objects.filter(brand=mapped_brand, flow=FLOW, source_id__in=retail)
        if s.status != RecordStatus.SYNCED
    )
    # B2B contacts never land in the retail audience.
    assert not (wholesale - set(before)) & set(after)
    # Search before create: the audience is listed first, so only the new members go by
    # batch subscribe, 500 a call (the existing ones by batch PUTs).
    new = len(set(after) - set(before))
    posts = sandbox.writes(vendor="mailchimp", limit=100_000)["items"]
    subscribe_calls = [w for w in posts if w.get("path", "").rstrip("/").count("/") == 3]
    assert new > 0
    assert len(subscribe_calls) == -(-new // 500)
    # Every new member has the mapped merge fields, and nothing else from Brightpearl.
    contact = next(cs[0] for e, cs in groups.items() if e in set(after) - set(before))
    made = after[email_of(contact)]
    assert made["merge_fields"]["FNAME"] == contact["firstName"]
    assert made["status"] == "transactional"  # no opt-in field: never subscribed on a guess


def test_existing_members_keep_their_consent(sandbox, mapped_brand):
    before = members(sandbox)
    flow_run_now(brand=mapped_brand, flow=FLOW, full=True)
    after = members(sandbox)
    for email, member in before.items():
        assert after[email]["status"] == member["status"], email
    changes = items(sandbox, "mailchimp", "status_changes")
    assert not [c for c in changes if (c.get("data") or c).get("from") is not None]


def test_duplicates_are_merged_by_the_rule_with_one_ticket_per_email(sandbox, mapped_brand):
    groups = {e: cs for e, cs in by_email(sandbox).items() if len(cs) > 1}
    retail = {
        e: cs
        for e, cs in groups.items()
        if all((c.get("customerGroup") or {}).get("name") == "Retail" for c in cs)
    }
    assert retail, "the seed has retail contacts sharing an email"
    email, contacts = next(iter(sorted(retail.items())))
    first, second = sorted(contacts, key=lambda c: c["contactId"])[:2]
    # The older contact has the latest order: its name wins, whatever was updated last.
    loopback.post(
        f"{sandbox.url}/_sandbox/brightpearl/contacts/{second['contactId']}",
        json={"firstName": "Updated-Later"},
    ).raise_for_status()
    RecordState.objects.create(
        brand=mapped_brand,
        flow="mailchimp_purchases",
        source_id="990001",
        status=RecordStatus.SYNCED,
        last_pushed={
            "customer": str(first["contactId"]),
            "total": 40.0,
            "placed": "2099-01-01T00:00:00Z",
        },
    )
    RecordState.objects.create(
        brand=mapped_brand,
        flow="mailchimp_purchases",
        source_id="990002",
        status=RecordStatus.SYNCED,
        last_pushed={
            "customer": str(second["contactId"]),
            "total": 2.5,
            "placed": "2001-01-01T00:00:00Z",
        },
    )
    fields_mapped(mapped_brand, [(TOTAL_SPENT, "LTV", AS_MERGE_FIELD)])
    run = flow_run_now(brand=mapped_brand, flow=FLOW, full=True)
    assert run.state in (RunState.SUCCEEDED, RunState.PARTIAL), run.error
    member = members(sandbox)[email]
    assert member["merge_fields"]["FNAME"] == first["firstName"]
    assert member["merge_fields"]["LTV"] == "42.5"
    tickets = Ticket.objects.filter(
        brand=mapped_brand, type__code="duplicate_contact", flow=FLOW, status__in=OPEN_STATUSES
    )
    assert tickets.count() == len(groups) - len(
        [e for e in groups if e not in retail]  # a wholesale email is never sent
    )
    ticket = tickets.get(source_id=email)
    assert ticket.snapshot["contact_ids"] == sorted(
        (str(c["contactId"]) for c in contacts), key=int
    )
    # Run again: still one ticket per email (a repeat counts, it does not open another).
    flow_run_now(brand=mapped_brand, flow=FLOW, full=True)
    assert Ticket.objects.filter(brand=mapped_brand, type__code="duplicate_contact", flow=FLOW,
                                 source_id=email).count() == 1  # fmt: skip


def test_a_missing_merge_field_is_made_and_a_mapped_tag_set(sandbox, mapped_brand):
    tags = items(sandbox, "brightpearl", "tags")
    tag = tags[0]
    fields_mapped(
        mapped_brand, [(TOTAL_SPENT, "LTV", AS_MERGE_FIELD), (tag["tagName"], "VIP", AS_TAG)]
    )
    flow_run_now(brand=mapped_brand, flow=FLOW, full=True)
    made = {f["tag"] for f in items(sandbox, "mailchimp", "merge_fields")}
    assert "LTV" in made
    tagged = [
        e
        for e, cs in by_email(sandbox).items()
        if any(str(tag["tagId"]) in str(c.get("contactTags", "")).split(",") for c in cs)
    ]
    got = members(sandbox)
    vip = [e for e in tagged if e in got and "VIP" in {t["name"] for t in got[e]["tags"]}]
    assert vip, "a contact with the mapped tag has it in Mailchimp"


def test_per_member_errors_are_tickets_and_never_sent_again(sandbox, mapped_brand):
    facts = sandbox.seed_facts()["demo"]["mailchimp"]
    compliance = facts["compliance_email"].lower()
    run = flow_run_now(brand=mapped_brand, flow=FLOW, full=True)
    assert run.state == RunState.PARTIAL and run.failed >= 1, run.log
    state = RecordState.objects.get(brand=mapped_brand, flow=FLOW, source_id=compliance)
    assert state.status == RecordStatus.FAILED
    assert Ticket.objects.filter(
        brand=mapped_brand, type__code="rejected_by_target", source_id=compliance
    ).exists()
    contact_id = by_email(sandbox)[compliance][0]["contactId"]
    loopback.post(
        f"{sandbox.url}/_sandbox/brightpearl/contacts/{contact_id}",
        json={"firstName": "Changed"},
    ).raise_for_status()
    sandbox.reset_writes()
    flow_run_now(brand=mapped_brand, flow=FLOW, scope=[compliance], trigger="webhook")
    keys = [k for w in sandbox.writes(vendor="mailchimp")["items"] for k in w.get("keys") or []]
    assert f"member:{subscriber_hash(compliance)}" not in keys


def test_a_cleaned_member_is_never_sent_even_before_brightpearl_knows(sandbox, mapped_brand):
    """A member Mailchimp cleaned (the address bounced), with no webhook and no consent sweep
    yet: a backfill lists the audience with its statuses and leaves the member out."""
    groups = by_email(sandbox)
    got = members(sandbox)
    email = next(
        e
        for e, cs in sorted(groups.items())
        if e in got
        and got[e]["status"] == "subscribed"
        and all((c.get("customerGroup") or {}).get("name") == "Retail" for c in cs)
    )
    loopback.post(
        f"{sandbox.url}/_sandbox/mailchimp/clean", json={"email": email, "reason": "hard"}
    ).raise_for_status()
    sandbox.reset_writes()
    run = flow_run_now(brand=mapped_brand, flow=FLOW, full=True)
    assert run.written > 0, run.log
    keys = [k for w in sandbox.writes(vendor="mailchimp")["items"] for k in w.get("keys") or []]
    assert f"member:{subscriber_hash(email)}" not in keys
    # Skipped, so nothing is recorded as sent to it.
    assert not RecordState.objects.filter(brand=mapped_brand, flow=FLOW, source_id=email).exists()
    assert members(sandbox)[email]["status"] == "cleaned"


def test_onboarding_offers_a_short_default_list_once(live_brand):
    from syncs.flows.mailchimp.defaults import mailchimp_defaults_seed

    assert mailchimp_defaults_seed(brand=live_brand) == len(DEFAULT_FIELDS) + 2
    assert mailchimp_defaults_seed(brand=live_brand) == 0
    fields = ValueMap.objects.filter(brand=live_brand, kind=BP_CONTACT_ATTRIBUTE.code)
    assert sorted(fields.values_list("target_value", flat=True)) == ["FNAME", "LNAME"]
    wholesale = ValueMap.objects.get(
        brand=live_brand, kind="bp_customer_group_to_mailchimp", source_value="Wholesale"
    )
    assert wholesale.extra == {"audience": "not_this_audience"}

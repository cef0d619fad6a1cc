"""Quarantine with replay, for any kind of value map: a record whose value has no mapping
waits, with one ticket per (brand, kind, value) for the kind's team; mapping the value
resolves the ticket and the record goes, on the run the save queues or the next one.

Runs a test-only flow (tests/fixtures/payments_flow.py) on the sandbox's BigCommerce
orders, whose demo seed pays one order with Klarna, a method nobody has mapped.
"""

from __future__ import annotations

import pytest

from exceptions.models import Ticket
from syncs.mappings import ValueChange, value_map_save
from syncs.models import MappingChange, RecordState, RecordStatus, SyncRun, ValueMap
from syncs.services import flow_run, flow_run_now
from syncs.valuemaps.preview import value_map_preview

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]

KIND = "bc_payment_method"


def map_methods(brand, *methods: tuple[str, str, str], actor=None):
    return value_map_save(
        brand=brand,
        changes=[
            ValueChange(KIND, source, target_value=target, extra={"nominal_code": code})
            for source, target, code in methods
        ],
        actor=actor,
    )


def klarna(sandbox) -> tuple[str, str]:
    facts = sandbox.seed_facts()["demo"]["bigcommerce"]
    return facts["unmapped_payment_method"], str(facts["unmapped_payment_order_id"])


def tickets(brand):
    return Ticket.objects.filter(brand=brand, type__code="unmapped_value")


def test_an_unmapped_value_waits_with_one_ticket_for_the_kinds_team(
    sandbox, live_brand, payments_flow
):
    method, order_id = klarna(sandbox)
    map_methods(live_brand, ("Stripe", "STRIPE", "1220"), ("PayPal", "PAYPAL", "1221"))
    run = flow_run_now(brand=live_brand, flow=payments_flow.code, full=True)
    assert run.waiting == 1 and run.written == run.read - 1 > 10
    state = RecordState.objects.get(brand=live_brand, flow=payments_flow.code, source_id=order_id)
    assert state.status == RecordStatus.WAITING
    assert state.match_key == f"map:{KIND}:{method}"
    assert "BigCommerce payment method “Klarna” has no mapping" in state.detail
    assert order_id not in {p["id"] for p in payments_flow.sent}

    ticket = tickets(live_brand).get()
    assert ticket.source_id == f"map:{KIND}:Klarna" and ticket.source_system == "bigcommerce"
    # The kind's owner, not the type's default (operations).
    assert ticket.team == "finance"
    assert "“Klarna” has no mapping (Payment methods): 1 record waiting" in ticket.title
    assert ticket.snapshot["waiting"] == {payments_flow.code: [order_id]}
    assert ticket.snapshot["waiting_count"] == 1

    # Again: the same ticket counts the repeat; no second one, and the order still waits.
    again = flow_run_now(brand=live_brand, flow=payments_flow.code)
    assert again.waiting == 1
    assert tickets(live_brand).count() == 1
    assert tickets(live_brand).get().occurrences == 2


def test_saving_the_mapping_resolves_the_ticket_and_queues_the_waiting_order(
    sandbox, live_brand, payments_flow, marketing_user, django_capture_on_commit_callbacks
):
    method, order_id = klarna(sandbox)
    map_methods(live_brand, ("Stripe", "STRIPE", "1220"), ("PayPal", "PAYPAL", "1221"))
    flow_run_now(brand=live_brand, flow=payments_flow.code, full=True)
    ticket = tickets(live_brand).get()
    sent_before = len(payments_flow.sent)

    with django_capture_on_commit_callbacks(execute=False):
        result = map_methods(live_brand, (method, "KLARNA", "1230"), actor=marketing_user)
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    assert result.tickets == [ticket]
    note = ticket.events.order_by("-pk").first().note
    assert "mark_marketing mapped BigCommerce payment method “Klarna”" in note
    assert "KLARNA · nominal code 1230" in note
    run = SyncRun.objects.get(brand=live_brand, flow=payments_flow.code, state="queued")
    assert result.runs == [run] and run.scope == [order_id]
    entry = MappingChange.objects.get(brand=live_brand, kind=KIND, key=method)
    assert f"Resolved ticket #{ticket.pk}: 1 record was waiting" in entry.note

    done = flow_run(run_id=run.pk)
    assert (done.written, done.waiting) == (1, 0)
    assert payments_flow.sent[sent_before:] == [
        {"id": order_id, "payment_method": "KLARNA", "nominal_code": "1230"}
    ]
    state = RecordState.objects.get(brand=live_brand, flow=payments_flow.code, source_id=order_id)
    assert state.status == RecordStatus.SYNCED and state.held_since is None
    assert state.last_pushed["_maps"] == {KIND: method}
    ticket.refresh_from_db()
    assert ticket.status == "resolved"


def test_a_mapping_made_elsewhere_resolves_the_ticket_and_the_record_goes_next_run(
    sandbox, live_brand, payments_flow
):
    """Whatever made the mapping (here a row written straight to the table), the next run
    sends the waiting order, though it has not changed in BigCommerce, and resolves the
    ticket."""
    method, order_id = klarna(sandbox)
    map_methods(live_brand, ("Stripe", "STRIPE", "1220"), ("PayPal", "PAYPAL", "1221"))
    flow_run_now(brand=live_brand, flow=payments_flow.code, full=True)
    ticket = tickets(live_brand).get()
    ValueMap.objects.create(
        brand=live_brand,
        kind=KIND,
        source_value=method,
        target_value="KLARNA",
        extra={"nominal_code": "1230"},
    )
    run = flow_run_now(brand=live_brand, flow=payments_flow.code)  # incremental
    assert (run.written, run.waiting) == (1, 0)
    assert payments_flow.sent[-1]["id"] == order_id
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    assert "The value is mapped now" in ticket.events.order_by("-pk").first().note


def test_a_value_nothing_waits_on_any_more_has_its_ticket_resolved(
    sandbox, live_brand, payments_flow
):
    _, order_id = klarna(sandbox)
    map_methods(live_brand, ("Stripe", "STRIPE", "1220"), ("PayPal", "PAYPAL", "1221"))
    flow_run_now(brand=live_brand, flow=payments_flow.code, full=True)
    # The order is gone from the waiting list (say its flow dropped it).
    RecordState.objects.filter(brand=live_brand, source_id=order_id).delete()
    flow_run_now(brand=live_brand, flow=payments_flow.code, full=False)
    assert tickets(live_brand).get().status == "resolved"


def test_the_preview_counts_what_a_change_releases_and_who_used_the_old_mapping(
    sandbox, live_brand, payments_flow
):
    method, _ = klarna(sandbox)
    map_methods(live_brand, ("Stripe", "STRIPE", "1220"), ("PayPal", "PAYPAL", "1221"))
    flow_run_now(brand=live_brand, flow=payments_flow.code, full=True)
    stripe_orders = sum(1 for p in payments_flow.sent if p["payment_method"] == "STRIPE")
    ticket = tickets(live_brand).get()
    stripe = ValueMap.objects.get(brand=live_brand, kind=KIND, source_value="Stripe")

    preview = value_map_preview(
        brand=live_brand,
        changes=[
            ValueChange(
                KIND, method, target_value="KLARNA", extra={"nominal_code": "1230"}, expected=None
            ),
            ValueChange(
                KIND,
                "Stripe",
                target_value="STRIPE",
                extra={"nominal_code": "1299"},
                expected={"target": "STRIPE", "extra": stripe.extra, "note": ""},
            ),
        ],
    )
    klarna_row, stripe_row = preview.rows
    assert klarna_row.released == {payments_flow.code: 1} and klarna_row.ticket == ticket
    assert klarna_row.before == "not mapped" and klarna_row.after == "KLARNA · nominal code 1230"
    assert stripe_row.released_count == 0 and stripe_row.synced_old == stripe_orders > 0
    assert (preview.released, preview.synced_old) == (1, stripe_orders)
    assert preview.tickets == [ticket]
    assert [(f.flow, f.records, f.now) for f in preview.flows] == [(payments_flow.code, 1, True)]
    # Nothing written.
    assert not ValueMap.objects.filter(source_value=method).exists()
    assert ticket.status == "open"


def test_records_of_several_flows_share_the_values_one_ticket(
    sandbox, live_brand, payments_flow, django_capture_on_commit_callbacks
):
    """Another flow (here only its record state: its code is not registered) waits on the
    same value: still one ticket, listing both; saving queues what can run and says when the
    rest goes."""
    method, order_id = klarna(sandbox)
    map_methods(live_brand, ("Stripe", "STRIPE", "1220"), ("PayPal", "PAYPAL", "1221"))
    RecordState.objects.create(
        brand=live_brand,
        flow="refunds_in",
        source_id="9001",
        status=RecordStatus.WAITING,
        match_key=f"map:{KIND}:{method}",
        detail="BigCommerce payment method “Klarna” has no mapping…",
    )
    flow_run_now(brand=live_brand, flow=payments_flow.code, full=True)
    ticket = tickets(live_brand).get()
    assert ticket.snapshot["waiting"] == {payments_flow.code: [order_id], "refunds_in": ["9001"]}
    assert "2 records waiting" in ticket.title

    with django_capture_on_commit_callbacks(execute=False):
        result = map_methods(live_brand, (method, "KLARNA", "1230"))
    assert [(r.flow, r.scope) for r in result.runs] == [(payments_flow.code, [order_id])]
    note = ticket.events.order_by("-pk").first().note
    assert "The 2 waiting records are queued" in note and "refunds_in go when that flow" in note


def test_a_brand_that_gave_the_type_to_another_team_keeps_its_choice(
    sandbox, live_brand, payments_flow
):
    from exceptions.models import ExceptionType, TeamOverride

    TeamOverride.objects.create(
        brand=live_brand,
        exception_type=ExceptionType.objects.get(code="unmapped_value"),
        team="ecommerce",
    )
    map_methods(live_brand, ("Stripe", "STRIPE", "1220"), ("PayPal", "PAYPAL", "1221"))
    flow_run_now(brand=live_brand, flow=payments_flow.code, full=True)
    assert tickets(live_brand).get().team == "ecommerce"


def test_a_record_with_no_value_at_all_is_unreadable_not_unmapped(live_brand):
    from syncs.valuemaps.quarantine import unmapped_wait

    with pytest.raises(ValueError, match="The record has no BigCommerce payment method"):
        unmapped_wait(KIND, "  ", source_id="1")
    wait = unmapped_wait("bc_order_status", "11.0", source_id="7", label="Awaiting Fulfillment")
    assert wait.match_key == "map:bc_order_status:11"
    assert "“Awaiting Fulfillment” (11) has no mapping to a Brightpearl order status" in (
        wait.reason
    )


@pytest.mark.django_db(transaction=True)
def test_the_storefront_flows_record_which_status_each_synced_order_used(live_brand):
    """The value map's page counts, per value, the synced records translated from it."""
    from syncs.valuemaps.registry import get_kind
    from syncs.valuemaps.selectors import value_counts
    from tests.contract.scenarios import BC_TO_BP, value_maps

    value_maps(live_brand, "bc_order_status", BC_TO_BP)
    run = flow_run_now(brand=live_brand, flow="storefront_orders", full=True)
    counts = value_counts(brand=live_brand, kind=get_kind("bc_order_status"))
    assert run.created > 0
    assert (
        sum(counts.synced.values())
        == RecordState.objects.filter(
            brand=live_brand, flow="storefront_orders", status=RecordStatus.SYNCED
        ).count()
    )

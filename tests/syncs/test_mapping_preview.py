"""The preview predicts exactly what the run queued by the save sends to Ometria.

Each test previews a change on the sandbox's synced demo brand, saves it, runs the queued
runs, and compares the preview with what changed in the sandbox's Ometria state.
"""

from __future__ import annotations

import time
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exceptions.models import Ticket
from syncs.flows.ometria.rejections import ometria_rejections_collect
from syncs.mappings import AttributeChange, StatusChange, attribute_mapping_save, mapping_save
from syncs.models import AttributeMapping, MappingChange, RunState, StatusMapping, SyncRun
from syncs.previews import attribute_mapping_preview, mapping_preview, order_state
from syncs.services import flow_run

pytestmark = pytest.mark.django_db(transaction=True)


def ometria(sandbox, collection: str) -> dict[str, dict]:
    items = sandbox.state("ometria", collection, limit=100_000)["items"]
    return {item["id"]: item for item in items}


def ometria_state(order: dict) -> dict:
    return {
        "status": order["status"],
        "stage": order["properties"]["lifecycle_stage"],
        "valid": order["is_valid"],
    }


def writes(queries) -> list[str]:
    """Statements that change data, other than the shared API budget every call spends and
    the vendors' lists kept for the pages (syncs/vendor_lists.py)."""
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        and "connectors_ratebudget" not in q["sql"]
        and "connectors_budgetlease" not in q["sql"]
        and not ("syncs_checkpoint" in q["sql"] and "list:" in str(q["sql"]))
    ]


def run_queued(brand) -> list[SyncRun]:
    """Do the runs the save queued, here and now (what the task cluster would do)."""
    runs = list(SyncRun.objects.filter(brand=brand, state=RunState.QUEUED).order_by("pk"))
    return [flow_run(run_id=run.pk) for run in runs]


def change(status_id: int, ometria_status: str, stage: str) -> StatusChange:
    mapping = StatusMapping.objects.filter(bp_status_id=status_id).first()
    return StatusChange(
        bp_status_id=status_id,
        bp_status_name=mapping.bp_status_name if mapping else "Awaiting gift wrap",
        ometria_status=ometria_status,
        lifecycle_stage=stage,
    )


def test_status_preview_predicts_exactly_what_the_next_run_changes(sandbox, synced_brand):
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    changes = [
        # The unknown status: its waiting orders go to Ometria for the first time.
        change(facts["unknown_status_id"], "pending", "processing"),
        # Dispatched (23) becomes complete: synced orders move stage.
        change(23, "complete", "completed"),
        # Fraud hold (24) stops cancelling: its orders become valid, their revenue counts.
        change(facts["fraud_status_id"], "pending", "on_hold"),
        # Invoiced stays as it is: nothing moves.
        change(4, "complete", "completed"),
    ]
    before = ometria(sandbox, "orders")
    with CaptureQueriesContext(connection) as queries:
        preview = mapping_preview(brand=synced_brand, changes=changes)
    assert writes(queries) == [], "the preview wrote to the database"
    assert preview.first_time == 8 and preview.value_unknown == 0
    assert preview.unchanged > 0  # the invoiced orders
    assert [t.source_id for t in preview.tickets] == [f"status:{facts['unknown_status_id']}"]

    result = mapping_save(brand=synced_brand, changes=changes)
    assert [r.flow for r in result.runs] == ["order_lifecycle"]
    assert all(r.state != RunState.FAILED for r in run_queued(synced_brand))
    after = ometria(sandbox, "orders")

    # Every order whose Ometria state changed, and to what: exactly the preview's.
    actual = {
        order_id: ometria_state(order)
        for order_id, order in after.items()
        if order_id not in before or ometria_state(before[order_id]) != ometria_state(order)
    }
    assert actual == preview.predicted
    assert preview.orders == len(actual) > 8
    # The counts, contacts and revenue, per move from one state to another.
    moves: dict[tuple, dict] = defaultdict(
        lambda: {"orders": 0, "contacts": set(), "revenue": defaultdict(Decimal)}
    )
    for order_id, state in actual.items():
        was = ometria_state(before[order_id]) if order_id in before else None
        key = (repr(was), repr(state))
        order = after[order_id]
        moves[key]["orders"] += 1
        moves[key]["contacts"].add(order["customer"]["id"])
        moves[key]["revenue"][order["currency"]] += Decimal(str(order["grand_total"]))
    predicted = {
        (repr(m.before), repr(m.after)): {
            "orders": m.orders,
            "contacts": m.contacts,
            "revenue": {c: v for c, v in m.revenue.items()},
        }
        for m in preview.moves
    }
    assert predicted == {k: {**v, "revenue": dict(v["revenue"])} for k, v in moves.items()}
    assert preview.contacts == len({after[i]["customer"]["id"] for i in actual})
    # Fraud orders became valid: the preview warns, and Ometria counts their revenue now.
    assert (
        preview.revalidated
        == len(
            [
                i
                for i, s in actual.items()
                if i in before and not before[i]["is_valid"] and s["valid"]
            ]
        )
        > 0
    )
    fraud_value = sum(
        Decimal(str(after[i]["grand_total"]))
        for i, s in actual.items()
        if before.get(i) and not before[i]["is_valid"] and s["valid"]
    )
    assert dict(preview.counted_revenue) == {
        "GBP": fraud_value
        + sum(Decimal(str(after[i]["grand_total"])) for i in actual if i not in before)
    }
    # The ticket of the unknown status resolved itself, with a line saying why.
    ticket = Ticket.objects.get(type__code="unmapped_status")
    assert ticket.status == "resolved"
    assert "mapping change #" in ticket.events.last().note
    entry = MappingChange.objects.get(key=str(facts["unknown_status_id"]))
    assert f"Resolved ticket #{ticket.pk}: 8 orders were waiting" in entry.note


def test_removing_a_mapping_is_previewed_as_orders_that_would_wait(sandbox, synced_brand):
    dispatched = StatusMapping.objects.get(brand=synced_brand, bp_status_id=23)
    synced_in_dispatched = sandbox.state("brightpearl", "orders", status=23, limit=1000)["items"]
    removal = StatusChange(bp_status_id=23, bp_status_name=dispatched.bp_status_name)
    preview = mapping_preview(brand=synced_brand, changes=[removal])
    assert preview.will_wait == len(synced_in_dispatched) > 0
    assert preview.predicted == {}

    before = ometria(sandbox, "orders")
    mapping_save(brand=synced_brand, changes=[removal])
    run_queued(synced_brand)
    # Ometria keeps what it had; the orders wait with a ticket for marketing.
    assert ometria(sandbox, "orders") == before
    ticket = Ticket.objects.get(type__code="unmapped_status", source_id="status:23")
    assert ticket.snapshot["waiting_count"] == preview.will_wait


def test_attribute_preview_predicts_exactly_what_the_next_run_changes(sandbox, synced_brand):
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    changes = [
        # VIP is sent as "yes" from now on, and "no" when absent.
        AttributeChange(
            source="tag", source_name="VIP", ometria_attribute="vip", value="yes", absent_value="no"
        ),
        # Loyalty: Bronze is no longer sent.
        AttributeChange(source="tag", source_name="Loyalty: Bronze", remove=True),
        # A custom field starts to travel.
        AttributeChange(
            source="custom_field", source_name="PCF_BIRTHMON", ometria_attribute="birth_month"
        ),
    ]
    # Ometria refuses contact 203's email a moment after accepting it: read that back first,
    # as the sweeper does, so the console knows 203 is not in Ometria.
    for _ in range(50):
        if ometria_rejections_collect(brand=synced_brand):
            break
        time.sleep(0.1)
    before = ometria(sandbox, "contacts")
    with CaptureQueriesContext(connection) as queries:
        preview = attribute_mapping_preview(brand=synced_brand, changes=changes)
    assert writes(queries) == [], "the preview wrote to the database"
    assert preview.complete and preview.examined == preview.known > 0

    result = attribute_mapping_save(brand=synced_brand, changes=changes)
    assert [r.flow for r in result.runs] == ["customers"] and result.runs[0].full
    run_queued(synced_brand)
    after = ometria(sandbox, "contacts")
    actual = {
        contact_id: contact["properties"]
        for contact_id, contact in after.items()
        if contact["properties"] != before[contact_id]["properties"]
    }
    assert actual == preview.predicted
    assert after[str(facts["vip_contact_id"])]["properties"]["vip"] == "yes"
    # Every seeded contact has a birth month: read with the contact, never sent empty.
    assert all(props.get("birth_month") for props in actual.values())
    assert preview.contacts == len(actual) > 0
    assert sum(m.contacts for m in preview.moves if m.attribute == "vip") == len(
        [c for c in actual.values() if "vip" in c]
    )
    assert not AttributeMapping.objects.filter(source_name="Loyalty: Bronze").exists()
    assert MappingChange.objects.filter(kind="attribute", via="console").count() == 3
    assert order_state(None) is None

"""A ticket's data in words: one renderer per type, a generic fallback for the rest, never
JSON (exceptions/snapshots/)."""

from __future__ import annotations

import logging

import pytest

from brands.models import Brand
from exceptions.models import ExceptionType, Ticket
from exceptions.snapshots import RENDERERS, snapshot_view
from exceptions.snapshots.base import generic, humanise, plain
from tests.exceptions.snapshot_samples import SAMPLES, Sample

LONDON = Brand(name="Acme Apparel", slug="acme", timezone="Europe/London")


def ticket_of(sample: Sample, brand: Brand = LONDON) -> Ticket:
    """An unsaved ticket, as its raiser would have it: the renderers read only its fields."""
    return Ticket(
        pk=1,
        brand=brand,
        type=ExceptionType(code=sample.type_code, title=sample.type_code),
        flow=sample.flow,
        source_system=sample.source_system,
        source_id=sample.source_id,
        snapshot=sample.snapshot,
        error_code=sample.error_code,
        error_message=sample.error_message,
    )


def text_of(view) -> str:
    """Everything a person reads of a view, as one string."""
    parts = [view.sentence]
    parts += [f"{label}: {value}" for label, value in view.facts]
    for table in view.tables:
        parts += [table.caption, *table.columns, *(cell for row in table.rows for cell in row)]
    return "\n".join(parts)


def no_json(text: str) -> None:
    for mark in ('{"', '":', "{'", "': ", "[", "]", "True", "False", "None"):
        assert mark not in text, f"{mark!r} in {text!r}"


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.type_code)
def test_each_type_reads_as_words(sample):
    view = snapshot_view(ticket_of(sample))
    assert not view.generic, "drawn by the generic rules: the type's renderer gave up"
    assert view.sentence
    text = text_of(view)
    for words in sample.says:
        assert words in text, f"{words!r} not in:\n{text}"
    no_json(text)


def test_every_type_the_migrations_seed_has_a_renderer_and_a_sample(db):
    seeded = set(ExceptionType.objects.values_list("code", flat=True))
    assert len(seeded) >= 21
    assert seeded - set(RENDERERS) == set()
    assert seeded - {s.type_code for s in SAMPLES} == set()


def test_the_order_total_example_of_the_issue_reads_as_written():
    sample = Sample(
        "order_total_mismatch",
        {
            "order": "10234",
            "currency": "GBP",
            "bigcommerce_total": "84.00",
            "brightpearl_total": "80.00",
            "reason": "shipping",
        },
        says=(),
    )
    assert snapshot_view(ticket_of(sample)).sentence == (
        "Order 10234 total: BigCommerce £84.00, Brightpearl £80.00, difference £4.00 (shipping)."
    )


def test_the_order_totals_table_shows_each_sides_net_and_tax():
    sample = next(s for s in SAMPLES if s.type_code == "order_total_mismatch")
    view = snapshot_view(ticket_of(sample))
    (table,) = view.tables
    assert table.columns == ["", "Net", "Tax"]
    assert table.rows == [["BigCommerce", "£84.00", "£16.80"], ["Brightpearl", "£80.00", "£16.00"]]
    assert dict(view.facts) == {
        "Storefront order": "10234",
        "Brightpearl order": "88",
        "Difference": "£4.00",
    }


def test_what_was_sent_is_a_small_table_without_the_flows_bookkeeping():
    sample = next(s for s in SAMPLES if s.type_code == "rejected_by_target")
    (table,) = snapshot_view(ticket_of(sample)).tables
    assert table.caption == "What was sent"
    assert ["Valid", "yes"] in table.rows
    assert ["Email", "ann@example.com"] in table.rows
    assert ["Refunded", "0"] in table.rows
    assert not any("maps" in label.lower() for label, _ in table.rows)


def test_a_target_the_console_does_not_know_is_named_plainly():
    sample = next(s for s in SAMPLES if s.type_code == "rejected_by_target")
    ticket = ticket_of(sample)
    ticket.flow = "retired_flow"
    assert snapshot_view(ticket).sentence.startswith("The target system refused: email:")


def test_times_in_a_snapshot_are_the_brands():
    sample = next(s for s in SAMPLES if s.type_code == "silent_flow")
    tokyo = Brand(name="Kaisha", slug="kaisha", timezone="Asia/Tokyo")
    london = snapshot_view(ticket_of(sample)).sentence
    japan = snapshot_view(ticket_of(sample, tokyo)).sentence
    assert "10:00 to " in london and "12:00," in london
    assert "19:00 to " in japan and "21:00," in japan


def test_a_long_list_of_ids_shows_the_first_and_counts_the_rest():
    sample = next(s for s in SAMPLES if s.type_code == "unmapped_status")
    ids = [str(n) for n in range(1, 501)]
    ticket = ticket_of(sample)
    ticket.snapshot = {**sample.snapshot, "waiting_ids": ids, "waiting_count": 730}
    facts = dict(snapshot_view(ticket).facts)
    assert facts["Which"] == ", ".join(ids[:20]) + " and 710 more"
    assert facts["Orders waiting"] == "730"


def test_a_key_the_renderer_does_not_know_is_still_shown():
    sample = next(s for s in SAMPLES if s.type_code == "drift_found")
    ticket = ticket_of(sample)
    ticket.snapshot = {**sample.snapshot, "checked_by": "the nightly job"}
    view = snapshot_view(ticket)
    assert not view.generic
    assert ("Checked by", "the nightly job") in view.facts


def test_a_snapshot_its_renderer_cannot_read_falls_back_to_the_generic_rules(caplog):
    ticket = ticket_of(Sample("unmapped_sku", {"order": "120", "unknown_skus": 5}, says=()))
    with caplog.at_level(logging.WARNING, logger="exceptions.snapshots.base"):
        view = snapshot_view(ticket)
    assert view.generic
    assert view.facts == [("Order", "120"), ("Unknown SKUs", "5")]
    assert "not the expected shape" in caplog.text


def test_an_older_snapshot_without_the_renderers_key_falls_back_too():
    ticket = ticket_of(Sample("sync_delayed", {"minutes": 90}, says=()))
    view = snapshot_view(ticket)
    assert view.generic and view.facts == [("Minutes", "90")]


def test_a_type_with_no_renderer_is_a_definition_list_in_words():
    data = {
        "orderId": 10234,
        "customer_email": "ann@example.com",
        "is_valid": False,
        "skus": ["A-1", "B-2"],
        "lines": [{"sku": "A-1", "qty": 2}, {"sku": "B-2", "qty": 1}],
        "address": {"city": "Leeds", "postCode": "LS1 4AP"},
        "deep": {"a": {"b": 1}},
        "note": None,
        "seen_at": "2026-12-03T12:38:00Z",
        "api_token": "s3cret",
    }
    ticket = ticket_of(Sample("a_type_from_the_future", data, says=()))
    view = snapshot_view(ticket)
    assert view.generic and view.sentence == ""
    facts = dict(view.facts)
    assert facts["Order id"] == "10234"
    assert facts["Customer email"] == "ann@example.com"
    assert facts["Is valid"] == "no"
    assert facts["SKUs"] == "A-1 and B-2"
    assert facts["Lines"] == "SKU: A-1, Qty: 2; SKU: B-2, Qty: 1"
    assert facts["Address › city"] == "Leeds"
    assert facts["Address › post code"] == "LS1 4AP"
    assert facts["Deep"] == "A: B: 1"
    assert facts["Note"] == "—"
    assert facts["Seen at"].endswith("12:38")
    assert facts["API token"] == "(hidden)"
    no_json(text_of(view).replace("(hidden)", ""))


def test_a_snapshot_that_is_not_a_dict_is_still_words():
    ticket = ticket_of(Sample("a_type_from_the_future", {}, says=()))
    ticket.snapshot = ["1001", "1002"]
    assert snapshot_view(ticket).facts == [("Data", "1001 and 1002")]
    ticket.snapshot = {}
    assert not snapshot_view(ticket)


def test_a_very_long_snapshot_is_cut_to_what_a_phone_can_read():
    view = generic(None, {f"field_{n}": n for n in range(100)})
    assert len(view.facts) == 30
    assert view.facts[-1] == ("…", "71 more items, kept in the ticket's data")
    assert plain("x" * 1000).endswith("…") and len(plain("x" * 1000)) == 300


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("waiting_ids", "Waiting ids"),
        ("customerGroup", "Customer group"),
        ("@type", "Type"),
        ("unknown_skus", "Unknown SKUs"),
        ("source_url", "Source URL"),
        ("", ""),
    ],
)
def test_humanise(key, label):
    assert humanise(key) == label

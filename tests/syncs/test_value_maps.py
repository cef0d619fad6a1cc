"""Value maps as services: the kinds the pair packages declare, saving (checked by the kind
and against the vendors' lists), the history, revert, and removal."""

from __future__ import annotations

import pytest

from brands.models import AuditEvent, Brand, Team
from connectors.models import Connection
from syncs.mappings import (
    MappingError,
    ValueChange,
    change_from_dict,
    describe,
    mapping_revert,
    value_map_save,
)
from syncs.models import MappingChange, ValueMap
from syncs.valuemaps.registry import get_kind, kinds, kinds_for_brand

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]

PAYMENT = "bc_payment_method"


def payment(source: str, target: str = "", code: str = "", **kw) -> ValueChange:
    return ValueChange(PAYMENT, source, target_value=target, extra={"nominal_code": code}, **kw)


# --- the kinds ------------------------------------------------------------------------------------
def test_the_kinds_the_next_issues_need_are_declared():
    systems = {code: (k.source_system, k.target_system) for code, k in kinds().items()}
    assert systems == {
        "bc_order_status": ("bigcommerce", "brightpearl"),
        "bp_order_status_to_bc": ("brightpearl", "bigcommerce"),
        "bc_cancellation": ("bigcommerce", "brightpearl"),
        "bc_payment_method": ("bigcommerce", "brightpearl"),
        "bc_customer_group": ("bigcommerce", "brightpearl"),
        "bc_channel": ("bigcommerce", "brightpearl"),
        "bp_warehouse": ("brightpearl", "bigcommerce"),
        "bp_shipping_method": ("brightpearl", "bigcommerce"),
        "bc_price_list": ("bigcommerce", "brightpearl"),
        "bp_customer_group": ("brightpearl", "salesforce"),
        "bp_order_status_to_sf": ("brightpearl", "salesforce"),
        "sf_account_type": ("salesforce", "brightpearl"),
        "bp_contact_to_mailchimp": ("brightpearl", "mailchimp"),
        "bp_customer_group_to_mailchimp": ("brightpearl", "mailchimp"),
    }
    for kind in kinds().values():
        assert kind.label and kind.description and kind.flows
        assert kind.team in Team.values
        assert kind.source.label and kind.target.label
    # The two-part target: a payment method and its nominal code.
    assert [p.name for p in get_kind(PAYMENT).extra] == ["nominal_code"]
    assert get_kind(PAYMENT).team == Team.FINANCE
    assert get_kind("bc_customer_group").target.label == "Brightpearl price list"
    assert get_kind("bp_customer_group").target.label == "Salesforce account type"


def test_a_brand_sees_the_kinds_its_connections_call_for(brand_a):
    assert kinds_for_brand(brand_a) == []
    for system in ("brightpearl", "salesforce"):
        Connection.objects.create(brand=brand_a, system=system, base_url="https://x.example")
    assert [k.code for k in kinds_for_brand(brand_a)] == [
        "bp_customer_group",
        "bp_order_status_to_sf",
        "sf_account_type",
    ]


def test_an_unknown_kind_is_named():
    with pytest.raises(ValueError, match="no kind of value map called “teleport”"):
        get_kind("teleport")


def test_values_are_described_in_words():
    assert describe(PAYMENT, {"target": "PAYPAL", "extra": {"nominal_code": "1221"}}) == (
        "PAYPAL · nominal code 1221"
    )
    assert describe("bp_order_status_to_bc", {"target": "11", "extra": {}}) == (
        "11 (Awaiting Fulfillment)"
    )
    assert describe("bp_contact_to_mailchimp", {"target": "VIP", "extra": {"as": "tag"}}) == (
        "VIP · a Mailchimp tag"
    )
    assert describe(PAYMENT, None) == "not mapped"


# --- saving -----------------------------------------------------------------------------------------
def test_saving_writes_the_map_its_history_and_an_audit_line(live_brand, marketing_user):
    result = value_map_save(
        brand=live_brand,
        changes=[payment(" Klarna ", "KLARNA", "1230", note="Pay later")],
        actor=marketing_user,
    )
    saved = ValueMap.objects.get(brand=live_brand, kind=PAYMENT)
    assert (saved.source_value, saved.target_value, saved.extra) == (
        "Klarna",
        "KLARNA",
        {"nominal_code": "1230"},
    )
    assert saved.note == "Pay later" and saved.updated_by == marketing_user
    (entry,) = result.entries
    assert (entry.kind, entry.key, entry.via, entry.actor) == (
        PAYMENT,
        "Klarna",
        "console",
        marketing_user,
    )
    assert entry.before is None
    assert entry.after == {
        "target": "KLARNA",
        "extra": {"nominal_code": "1230"},
        "note": "Pay later",
    }
    assert entry.kind_label == "Payment methods"
    event = AuditEvent.objects.get(action="mapping.changed", brand=live_brand)
    assert "Klarna: KLARNA · nominal code 1230" in event.summary
    # Saving the same again changes nothing and records nothing.
    again = value_map_save(
        brand=live_brand, changes=[payment("Klarna", "KLARNA", "1230", note="Pay later")]
    )
    assert again.entries == [] and MappingChange.objects.filter(kind=PAYMENT).count() == 1


@pytest.mark.parametrize(
    "change,says",
    [
        (payment("Klarna", "KLARNA", ""), "Give the nominal code as well."),
        (payment("Klarna", "KLARNA", "12a4"), "a Brightpearl nominal code is a number"),
        (payment("Klarna", "", "1230"), "Give the Brightpearl payment method it maps to"),
        (payment("Klarna", "KLAR NA!", "1230"), "use the method's code as Brightpearl shows it"),
        (payment("", "KLARNA", "1230"), "Give the BigCommerce payment method."),
        (
            ValueChange("bc_order_status", "15", target_value="2"),
            "“15” is not a BigCommerce order status. Choose one of: 0 (Incomplete)",
        ),
        (
            ValueChange("bc_order_status", "11", target_value="999"),
            "“999” is not a Brightpearl order status of this brand. Its list: ",
        ),
        (
            ValueChange("bp_warehouse", "7", target_value="1"),
            "“7” is not a Brightpearl warehouse of this brand",
        ),
        (
            ValueChange("bc_channel", "web", target_value="3"),
            "“web” is not a BigCommerce channel: give its id, a whole number",
        ),
        (
            ValueChange(
                "bp_contact_to_mailchimp",
                "VIP",
                target_value="vip tier",
                extra={"as": "merge_field"},
            ),
            "is not a Mailchimp merge field tag",
        ),
        (
            ValueChange("bp_contact_to_mailchimp", "VIP", target_value="VIPs"),
            "Give the Mailchimp field type as well.",
        ),
    ],
)
def test_a_value_its_flows_could_not_use_is_refused_and_nothing_changes(live_brand, change, says):
    with pytest.raises(MappingError) as caught:
        value_map_save(brand=live_brand, changes=[payment("Stripe", "STRIPE", "1220"), change])
    assert caught.value.message == "1 row cannot be saved: nothing was changed."
    problems = " ".join(m for ms in caught.value.errors.values() for m in ms)
    assert says in problems
    assert not ValueMap.objects.exists()
    assert not MappingChange.objects.filter(kind__in=list(kinds())).exists()


def test_an_id_is_stored_as_the_vendor_gives_it(live_brand):
    value_map_save(
        brand=live_brand,
        changes=[ValueChange("bc_order_status", "11.0", target_value=" 2 ")],
    )
    saved = ValueMap.objects.get(kind="bc_order_status")
    assert (saved.source_value, saved.target_value) == ("11", "2")


def test_a_list_the_vendor_cannot_give_is_not_checked_against(brand_a):
    """Without a BigCommerce connection the status list is the documented one; without
    Brightpearl, its status list is unknown and the target is checked for its form only."""
    value_map_save(brand=brand_a, changes=[ValueChange("bc_order_status", "11", target_value="4")])
    assert ValueMap.objects.get(kind="bc_order_status").target_value == "4"


def test_a_change_made_meanwhile_is_not_overwritten(live_brand, admin_user):
    value_map_save(brand=live_brand, changes=[payment("Stripe", "STRIPE", "1220")])
    seen = {"target": "STRIPE", "extra": {"nominal_code": "1220"}, "note": ""}
    value_map_save(
        brand=live_brand, changes=[payment("Stripe", "STRIPE", "1299")], actor=admin_user
    )
    with pytest.raises(MappingError, match="Someone else changed these mappings"):
        value_map_save(brand=live_brand, changes=[payment("Stripe", "CARD", "1220", expected=seen)])
    assert ValueMap.objects.get(source_value="Stripe").extra == {"nominal_code": "1299"}


def test_emptying_the_target_removes_the_map_and_says_so_in_the_history(live_brand):
    value_map_save(brand=live_brand, changes=[payment("Stripe", "STRIPE", "1220")])
    result = value_map_save(brand=live_brand, changes=[payment("Stripe")])
    assert not ValueMap.objects.exists()
    assert result.entries[0].after is None
    assert result.entries[0].before["target"] == "STRIPE"


def test_maps_are_per_brand(live_brand):
    other = Brand.objects.create(name="Other", slug="other")
    value_map_save(brand=live_brand, changes=[payment("Stripe", "STRIPE", "1220")])
    value_map_save(brand=other, changes=[payment("Stripe", "CARD", "4000")])
    assert ValueMap.objects.get(brand=live_brand).target_value == "STRIPE"
    assert ValueMap.objects.get(brand=other).target_value == "CARD"


# --- history and revert ---------------------------------------------------------------------------
def test_a_change_is_reverted_through_the_same_services(live_brand, marketing_user):
    first = value_map_save(
        brand=live_brand, changes=[payment("Stripe", "STRIPE", "1220")], actor=marketing_user
    ).entries[0]
    second = value_map_save(
        brand=live_brand, changes=[payment("Stripe", "CARD", "1299")], actor=marketing_user
    ).entries[0]
    result = mapping_revert(entry=second, actor=marketing_user)
    saved = ValueMap.objects.get(source_value="Stripe")
    assert (saved.target_value, saved.extra) == ("STRIPE", {"nominal_code": "1220"})
    (revert,) = result.entries
    assert revert.reverts == second and revert.via == "revert"
    assert revert.before == second.after and revert.after == second.before
    assert f"Reverts change #{second.pk}" in revert.note
    with pytest.raises(MappingError, match="there is nothing to revert"):
        mapping_revert(entry=second, actor=marketing_user)
    # Reverting the first (an addition) removes the map.
    mapping_revert(entry=first, actor=marketing_user)
    assert not ValueMap.objects.exists()


def test_a_change_travels_as_plain_data_and_back():
    change = payment("Klarna", "KLARNA", "1230", note="n", expected=None)
    assert change_from_dict(change.as_dict()) == change
    with pytest.raises(ValueError):
        change_from_dict({**change.as_dict(), "kind": "teleport"})

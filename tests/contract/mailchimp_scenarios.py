"""The Mailchimp flows' scenarios for the flow contract suite (listed in scenarios.py)."""

from __future__ import annotations

from syncs.flows.mailchimp.maps import (
    BP_CONTACT_ATTRIBUTE,
    BP_CUSTOMER_GROUP_TO_MC,
    DEFAULT_FIELDS,
    DEFAULT_GROUPS,
)
from syncs.models import ValueMap
from tests.contract.scenarios import Scenario, Snapshot, items
from tests.contract.scenarios import _set_bp_status as set_bp_status
from tests.contract.scenarios import _unmap_status as unmap_status
from tests.fixtures import loopback


def mailchimp_maps(brand) -> None:
    """The onboarding defaults: retail in the audience, wholesale never; names as merge
    fields."""
    for source, tag, audience in DEFAULT_GROUPS:
        ValueMap.objects.update_or_create(
            brand=brand,
            kind=BP_CUSTOMER_GROUP_TO_MC.code,
            source_value=source,
            defaults={"target_value": tag, "extra": {"audience": audience}},
        )
    for source, target, kind in DEFAULT_FIELDS:
        ValueMap.objects.update_or_create(
            brand=brand,
            kind=BP_CONTACT_ATTRIBUTE.code,
            source_value=source,
            defaults={"target_value": target, "extra": {"as": kind}},
        )


def _unmap_retail(brand):
    mapping = ValueMap.objects.get(
        brand=brand, kind=BP_CUSTOMER_GROUP_TO_MC.code, source_value="Retail"
    )
    target, extra = mapping.target_value, mapping.extra
    mapping.delete()
    return lambda: ValueMap.objects.create(
        brand=brand,
        kind=BP_CUSTOMER_GROUP_TO_MC.code,
        source_value="Retail",
        target_value=target,
        extra=extra,
    )


def _members(sandbox) -> list[dict]:
    return items(sandbox, "mailchimp", "members")


class MailchimpPurchases(Scenario):
    flow = "mailchimp_purchases"
    target = "mailchimp"

    def prepare(self, brand, sandbox) -> None:
        mailchimp_maps(brand)

    def snapshot(self, sandbox) -> Snapshot:
        return {
            o["id"]: (
                o["customer"]["id"],
                o.get("order_total"),
                o.get("financial_status"),
                bool(o.get("cancelled_at_foreign")),
                len(o.get("lines") or []),
            )
            for o in items(sandbox, "mailchimp", "ecommerce_orders")
        }

    def duplicates(self, sandbox) -> int:
        return sandbox.duplicates("mailchimp")["count"]

    def change(self, sandbox, source_id: str) -> bool:
        """Cancelled (a fraud hold), or back: the order's Mailchimp copy must follow."""
        fraud = int(sandbox.seed_facts()["demo"]["brightpearl"]["fraud_status_id"])
        order = items(sandbox, "brightpearl", "orders", id=source_id)[0]
        now = int(order["orderStatus"]["orderStatusId"])
        set_bp_status(sandbox, source_id, 2 if now == fraud else fraud)
        return True

    def unmap(self, brand, sandbox):
        return unmap_status(brand, "Invoiced")


class MailchimpContacts(Scenario):
    flow = "mailchimp_contacts"
    target = "mailchimp"

    def prepare(self, brand, sandbox) -> None:
        from syncs.services import flow_run_now

        mailchimp_maps(brand)
        # Onboarding's order: Brightpearl learns every member's consent first, so what the
        # contacts flow writes afterwards is recognised when it comes back.
        flow_run_now(brand=brand, flow="mailchimp_consent", full=True)

    def snapshot(self, sandbox) -> Snapshot:
        return {
            m["email_address"].lower(): (
                m["status"],
                m["merge_fields"].get("FNAME"),
                m["merge_fields"].get("LNAME"),
                tuple(sorted(t["name"] for t in m.get("tags") or [])),
            )
            for m in _members(sandbox)
        }

    def duplicates(self, sandbox) -> int:
        return sandbox.duplicates("mailchimp")["count"]

    def change(self, sandbox, source_id: str) -> bool:
        contact = next(
            c
            for c in items(sandbox, "brightpearl", "contacts")
            if str(
                ((c.get("communication") or {}).get("emails") or {}).get("PRI", {}).get("email", "")
            ).lower()
            == source_id
        )
        loopback.post(
            f"{sandbox.url}/_sandbox/brightpearl/contacts/{contact['contactId']}",
            json={"firstName": "Renamed"},
        ).raise_for_status()
        return True

    def unmap(self, brand, sandbox):
        return _unmap_retail(brand)


class MailchimpConsent(Scenario):
    flow = "mailchimp_consent"
    target = "brightpearl"
    write_methods = ("PATCH",)

    def snapshot(self, sandbox) -> Snapshot:
        """Each Brightpearl contact's consent fields (the sandbox lists custom fields by
        contact id)."""
        out: Snapshot = {}
        for contact in items(sandbox, "brightpearl", "contacts"):
            cid = str(contact["contactId"])
            for fields in items(sandbox, "brightpearl", "contact_custom_fields", id=cid):
                mine = sorted((k, v) for k, v in fields.items() if k.startswith("PCF_MC"))
                if mine:
                    out[cid] = repr(mine)
        return out

    def change(self, sandbox, source_id: str) -> bool:
        """The member leaves again another way: cleaned if unsubscribed, else unsubscribed."""
        member = next(m for m in _members(sandbox) if m["email_address"].lower() == source_id)
        what = "clean" if member["status"] == "unsubscribed" else "unsubscribe"
        loopback.post(
            f"{sandbox.url}/_sandbox/mailchimp/{what}", json={"email": source_id}
        ).raise_for_status()
        return True


SCENARIOS = (MailchimpPurchases(), MailchimpContacts(), MailchimpConsent())

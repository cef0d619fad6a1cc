"""Accounts and contacts: each Brightpearl customer → a Salesforce Account and its Contact.

Both are upserted by an External Id field holding the Brightpearl contact id (the connection's
“Brightpearl id field”), 200 a call through the sObject Collections upsert
(`PATCH /composite/sobjects/{Object}/{Field}`): a record Salesforce has under that id is
updated, a new one created, and sending twice never makes two. The Contact names its Account
by the same id (`"Account": {Field: id}`), so it needs no second look-up. The Account's
Salesforce id is kept in the record link (the engine's safe-create protocol: a pending link
before the first upsert, a look-up by external id after a lost answer), and the Contact's in a
link of its own.

Brightpearl owns every field sent: the name (company, else the person), email, phone, the
addresses and the Account's Type, translated from the customer group by the brand's value map
(an unmapped group waits with a ticket, never a default). A Brightpearl id that Salesforce
finds on several records (an import or a hand-made duplicate) is never settled by picking one:
Salesforce writes nothing, and ops get a ticket listing the records to choose between.

Addresses are normalised to Salesforce's compound address fields: Brightpearl's line 1 (and
line 2, the suburb) is the Street, line 3 the City, line 4 the State, with the postal code and
the two-letter country code (countryIsoCode2) as the Country. Billing and shipping come from
the contact's BIL and DEL addresses; the Contact's mailing address from its default (DEF).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from connectors.http import BatchResult, RecordError
from connectors.salesforce.catalog import ids_by_field
from syncs import links
from syncs.flows.base import Flow, Push, Skip, public
from syncs.flows.reading import fetched, source_ids, when
from syncs.flows.salesforce.maps import ACCOUNTS, BP_CUSTOMER_GROUP
from syncs.valuemaps.quarantine import unmapped_wait, used

if TYPE_CHECKING:
    from syncs.engine import FlowContext

FLOW = ACCOUNTS
GROUP_MAP = BP_CUSTOMER_GROUP.code
# What Salesforce says in a collection's per-record error when the external id is on several
# records (the single-record upsert answers 300 Multiple Choices instead).
MULTIPLE = ("DUPLICATE_EXTERNAL_ID", "MULTIPLE_MATCHES")


def _text(value: Any, limit: int = 255) -> str:
    return str(value or "").strip()[:limit]


def address_fields(prefix: str, address: dict | None) -> dict[str, str]:
    """A Brightpearl postal address as Salesforce's compound address fields (Billing…,
    Shipping…, Mailing…). No address: nothing is sent, so the field in Salesforce stays."""
    if not address:
        return {}
    street = "\n".join(
        line
        for line in (_text(address.get("addressLine1")), _text(address.get("addressLine2")))
        if line
    )
    return {
        f"{prefix}Street": street,
        f"{prefix}City": _text(address.get("addressLine3"), 40),
        f"{prefix}State": _text(address.get("addressLine4"), 80),
        f"{prefix}PostalCode": _text(address.get("postalCode"), 20),
        f"{prefix}Country": _text(
            address.get("countryIsoCode2") or address.get("countryIsoCode"), 80
        ),
    }


def _email(contact: dict) -> str:
    emails = (contact.get("communication") or {}).get("emails") or {}
    return _text((emails.get("PRI") or {}).get("email"), 80)


def _phone(contact: dict) -> str:
    phones = (contact.get("communication") or {}).get("telephones") or {}
    return _text(phones.get("PRI"), 40)


class SalesforceAccountsFlow(Flow):
    code = FLOW
    label = "Customers → Salesforce accounts"
    description = (
        "Brightpearl customers as Salesforce Accounts with their Contacts, upserted by the "
        "Brightpearl id, with the customer group as the Account Type."
    )
    target = "salesforce"
    kind = "contact"
    target_kind = "account"
    creates = True
    owners = {
        "Account Name, Type, Phone, billing and shipping address": "brightpearl",
        "Contact name, Email, Phone, mailing address": "brightpearl",
    }
    noun = "customers"
    batch_size = 200
    request_size = 200
    default_schedule_minutes = 30
    set_up_first = (
        "In Salesforce, a custom text field on Account and on Contact (by default "
        "Brightpearl_Contact_Id__c) marked External ID and Unique, visible to the integration "
        "user; and every Brightpearl customer group mapped to an Account Type."
    )

    # --- the source side ----------------------------------------------------------------
    def read(self, ctx: FlowContext) -> Iterator[list[dict]]:
        bp = ctx.connector("brightpearl")
        ids = source_ids(
            ctx,
            full=lambda: bp.search("/contact-service/contact-search", {}),
            changed=bp.changed_contact_ids,
            id_column="contactId",
        )
        for batch in fetched(ctx, ids, bp.contacts, key=lambda c: c["contactId"]):
            yield with_addresses(bp, batch)

    def transform(self, ctx: FlowContext, contact: dict) -> Push | Skip:
        contact_id = str(contact["contactId"])
        updated = when(contact.get("updatedOn"))
        if not (contact.get("relationshipToAccount") or {}).get("isCustomer", True):
            return Skip(contact_id, "not a customer (a supplier or staff)")
        account: dict[str, Any] = {}
        group = contact.get("customerGroup") or {}
        group_id = group.get("id") if isinstance(group, dict) else group
        if group_id not in (None, ""):
            account_type = ctx.mapped(GROUP_MAP, group_id)
            if account_type is None:
                return unmapped_wait(
                    GROUP_MAP,
                    group_id,
                    source_id=contact_id,
                    label=str(group.get("name", "")) if isinstance(group, dict) else "",
                    source_updated=updated,
                )
            account["Type"] = str(account_type)
        first, last = _text(contact.get("firstName"), 40), _text(contact.get("lastName"), 80)
        company = _text((contact.get("organisation") or {}).get("name"))
        addresses = contact.get("_addresses") or {}
        email, phone = _email(contact), _phone(contact)
        account.update(
            {
                "Name": company or f"{first} {last}".strip() or f"Brightpearl contact {contact_id}",
                "Phone": phone,
                **address_fields("Billing", addresses.get("BIL") or addresses.get("DEF")),
                **address_fields("Shipping", addresses.get("DEL")),
            }
        )
        person = {
            "FirstName": first,
            # Salesforce requires LastName: an empty one is refused, with a ticket that says so.
            "LastName": last,
            "Email": email,
            "Phone": phone,
            **address_fields("Mailing", addresses.get("DEF") or addresses.get("BIL")),
        }
        payload = {"Account": account, "Contact": person}
        if group_id not in (None, ""):
            used(payload, GROUP_MAP, group_id)
        return Push(
            source_id=contact_id,
            payload=payload,
            natural_key=contact_id,
            match_key=email.lower(),
            source_updated=updated,
        )

    # --- the target side ----------------------------------------------------------------
    def lookup(self, ctx: FlowContext, pushes: list[Push]) -> dict[str, str]:
        """After a lost answer: the Account Salesforce holds under the Brightpearl id, if one
        (one SOQL query per 200 records, where a GET by external id would take one each)."""
        sf = ctx.connector("salesforce")
        held = ids_by_field(sf, "Account", sf.external_id_field, [p.natural_key for p in pushes])
        found = {}
        for push in pushes:
            ids = held.get(str(push.natural_key), [])
            if len(ids) == 1:
                found[push.source_id] = ids[0]
        return found

    def write(self, ctx: FlowContext, pushes: list[Push]) -> BatchResult:
        sf = ctx.connector("salesforce")
        field = sf.external_id_field
        result = BatchResult()
        accounts = sf.upsert(
            "Account", field, [{field: p.source_id, **p.payload["Account"]} for p in pushes]
        )
        for source_id, error in accounts.failed.items():
            result.failed[source_id] = self._refusal(ctx, "Account", source_id, error)
        placed = [p for p in pushes if p.source_id in set(accounts.ok)]
        contacts = sf.upsert(
            "Contact",
            field,
            [
                {field: p.source_id, **p.payload["Contact"], "Account": {field: p.source_id}}
                for p in placed
            ],
        )
        for source_id, error in contacts.failed.items():
            result.failed[source_id] = self._refusal(ctx, "Contact", source_id, error)
        done: list[tuple[str, str]] = []
        for push in placed:
            if push.source_id not in contacts.ok:
                continue
            account_id = str(accounts.info[push.source_id])
            if push.target_id:
                # Salesforce's id now (an Account deleted there and made again by the upsert
                # has a new one): the link follows it.
                push.target_id = account_id
                result.ok.append(push.source_id)
            else:
                # New to the console (Salesforce may have had it under the id already): the
                # engine completes the pending link with the Account's id.
                result.created[push.source_id] = account_id
            if push.entity:
                done.append((push.entity, str(contacts.info[push.source_id])))
        links.links_ensure(brand_id=ctx.brand_id, kind="contact", system=self.target, records=done)
        return result

    def _refusal(
        self, ctx: FlowContext, sobject: str, source_id: str, error: RecordError
    ) -> RecordError:
        """A refused record; an id on several Salesforce records is a duplicate for ops."""
        if not is_multiple(error):
            return error
        sf = ctx.connector("salesforce")
        return multiple_matches(ctx, sobject, sf.external_id_field, source_id, "Brightpearl id")

    def written_view(self, push: Push) -> dict:
        # What the console set in Salesforce, in Salesforce's terms (for echoes, when a flow
        # reads Salesforce back).
        return public(push.payload)

    def echo_view(self, contact: dict) -> dict:
        """What this flow carries of a Brightpearl customer, as the accounts flow from
        Salesforce records it after writing there (accounts_in.py): equal, the change is the
        console's own (a customer it created from Salesforce, or a mobile it set)."""
        return customer_view(contact)


def with_addresses(bp: Any, contacts: list[dict]) -> list[dict]:
    """Brightpearl contacts with their default, billing and delivery addresses attached
    (`_addresses`, by kind), read in one call for the batch."""
    wanted = {
        int(a)
        for c in contacts
        for kind, a in (c.get("postAddressIds") or {}).items()
        if kind in ("DEF", "BIL", "DEL") and str(a).isdigit()
    }
    addresses = bp.postal_addresses(wanted) if wanted else {}
    for contact in contacts:
        ids_by_kind = contact.get("postAddressIds") or {}
        contact["_addresses"] = {
            kind: addresses.get(int(a))
            for kind, a in ids_by_kind.items()
            if kind in ("DEF", "BIL", "DEL") and str(a).isdigit() and int(a) in addresses
        }
    return contacts


ADDRESS_KEYS = ("addressLine1", "addressLine2", "addressLine3", "addressLine4", "postalCode")


def customer_view(contact: dict) -> dict:
    """Everything the accounts flow carries of a Brightpearl customer, in Brightpearl's terms:
    a change to any of it must travel to Salesforce, a change to anything else need not."""
    group = contact.get("customerGroup") or {}
    return {
        "firstName": _text(contact.get("firstName"), 40),
        "lastName": _text(contact.get("lastName"), 80),
        "company": _text((contact.get("organisation") or {}).get("name")),
        "email": _email(contact),
        "phone": _phone(contact),
        "group": str(group.get("id", "") if isinstance(group, dict) else group or ""),
        "customer": bool((contact.get("relationshipToAccount") or {}).get("isCustomer", True)),
        "addresses": {
            kind: {
                **{k: _text(address.get(k)) for k in ADDRESS_KEYS},
                "country": _text(address.get("countryIsoCode2") or address.get("countryIsoCode")),
            }
            for kind, address in sorted((contact.get("_addresses") or {}).items())
            if address
        },
    }


def is_multiple(error: RecordError) -> bool:
    return error.code in MULTIPLE or "more than one record" in error.message.lower()


def multiple_matches(
    ctx: FlowContext, sobject: str, field: str, value: str, what: str
) -> RecordError:
    """The records that share the key, listed for ops (GET by external id answers 300 with
    them); Salesforce wrote none of them."""
    sf = ctx.connector("salesforce")
    candidates = sf.ids_by_external_id(sobject, field, value)
    instance = getattr(sf.oauth, "instance_url", "") if sf.oauth else ""
    return RecordError(
        "MULTIPLE_MATCHES",
        f"{len(candidates) or 'Several'} Salesforce {sobject} records hold {what} {value} "
        f"in {field}",
        ticket_type="salesforce_multiple_matches",
        snapshot={
            "sobject": sobject,
            "external_id_field": field,
            "value": value,
            "candidates": candidates,
            "instance_url": instance,
        },
    )

"""Contact documents in the JSON Brightpearl serves (seed and writes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.brightpearl.fake.constants import V
from connectors.sandbox.core import dumps, iso_ms, parse_time, sortable
from connectors.sandbox.state import Rec


def contact_doc(
    *,
    contact_id: int,
    first: str,
    last: str,
    email: str,
    phone: str,
    tags: list[int],
    customer_group: str,
    created: datetime,
    updated: datetime,
    company: str = "",
    price_list_id: int = 1,
    newsletter: bool = True,
) -> dict[str, Any]:
    """A contact in the shape of customer/get/simple_get.yml.

    Additions (unconfirmed, asked for by the console): `customerGroup` and
    relationshipToAccount.isCustomer. Brightpearl's own price list is financialDetails.priceListId.
    """
    return {
        "contactId": contact_id,
        "isPrimaryContact": True,
        "salutation": "",
        "firstName": first,
        "lastName": last,
        "postAddressIds": {"DEF": contact_id * 2, "BIL": contact_id * 2, "DEL": contact_id * 2 + 1},
        "communication": {
            "emails": {"PRI": {"email": email}} if email else {},
            "telephones": {"PRI": phone} if phone else {},
            "messagingVoips": {},
            "websites": {},
        },
        "contactStatus": {"current": {"contactStatusId": 0}},
        "relationshipToAccount": {"isSupplier": False, "isStaff": False, "isCustomer": True},
        "marketingDetails": {"isReceiveEmailNewsletter": newsletter},
        "financialDetails": {
            "priceListId": price_list_id,
            "nominalCode": "4000",
            "creditLimit": 0,
            "creditTermDays": 30 if customer_group == "Wholesale" else 0,
            "currencyId": 1,
            "discountPercentage": 0.00,
            "creditTermTypeId": 1,
        },
        "assignment": {"current": {}},
        "organisation": {"organisationId": contact_id, "name": company} if company else {},
        "tradeStatus": "TRADE" if customer_group == "Wholesale" else "RETAIL",
        "createdByid": 0,
        "createdOn": iso_ms(created),
        "updatedOn": iso_ms(updated),
        "contactTags": ",".join(str(t) for t in tags),
        "customerGroup": {"id": 2 if customer_group == "Wholesale" else 1, "name": customer_group},
        "aliases": {},
        "companyId": 0,
    }


def contact_email(doc: dict[str, Any]) -> str:
    return ((doc["communication"].get("emails") or {}).get("PRI") or {}).get("email", "")


def contact_rec(account: str, doc: dict[str, Any]) -> Rec:
    email = contact_email(doc)
    emails = doc["communication"].get("emails") or {}
    company = (doc.get("organisation") or {}).get("name", "")
    row = [
        doc["contactId"],
        email,
        (emails.get("SEC") or {}).get("email", ""),
        (emails.get("TER") or {}).get("email", ""),
        doc["firstName"],
        doc["lastName"],
        doc["relationshipToAccount"].get("isSupplier", False),
        company,
        doc["relationshipToAccount"].get("isStaff", False),
        doc["relationshipToAccount"].get("isCustomer", True),
        doc["createdOn"],
        doc["updatedOn"],
        None,
        None,
        0,
        doc.get("isPrimaryContact", True),
        (doc["communication"].get("telephones") or {}).get("PRI", ""),
        "",
        "",
        company,
        doc.get("salutation") or None,
    ]
    return Rec(
        V,
        account,
        "contact",
        str(doc["contactId"]),
        dumps(doc),
        num=doc["contactId"],
        updated=sortable(parse_time(doc["updatedOn"])),
        created=sortable(parse_time(doc["createdOn"])),
        lookup=email.lower() or None,
        row=dumps(row),
    )


def contact_summary(contact: dict[str, Any]) -> dict[str, Any]:
    return {
        "contactId": contact["contactId"],
        "name": f"{contact['firstName']} {contact['lastName']}".strip(),
        "company": (contact.get("organisation") or {}).get("name", ""),
        "email": contact_email(contact),
        "phone": (contact["communication"].get("telephones") or {}).get("PRI", ""),
        "line1": "1 High Street",
        "city": "London",
        "postcode": "EC1A 1AA",
    }

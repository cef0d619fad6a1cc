"""Onboarding's check for the consent flow: the Brightpearl custom fields it writes exist.

The consent flow writes each unsubscribe or cleaned address to three customer custom fields
on every Brightpearl contact with that email (consent.py, `consent_fields`). A field that is
not defined in Brightpearl cannot hold the consent, so the brand's record of who opted out
would stay wrong: onboarding says so, in words, before the brand goes live. The fields are
read with Brightpearl's Custom Field Metadata GET
(https://api-docs.brightpearl.com/contact/custom-field-meta-data/get.html).
"""

from __future__ import annotations

from dataclasses import dataclass

from brands.models import Brand
from connectors.brightpearl.fields import customer_field_codes
from connectors.errors import ConnectorError
from connectors.models import Connection
from connectors.registry import connector_for
from syncs.flows.mailchimp.consent import consent_fields

# Custom field types that can hold the words and times the consent flow writes.
TEXT_TYPES = ("TEXT", "TEXTAREA")
LABELS = {
    "consent_status_field": "the Mailchimp status",
    "consent_changed_field": "when it changed",
    "consent_reason_field": "the reason",
}


@dataclass
class ConsentFieldsCheck:
    ok: bool
    message: str
    next_step: str


def consent_fields_check(*, brand: Brand | int, transport=None) -> ConsentFieldsCheck | None:
    """Whether Brightpearl defines the customer custom fields the consent flow writes; None
    when there is nothing to check (the brand has no Mailchimp or no Brightpearl connection)."""
    brand_id = brand.pk if isinstance(brand, Brand) else brand
    connections = {
        c.system: c
        for c in Connection.objects.filter(
            brand_id=brand_id, system__in=("brightpearl", "mailchimp")
        )
    }
    if len(connections) < 2:
        return None
    try:
        with connector_for(
            connections["brightpearl"], transport=transport, max_attempts=2, max_backoff=1.0
        ) as bp:
            defined = customer_field_codes(bp)
            wanted = consent_fields(bp.settings)
    except ConnectorError as exc:
        return ConsentFieldsCheck(
            False,
            f"Could not read Brightpearl's customer custom fields: {exc.plain}",
            "Next: make the Brightpearl connection work, then test again.",
        )
    missing = [f"{code} ({LABELS[key]})" for key, code in wanted.items() if code not in defined]
    wrong = [
        f"{code} is a {defined[code]} field"
        for code in wanted.values()
        if code in defined and defined[code] not in TEXT_TYPES
    ]
    if not missing and not wrong:
        return ConsentFieldsCheck(
            True,
            "Brightpearl has the customer custom fields that unsubscribes are written to: "
            f"{', '.join(wanted.values())}.",
            "Nothing to fix here.",
        )
    problems = []
    if missing:
        problems.append(f"Brightpearl has no customer custom field {', '.join(missing)}")
    if wrong:
        problems.append(f"{'; '.join(wrong)}, not text")
    return ConsentFieldsCheck(
        False,
        f"{'. '.join(problems)}. Without them, a customer who unsubscribes in Mailchimp is "
        "not marked in Brightpearl, and a later export from Brightpearl could mail them.",
        "Next: in Brightpearl, add each as a customer custom field of type Text (Settings → "
        "Custom fields → Customers) with exactly that code, or name the fields the brand "
        "already has in the Brightpearl connection's settings (consent_status_field, "
        "consent_changed_field, consent_reason_field); then test again.",
    )

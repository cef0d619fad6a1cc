"""Customers: Brightpearl contacts → Ometria contacts.

The Brightpearl contact id is the Ometria id, so a guest checkout or a changed email
updates the one profile instead of making a second. Tags and custom fields become
attributes through the brand's attribute mapping; anything unmapped stays in Brightpearl.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.db.models import Count

from connectors.http import BatchResult, chunks
from exceptions.models import OPEN_STATUSES, Ticket
from exceptions.services import ticket_raise, tickets_autoresolve
from syncs.flows.base import Flow, Push
from syncs.flows.ometria.order_lifecycle import push_to_ometria
from syncs.flows.reading import fetched, source_ids, when
from syncs.models import AttributeMapping, AttributeSource, RecordState

if TYPE_CHECKING:
    from syncs.engine import FlowContext

FLOW = "customers"


def primary_email(contact: dict) -> str:
    emails = (contact.get("communication") or {}).get("emails") or {}
    primary = emails.get("PRI") or next(iter(emails.values()), {}) if emails else {}
    return str((primary or {}).get("email", "")).strip()


def contact_tag_ids(contact: dict) -> set[int]:
    tags = contact.get("contactTags") or contact.get("tags") or ""
    if isinstance(tags, str):
        return {int(t) for t in tags.split(",") if t.strip().isdigit()}
    if isinstance(tags, dict):
        return {int(t) for t in tags}
    return {int(t["tagId"]) if isinstance(t, dict) else int(t) for t in tags}


def uses_custom_fields(mappings: list[AttributeMapping]) -> bool:
    """Whether contacts must be read with their custom fields: without them, a mapped field
    would look empty and be cleared in Ometria for every contact."""
    return any(m.source == AttributeSource.CUSTOM_FIELD for m in mappings)


def attributes(
    contact: dict, tag_names: set[str], mappings: list[AttributeMapping]
) -> dict[str, Any]:
    """Only mapped values travel. An attribute whose source is gone is cleared (or set to
    its value-when-absent), so a removed VIP tag removes VIP in Ometria too."""
    present: dict[str, Any] = {}
    fallback: dict[str, Any] = {}
    custom = contact.get("customFields") or {}
    for m in mappings:
        if m.source == AttributeSource.TAG:
            value = (m.value or True) if m.source_name.lower() in tag_names else None
        else:
            value = (custom if m.source == AttributeSource.CUSTOM_FIELD else contact).get(
                m.source_name
            )
            if isinstance(value, dict):  # Brightpearl option fields: {"id":…, "value":…}
                value = value.get("value")
        attr = m.ometria_attribute
        if value not in (None, ""):
            present.setdefault(attr, value)
        elif m.absent_value:
            fallback[attr] = m.absent_value
        else:
            fallback.setdefault(attr, None)
    return {attr: present.get(attr, fallback.get(attr)) for attr in {*fallback, *present}}


class CustomersFlow(Flow):
    code = FLOW
    label = "Customers → Ometria"
    description = (
        "Brightpearl contacts as Ometria contacts, with mapped tags and fields as attributes."
    )
    target = "ometria"
    kind = "contact"
    overlap_batches = True
    noun = "contacts"
    default_schedule_minutes = 30
    # Brightpearl documents no contact event to subscribe to: customers run on their schedule.
    webhook_events = ()

    def read(self, ctx: FlowContext) -> Iterator[list[dict]]:
        bp = ctx.connector("brightpearl")
        ctx.cache["tags"] = {tid: name.lower() for tid, name in bp.tags().items()}
        ctx.cache["mappings"] = list(AttributeMapping.objects.filter(brand_id=ctx.brand_id))
        ctx.cache["emails"] = set()
        ids = source_ids(
            ctx,
            full=lambda: bp.search("/contact-service/contact-search", {}),
            changed=bp.changed_contact_ids,
            id_column="contactId",
        )
        custom = uses_custom_fields(ctx.cache["mappings"])
        yield from fetched(
            ctx,
            ids,
            lambda batch: bp.contacts(batch, custom_fields=custom),
            key=lambda c: c["contactId"],
        )

    def transform(self, ctx: FlowContext, contact: dict) -> Push:
        contact_id = str(contact["contactId"])
        email = primary_email(contact)
        tags = {ctx.cache["tags"].get(t, "") for t in contact_tag_ids(contact)}
        payload = {
            "@type": "contact",
            "id": contact_id,
            "customer_id": contact_id,
            "email": email,
            "firstname": contact.get("firstName", ""),
            "lastname": contact.get("lastName", ""),
            "properties": attributes(contact, tags, ctx.cache["mappings"]),
        }
        if email:
            ctx.cache["emails"].add(email.lower())
        return Push(
            source_id=contact_id,
            payload=payload,
            target_id=contact_id,
            source_updated=when(contact.get("updatedOn")),
            match_key=email.lower(),
        )

    def write(self, ctx: FlowContext, pushes: list[Push]) -> BatchResult:
        return push_to_ometria(ctx, pushes)

    def state_of(self, payload: dict) -> dict:
        return {"email": payload["email"], "properties": payload["properties"]}

    def finish(self, ctx: FlowContext) -> None:
        flag_duplicate_emails(ctx, ctx.cache.get("emails", set()))


def flag_duplicate_emails(ctx: FlowContext, emails: set[str]) -> None:
    """One ticket per email that more than one Brightpearl contact uses; resolved once it is one."""
    emails = set(emails)
    emails |= set(
        Ticket.objects.filter(
            brand_id=ctx.brand_id, type__code="duplicate_contact", status__in=OPEN_STATUSES
        ).values_list("source_id", flat=True)
    )
    shared: dict[str, list[str]] = defaultdict(list)
    for batch in chunks(sorted(e for e in emails if e), 500):
        dupes = (
            RecordState.objects.filter(brand_id=ctx.brand_id, flow=FLOW, match_key__in=batch)
            .values("match_key")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .values_list("match_key", flat=True)
        )
        for source_id, key in RecordState.objects.filter(
            brand_id=ctx.brand_id, flow=FLOW, match_key__in=list(dupes)
        ).values_list("source_id", "match_key"):
            shared[key].append(source_id)
    for email, ids in shared.items():
        ids.sort(key=int)
        ticket_raise(
            brand=ctx.brand_id,
            type_code="duplicate_contact",
            title=f"{len(ids)} Brightpearl contacts share the email {email}",
            flow=FLOW,
            source_system="email",
            source_id=email,
            snapshot={"email": email, "contact_ids": ids},
            error_message=f"Contacts {', '.join(ids)} all use {email}.",
        )
    fixed = [e for e in emails if e and e not in shared]
    if fixed:
        tickets_autoresolve(
            brand=ctx.brand_id,
            source_system="email",
            source_ids=fixed,
            type_codes=["duplicate_contact"],
            note="Only one Brightpearl contact uses this email now.",
        )

"""Contacts: Brightpearl contacts → Mailchimp members, batched, one member per email.

- **Keyed by email.** A member is the md5 of the lowercased email, so the flow's records are
  emails, not contact ids: every Brightpearl contact with that email is read together.
- **Search before create.** New members go 500 a call with `update_existing: false`, so
  Mailchimp itself looks each one up by its hash and refuses the ones it has (never a
  second member); those are updated by batch operations, each a PUT to the member's hash
  with `status_if_new` and never `status`: Mailchimp keeps every existing member's consent.
- **Duplicates in Brightpearl** (several contacts, one email) are merged by one rule: the
  profile fields come from the contact with the latest order sent to Mailchimp (if none has
  one, the one most recently updated, then the highest id); purchase totals add up across
  them. Each such group is one "duplicate contact" ticket listing the ids, for the team
  that owns contacts to merge them at the source.
- **Only what the brand mapped** (value map "Tags and fields → Mailchimp"): each mapped
  Brightpearl tag or field fills a merge field or sets a tag; nothing else is sent. The
  merge fields are made in Mailchimp when missing. `_total_spent` and `_last_order` are
  offered as fields too (the console's own purchase totals).
- **Wholesale and retail** (value map "Customer groups → Mailchimp audience"): an email with
  any contact in a group mapped "not in this audience" is never sent to it; a group mapped
  in it sets its tag. A group with no mapping waits with a ticket.
- **Consent is Mailchimp's.** A new member's `status_if_new` comes from a Brightpearl opt-in
  field when the connection names one (`optin_field`), else `transactional`: nobody is
  subscribed on a guess. A cleaned member, or one in compliance state, is never sent again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from connectors.http import BatchResult, chunks
from connectors.mailchimp.client import Mailchimp
from connectors.mailchimp.common import subscriber_hash
from exceptions.services import ticket_raise, tickets_autoresolve
from syncs.flows.base import Flow, Push, Skip, Wait
from syncs.flows.mailchimp.consent import FLOW as CONSENT_FLOW
from syncs.flows.mailchimp.consent import NO_NEWS
from syncs.flows.mailchimp.maps import (
    AS_MERGE_FIELD,
    AS_TAG,
    BP_CONTACT_ATTRIBUTE,
    CUSTOMERS,
    IN_AUDIENCE,
    NOT_IN_AUDIENCE,
    PURCHASES,
)
from syncs.flows.mailchimp.maps import BP_CUSTOMER_GROUP_TO_MC as GROUPS
from syncs.flows.mailchimp.purchases import customer_group
from syncs.flows.ometria.customers import contact_tag_ids, primary_email
from syncs.flows.reading import id_order, source_ids, when
from syncs.models import RecordState, RecordStatus, ValueMap
from syncs.valuemaps.quarantine import unmapped_wait, used

if TYPE_CHECKING:
    from syncs.engine import FlowContext

FLOW = CUSTOMERS
# Members Mailchimp will never take again: sending them costs calls and fails the same way.
NEVER_AGAIN = ("cleaned",)
COMPLIANCE = "compliance state"
# Fields the console works out itself, offered beside Brightpearl's own.
TOTAL_SPENT, LAST_ORDER = "_total_spent", "_last_order"


def _mappings(ctx: FlowContext) -> list[ValueMap]:
    if "fields" not in ctx.cache:
        ctx.cache["fields"] = list(
            ValueMap.objects.filter(brand_id=ctx.brand_id, kind=BP_CONTACT_ATTRIBUTE.code)
        )
    return ctx.cache["fields"]


def purchases_of(brand_id: int, contact_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Per contact: total spent and the latest order's date, from the orders the purchases
    flow sent (cancelled ones left out)."""
    out: dict[str, dict[str, Any]] = defaultdict(lambda: {"total": 0.0, "last": ""})
    for batch in chunks(contact_ids, 500):
        for pushed in RecordState.objects.filter(
            brand_id=brand_id,
            flow=PURCHASES,
            status=RecordStatus.SYNCED,
            last_pushed__customer__in=batch,
        ).values_list("last_pushed", flat=True):
            if pushed.get("cancelled"):
                continue
            slot = out[str(pushed["customer"])]
            slot["total"] = round(slot["total"] + float(pushed.get("total") or 0), 2)
            slot["last"] = max(slot["last"], str(pushed.get("placed") or ""))
    return out


def profile_contact(contacts: list[dict], purchases: dict[str, dict]) -> dict:
    """The merge rule: the latest order wins, then the latest update, then the highest id."""

    def rank(c: dict) -> tuple:
        cid = str(c["contactId"])
        return (purchases.get(cid, {}).get("last", ""), c.get("updatedOn") or "", id_order(cid))

    return max(contacts, key=rank)


def field_value(contact: dict, name: str, tags: set[str], totals: dict[str, Any]) -> Any:
    """A mapped Brightpearl tag (present or not), custom field (PCF_…), contact field or one
    of the console's own purchase fields."""
    if name == TOTAL_SPENT:
        return totals["total"]
    if name == LAST_ORDER:
        return totals["last"][:10]
    if name.lower() in tags:
        return True
    custom = contact.get("customFields") or {}
    value = custom.get(name) if name.upper().startswith("PCF_") else contact.get(name)
    if isinstance(value, dict):  # Brightpearl option fields: {"id":…, "value":…}
        value = value.get("value")
    return value


def told_status(known: str, answered: str) -> str:
    """The member's status as far as Brightpearl has been told (for echoes): the consent
    flow's last word, if it wrote one; else the status Mailchimp answered if that is one the
    consent flow has nothing to say about (a new member's, a subscribed one's); else unknown
    (an unsubscribe Brightpearl has not heard of yet must not pass for an echo)."""
    if known:
        return known
    return answered if answered in NO_NEWS else ""


class ContactsFlow(Flow):
    code = FLOW
    label = "Contacts → Mailchimp"
    description = (
        "Brightpearl contacts as Mailchimp members, one per email, 500 a call: only the "
        "mapped fields and tags, never their consent."
    )
    target = "mailchimp"
    kind = "mailchimp_email"
    target_kind = "mailchimp_member"
    noun = "contacts"
    batch_size = 500
    default_schedule_minutes = 60
    owners = {"status": "mailchimp", "merge_fields": "brightpearl", "tags": "brightpearl"}

    # --- reading: emails, each with all of its contacts --------------------------------------
    def read(self, ctx: FlowContext) -> Iterator[list[dict]]:
        bp = ctx.connector("brightpearl")
        by_email: dict[str, set[str]] = defaultdict(set)
        complete: set[str] = set()

        def rows(found) -> Iterator[dict]:
            for row in found:
                email = str(row.get("primaryEmail") or "").strip().lower()
                if email:
                    by_email[email].add(str(row["contactId"]))
                    yield {"email": email}

        def full() -> Iterator[dict]:
            # Every contact is listed before the first email goes: its duplicates with it.
            listed = list(rows(bp.search("/contact-service/contact-search", {})))
            complete.update(by_email)
            return iter(listed)

        emails = source_ids(
            ctx,
            full=full,
            changed=lambda since, until: rows(bp.changed_contact_ids(since, until)),
            id_column="email",
        )
        custom = any(
            str(m.source_value).upper().startswith("PCF_") for m in _mappings(ctx)
        ) or bool(bp.settings.get("optin_field"))
        ctx.cache["tags"] = {tid: name.lower() for tid, name in bp.tags().items()}
        if ctx.full:
            # Search before create, for the whole audience at once (1,000 hashes a call):
            # members already there go straight to the batch PUTs, new ones 500 a call.
            statuses = ctx.connector("mailchimp").member_statuses()
            ctx.cache["existing"] = set(statuses)
            # Cleaned in Mailchimp (the address bounced): never sent again, even before the
            # consent flow has told Brightpearl.
            ctx.cache["cleaned"] = {h for h, s in statuses.items() if s in NEVER_AGAIN}
        # What one call can carry: 500 new members a batch subscribe, a /batches call of
        # PUTs for members already there. A backfill fills each (see _fill).
        sizes = {"new": Mailchimp.batch_size, "old": Mailchimp.batch_operations_size}
        buffers: dict[str, list[dict]] = {"new": [], "old": [], "skip": []}
        for batch in chunks(emails, 200):
            for email in batch:
                if email not in complete:
                    # A changed contact, a retry or a webhook: every contact with its email.
                    by_email[email].update(str(i) for i in bp.contact_ids_by_email(email))
                    complete.add(email)
            ids = sorted({i for e in batch for i in by_email[e]}, key=id_order)
            contacts = list(bp.contacts(ids, custom_fields=custom)) if ids else []
            grouped: dict[str, list[dict]] = defaultdict(list)
            for contact in contacts:
                grouped[primary_email(contact).lower()].append(contact)
            ctx.missing.extend(e for e in batch if not grouped.get(e))
            records = [{"email": e, "contacts": grouped[e]} for e in batch if grouped.get(e)]
            if not ctx.full:
                yield self._prepared(ctx, records)
                continue
            for record in records:
                buffers[self._fill(ctx, record)].append(record)
            for kind in ("new", "old"):
                while len(buffers[kind]) >= sizes[kind]:
                    # Exactly one call's worth; the rest waits for the next.
                    full, buffers[kind] = buffers[kind][: sizes[kind]], buffers[kind][sizes[kind] :]
                    yield self._prepared(ctx, full + buffers["skip"])
                    buffers["skip"] = []
        rest = buffers["new"] + buffers["old"] + buffers["skip"]
        if rest:
            yield self._prepared(ctx, rest)

    def _fill(self, ctx: FlowContext, record: dict) -> str:
        """Which call a backfill's record will likely go in ("new", "old"), or "skip" (a
        wholesale or unmapped group: it will not be sent), so each call goes full: 500 new
        members, or a whole /batches call of existing ones. Only the sizing: transform
        decides."""
        for contact in record["contacts"]:
            group = customer_group(contact)
            if group:
                where = ctx.mapped(GROUPS.code, group)
                if where is None or where.extra.get("audience") == NOT_IN_AUDIENCE:
                    return "skip"
        digest = subscriber_hash(record["email"])
        if digest in ctx.cache["cleaned"]:
            return "skip"
        return "old" if digest in ctx.cache["existing"] else "new"

    def _prepared(self, ctx: FlowContext, records: list[dict]) -> list[dict]:
        """A batch, with what its transforms read: purchases and the consent flow's word."""
        contact_ids = [str(c["contactId"]) for r in records for c in r["contacts"]]
        ctx.cache["purchases"] = purchases_of(ctx.brand_id, contact_ids)
        emails = [r["email"] for r in records]
        ctx.cache["consent"] = {s.source_id: s for s in ctx.states(CONSENT_FLOW, emails).values()}
        return records

    def source_id_of(self, record: Any) -> str:
        return str(record.get("email", "unknown")) if isinstance(record, dict) else "unknown"

    # --- one email ---------------------------------------------------------------------------
    def transform(self, ctx: FlowContext, record: dict) -> Push | Wait | Skip:
        email, contacts = record["email"], record["contacts"]
        updated = max((t for c in contacts if (t := when(c.get("updatedOn")))), default=None)
        known = ctx.cache["consent"].get(email)
        known_status = str(((known.last_pushed or {}) if known else {}).get("status", ""))
        if known_status in NEVER_AGAIN or subscriber_hash(email) in ctx.cache.get("cleaned", ()):
            return Skip(email, "Cleaned in Mailchimp: never sent again.")
        before = ctx.states(FLOW, [email]).get(email)
        if before and before.status == RecordStatus.FAILED and COMPLIANCE in before.detail.lower():
            return Skip(email, "In compliance state in Mailchimp: never sent again.")
        tag_names: list[str] = []
        for contact in contacts:
            group = customer_group(contact)
            if not group:
                continue
            where = ctx.mapped(GROUPS.code, group)
            if where is None:
                return unmapped_wait(GROUPS.code, group, source_id=email, source_updated=updated)
            if where.extra.get("audience") == NOT_IN_AUDIENCE:
                return Skip(email, f"A “{group}” contact: never sent to this audience.")
            if where.extra.get("audience", IN_AUDIENCE) == IN_AUDIENCE and where.value:
                tag_names.append(where.value)
        purchases = ctx.cache["purchases"]
        profile = profile_contact(contacts, purchases)
        totals = {
            "total": round(sum(purchases.get(str(c["contactId"]), {}).get("total", 0.0)
                               for c in contacts), 2),
            "last": max((purchases.get(str(c["contactId"]), {}).get("last", "")
                         for c in contacts), default=""),
        }  # fmt: skip
        tags = {ctx.cache["tags"].get(t, "") for c in contacts for t in contact_tag_ids(c)}
        merge: dict[str, Any] = {}
        active = set(tag_names)
        inactive: set[str] = set()
        for m in _mappings(ctx):
            value = field_value(profile, m.source_value, tags, totals)
            if (m.extra or {}).get("as") == AS_MERGE_FIELD:
                merge[m.target_value] = "" if value in (None, False) else str(value)
            elif (m.extra or {}).get("as", AS_TAG) == AS_TAG:
                (active if value not in (None, "", False) else inactive).add(m.target_value)
        payload: dict[str, Any] = {
            "email_address": email,
            "status_if_new": self._new_status(ctx, profile),
            "merge_fields": dict(sorted(merge.items())),
            "tags": {"active": sorted(active), "inactive": sorted(inactive - active)},
            "_contacts": sorted((str(c["contactId"]) for c in contacts), key=id_order),
            "_known_status": known_status,
        }
        for group in {customer_group(c) for c in contacts} - {""}:
            used(payload, GROUPS.code, group)
        if len(contacts) > 1:
            ctx.cache.setdefault("duplicates", {})[email] = payload["_contacts"]
        else:
            ctx.cache.setdefault("single", set()).add(email)
        return Push(
            source_id=email,
            payload=payload,
            target_id=email,
            source_updated=updated,
            match_key=email,
            natural_key=email,
        )

    def _new_status(self, ctx: FlowContext, contact: dict) -> str:
        """Never a guess: subscribed only when the brand's opt-in field says so."""
        field = ctx.connector("brightpearl").settings.get("optin_field")
        if field:
            value = field_value(contact, str(field), set(), {"total": 0, "last": ""})
            if str(value).strip().lower() in ("1", "true", "yes", "y", "on"):
                return "subscribed"
        return str(ctx.connector("mailchimp").settings.get("new_member_status") or "transactional")

    # --- writing -----------------------------------------------------------------------------
    def write(self, ctx: FlowContext, pushes: list[Push]) -> BatchResult:
        mc = ctx.connector("mailchimp")
        if "merge_fields" not in ctx.cache:
            wanted = {
                m.target_value: m.source_value
                for m in _mappings(ctx)
                if (m.extra or {}).get("as") == AS_MERGE_FIELD
            }
            ctx.cache["merge_fields"] = mc.merge_fields_ensure(wanted) if wanted else []
        members = [
            {k: v for k, v in p.payload.items() if not k.startswith("_") and k != "tags"}
            for p in pushes
        ]
        result = mc.upsert_members(members, existing=ctx.cache.get("existing"))
        previous = ctx.states(FLOW, [p.source_id for p in pushes])
        changes = []
        for push in pushes:
            email = push.source_id
            if email not in result.ok or email in result.failed:
                continue
            answered = result.info.get(email) or {}
            new = bool(answered.get("new"))
            push.payload["_status"] = told_status(
                push.payload["_known_status"], str(answered.get("status") or "")
            )
            tags = push.payload["tags"]
            before = previous.get(email)
            pushed = (before.last_pushed or {}).get("tags") if before else None
            if (tags["active"] or tags["inactive"]) and (new or pushed != tags):
                changes.append({"email_address": email, **tags})
        if changes:
            tagged = mc.update_member_tags(changes)
            result.failed.update(tagged.failed)
        return BatchResult(
            ok=[e for e in result.ok if e not in result.failed], failed=result.failed
        )

    def written_view(self, push: Push) -> dict:
        """In the consent flow's terms (mailchimp → brightpearl): the member's email and the
        status Brightpearl already knows it has. A member read back with that status is the
        console's own write coming back; one with another status has news for Brightpearl."""
        return {"email": push.target_id, "status": push.payload.get("_status", "")}

    def state_of(self, payload: dict) -> dict:
        return {
            "email": payload["email_address"],
            "contacts": payload["_contacts"],
            "merge_fields": payload["merge_fields"],
            "tags": payload["tags"],
            "status_if_new": payload["status_if_new"],
            **({"_maps": payload["_maps"]} if "_maps" in payload else {}),
        }

    def finish(self, ctx: FlowContext) -> None:
        flag_duplicates(ctx, ctx.cache.get("duplicates", {}), ctx.cache.get("single", set()))


def flag_duplicates(ctx: FlowContext, groups: dict[str, list[str]], single: set[str]) -> None:
    """One "duplicate contact" ticket per email that several Brightpearl contacts use,
    listing them; resolved once only one contact has it."""
    for email, ids in groups.items():
        ticket_raise(
            brand=ctx.brand_id,
            type_code="duplicate_contact",
            title=f"{len(ids)} Brightpearl contacts share the email {email}",
            flow=FLOW,
            source_system="email",
            source_id=email,
            snapshot={"email": email, "contact_ids": ids},
            error_message=f"Contacts {', '.join(ids)} all use {email}. Mailchimp has one "
            "member for them: its profile comes from the contact with the latest order, and "
            "its purchase totals add up all of theirs. Merge them in Brightpearl.",
        )
    if single:
        tickets_autoresolve(
            brand=ctx.brand_id,
            source_system="email",
            source_ids=sorted(single),
            type_codes=["duplicate_contact"],
            flow=FLOW,
            note="Only one Brightpearl contact uses this email now.",
        )

"""Accounts and contacts, Salesforce → Brightpearl: the way back of the accounts flow.

Read by polling (polling.py): the Accounts and the Contacts changed in the run's window, as
the Accounts they belong to; each Account is read with its Contact (the one holding the
Account's Brightpearl id, else its first), 200 Accounts a query. One Account and its Contact
are one Brightpearl customer, as the accounts flow sends them.

Which side owns which field (`FIELD_OWNERS`, also on the flow as `owners`):

- **Brightpearl owns** the Account's Name, Type, Phone, billing and shipping address, and the
  Contact's FirstName, LastName, Email, Phone and mailing address: a Salesforce edit of one is
  not written to Brightpearl. It is a conflict the owner wins: audited, and the accounts flow
  sends Brightpearl's values again.
- **Salesforce owns** the Contact's MobilePhone: written to the Brightpearl contact's MOB
  telephone (the accounts flow never sends it), and a customer sales make in Salesforce, as
  made: created in Brightpearl once with every field above, Brightpearl's from then on.

- **The Salesforce id is in the record link.** The Account's link (kind `account`) and the
  Brightpearl contact's share one entity: the accounts flow made it, or this flow did when it
  created the customer. The Brightpearl id then goes into the Account's and the Contact's
  external id field, so the accounts flow upserts the same records and makes no second ones.
- **Created once.** A new Account (no link) goes through the engine's safe-create protocol:
  a pending link first; Brightpearl searched by the Contact's e-mail before the create (the
  person may be a customer already: then linked, not created) and after a lost answer.
- **Echoes.** Salesforce stamps who last changed a record: an Account and Contact last
  modified by the integration user are the console's own writes (`stamped_echo`), not sent
  back. The Brightpearl contacts this flow writes are recorded on their links in the accounts
  flow's terms (`customer_view`), so that flow does not send them back either.
- **Account Type → customer group** by the brand's *Account types → customer groups* map, or
  *Customer groups → account types* read the other way when exactly one group has the type;
  otherwise the new customer waits with a ticket (never a guessed group).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from brands.audit import audit
from connectors.errors import AuthError, ConfigurationError, ConnectorError, RejectedError
from connectors.http import BatchResult, RecordError, chunks
from syncs import links
from syncs.flows.base import Flow, Push, Skip, Wait
from syncs.flows.reading import unique, when
from syncs.flows.salesforce.accounts import customer_view, with_addresses
from syncs.flows.salesforce.maps import ACCOUNTS, ACCOUNTS_IN, BP_CUSTOMER_GROUP, SF_ACCOUNT_TYPE
from syncs.flows.salesforce.polling import by_ids, changed, integration_user, watermarks_keep
from syncs.models import RecordLink
from syncs.valuemaps.quarantine import unmapped_wait, used

if TYPE_CHECKING:
    from syncs.engine import FlowContext

FLOW = ACCOUNTS_IN
ADDRESS = ("Street", "City", "State", "PostalCode", "Country")
ACCOUNT_FIELDS = (
    "Id",
    "Name",
    "Type",
    "Phone",
    *(f"Billing{f}" for f in ADDRESS),
    *(f"Shipping{f}" for f in ADDRESS),
    "LastModifiedById",
    "SystemModstamp",
)
CONTACT_FIELDS = (
    "Id",
    "AccountId",
    "FirstName",
    "LastName",
    "Email",
    "Phone",
    "MobilePhone",
    *(f"Mailing{f}" for f in ADDRESS),
    "CreatedDate",
    "LastModifiedById",
    "SystemModstamp",
)
# The documented rule: which system owns each field that travels (see the table above).
FIELD_OWNERS = {
    "Account Name, Type, Phone, billing and shipping address": "brightpearl",
    "Contact name, Email, Phone, mailing address": "brightpearl",
    "Contact MobilePhone (Brightpearl's MOB telephone)": "salesforce",
    "a customer made in Salesforce, as made": "salesforce",
}
MOBILE = "/communication/telephones/MOB"


def _text(value: Any) -> str:
    return str(value or "").strip()


class SalesforceAccountsInFlow(Flow):
    code = FLOW
    label = "Salesforce accounts → Brightpearl"
    description = (
        "Customers made in Salesforce created in Brightpearl once, and the field Salesforce "
        "owns (the mobile number) written back; the fields Brightpearl owns are not."
    )
    source = "salesforce"
    target = "brightpearl"
    kind = "account"
    target_kind = "contact"
    creates = True
    # The person may be a Brightpearl customer already (by e-mail): looked for before a create.
    lookup_first = True
    owners = FIELD_OWNERS
    noun = "accounts"
    batch_size = 200
    default_schedule_minutes = 15
    set_up_first = (
        "The accounts flow's Brightpearl id field on Account and Contact (the integration user "
        "may write it), and the Account Types sales use mapped to customer groups."
    )

    # --- the source side ----------------------------------------------------------------
    def read(self, ctx: FlowContext) -> Iterator[list[dict]]:
        sf = ctx.connector("salesforce")
        field = sf.external_id_field
        ids = unique(ctx.scope) if ctx.scope else self._polled(ctx)
        if ctx.scope:
            ctx.total_hint = len(ctx.scope)
        for batch in chunks(ids, self.batch_size):
            accounts = list(by_ids(sf, "Account", (*ACCOUNT_FIELDS, field), batch))
            found = {a["Id"] for a in accounts}
            ctx.missing.extend(i for i in batch if i not in found)
            contacts: dict[str, list[dict]] = {}
            for contact in by_ids(sf, "Contact", (*CONTACT_FIELDS, field), found, "AccountId"):
                contacts.setdefault(contact["AccountId"], []).append(contact)
            for account in accounts:
                account["_contact"] = _primary(account, contacts.get(account["Id"], []), field)
            self._linked(ctx, accounts)
            yield accounts

    def _polled(self, ctx: FlowContext) -> Iterator[str]:
        """The Accounts changed in the window, then those whose Contacts changed, then the
        ones that waited last time: each once."""
        sf = ctx.connector("salesforce")
        ids = (a["Id"] for a in changed(ctx, sf, "Account", ("Id",)))
        via = (c["AccountId"] for c in changed(ctx, sf, "Contact", ("Id", "AccountId")))
        yield from unique(i for i in (*ids, *via, *ctx.retry_ids) if i)

    def _linked(self, ctx: FlowContext, accounts: list[dict]) -> None:
        """The Brightpearl contact each Account is linked to (by their shared entity)."""
        source = links.links_resolve(
            brand_id=ctx.brand_id,
            kind="account",
            system="salesforce",
            ids=[a["Id"] for a in accounts],
        )
        bp = links.links_of_entities(
            brand_id=ctx.brand_id,
            kind="contact",
            system="brightpearl",
            entities=[link.entity for link in source.values()],
        )
        linked: dict[str, str] = ctx.cache.setdefault("linked", {})
        for account_id, link in source.items():
            other = bp.get(link.entity)
            if other is not None and other.external_id:
                linked[account_id] = other.external_id

    def source_id_of(self, record: Any) -> str:
        return str(record.get("Id", "unknown")) if isinstance(record, dict) else "unknown"

    def stamped_echo(self, ctx: FlowContext, account: dict) -> bool | None:
        ours = integration_user(ctx)
        if not ours:
            return None
        stamps = [account.get("LastModifiedById")]
        if account.get("_contact"):
            stamps.append(account["_contact"].get("LastModifiedById"))
        return all(stamp == ours for stamp in stamps)

    def transform(self, ctx: FlowContext, account: dict) -> Push | Wait | Skip:
        account_id = account["Id"]
        contact = account.get("_contact")
        updated = max(
            (
                t
                for t in (when(account.get("SystemModstamp")),)
                + ((when(contact.get("SystemModstamp")),) if contact else ())
                if t
            ),
            default=None,
        )
        if not contact:
            # A Brightpearl customer is a person: the account goes with its first contact.
            return Skip(account_id, "No contact on the account yet.")
        field = ctx.connector("salesforce").external_id_field
        bp_id = ctx.cache.get("linked", {}).get(account_id, "")
        mobile = _text(contact.get("MobilePhone"))
        email = _text(contact.get("Email")).lower()
        stamped = bool(bp_id) and _text(account.get(field)) == _text(contact.get(field)) == bp_id
        # Only what Salesforce owns is written to a Brightpearl customer (and the Brightpearl
        # id to the Salesforce records, where it is missing). A linked customer not stamped
        # yet (a create whose stamp failed) is sent again for it.
        payload: dict[str, Any] = {"mobile": mobile}
        if bp_id and not stamped:
            payload["stamp"] = True
        payload["_stamp"] = not stamped
        payload["_records"] = {"Account": account_id, "Contact": contact["Id"]}
        # Not linked, but the Account names its Brightpearl customer (an import, or the
        # accounts flow's record from before the link): that customer, never a new one.
        payload["_bp_id"] = bp_id or _text(account.get(field))
        if not payload["_bp_id"]:
            body = self._new_customer(ctx, account, contact, payload)
            if isinstance(body, Wait):
                body.source_updated = updated
                return body
            payload["_create"] = body
        return Push(
            source_id=account_id,
            payload=payload,
            natural_key=email,
            match_key=email,
            source_updated=updated,
        )

    def _new_customer(
        self, ctx: FlowContext, account: dict, contact: dict, payload: dict
    ) -> dict | Wait:
        """The Brightpearl contact POST for a customer made in Salesforce."""
        body: dict[str, Any] = {
            "firstName": _text(contact.get("FirstName")),
            "lastName": _text(contact.get("LastName")),
            "communication": {
                "emails": {"PRI": {"email": _text(contact.get("Email"))}}
                if contact.get("Email")
                else {},
                "telephones": {
                    k: v
                    for k, v in (
                        ("PRI", _text(contact.get("Phone") or account.get("Phone"))),
                        ("MOB", _text(contact.get("MobilePhone"))),
                    )
                    if v
                },
            },
            "relationshipToAccount": {"isCustomer": True},
        }
        if _text(account.get("Name")) and _text(account.get("Name")) != " ".join(
            p for p in (body["firstName"], body["lastName"]) if p
        ):
            body["organisation"] = {"name": _text(account["Name"])}
        kind = _text(account.get("Type"))
        if kind:
            group = account_group(ctx, kind)
            if group is None:
                return unmapped_wait(SF_ACCOUNT_TYPE.code, kind, source_id=account["Id"])
            body["customerGroup"] = {"id": int(group)}
            used(payload, SF_ACCOUNT_TYPE.code, kind)
        return body

    # --- the target side ----------------------------------------------------------------
    def lookup(self, ctx: FlowContext, pushes: list[Push]) -> dict[str, str]:
        """The Brightpearl customer with the Contact's e-mail (the oldest, if several)."""
        bp = ctx.connector("brightpearl")
        found = {}
        for push in pushes:
            if push.payload.get("_bp_id"):
                found[push.source_id] = str(push.payload["_bp_id"])
                continue
            ids = bp.contact_ids_by_email(push.natural_key) if push.natural_key else []
            if ids:
                found[push.source_id] = str(min(ids))
        return found

    def write(self, ctx: FlowContext, pushes: list[Push]) -> BatchResult:
        bp, sf = ctx.connector("brightpearl"), ctx.connector("salesforce")
        field = sf.external_id_field
        result = BatchResult()
        for push in pushes:
            try:
                if push.target_id:
                    bp_id = push.target_id
                    mobile = push.payload["mobile"]
                    op = {"op": "add", "path": MOBILE, "value": mobile}
                    bp.patch_contact(bp_id, [op if mobile else {"op": "remove", "path": MOBILE}])
                    result.ok.append(push.source_id)
                else:
                    bp_id = str(bp.create_contact(push.payload["_create"]))
                    result.created[push.source_id] = bp_id
                if push.payload.get("_stamp"):
                    for sobject, record_id in push.payload["_records"].items():
                        sf.update(sobject, record_id, {field: bp_id})
            except (AuthError, ConfigurationError):
                raise
            except RejectedError as exc:
                if push.source_id not in result.created:
                    result.failed[push.source_id] = RecordError(exc.code or "rejected", exc.plain)
            except ConnectorError as exc:
                if push.source_id not in result.created:
                    result.failed[push.source_id] = RecordError(
                        exc.code or exc.kind, str(exc), definite=False
                    )
                # Created, not yet stamped in Salesforce: the next run links it and stamps.
        self._written(ctx, pushes, result)
        return result

    def _written(self, ctx: FlowContext, pushes: list[Push], result: BatchResult) -> None:
        """The Brightpearl customers as they are now, in the accounts flow's terms: kept on
        their links, so that flow knows them for the console's own writes."""
        ids = {
            p.source_id: str(result.created.get(p.source_id) or p.target_id)
            for p in pushes
            if p.source_id in result.created or p.source_id in result.ok
        }
        if not ids:
            return
        bp = ctx.connector("brightpearl")
        now = {str(c["contactId"]): c for c in with_addresses(bp, list(bp.contacts(ids.values())))}
        conflicts = ctx.cache.get("conflicts", set())
        for push in pushes:
            contact = now.get(ids.get(push.source_id, ""))
            # Not for a customer whose Brightpearl values must go back (a conflict): recorded
            # as written, the accounts flow would take them for the console's own echo.
            if contact is not None and push.source_id not in conflicts:
                push.payload["_written"] = customer_view(contact)

    def written_view(self, push: Push) -> dict:
        return push.payload.get("_written") or {}

    def state_of(self, payload: dict) -> dict:
        return {"mobile": payload.get("mobile", ""), "_maps": payload.get("_maps", {})}

    def finish(self, ctx: FlowContext) -> None:
        watermarks_keep(ctx)  # everything read was handled: the watermarks move

    # --- conflicts ------------------------------------------------------------------------
    def diverged(self, ctx: FlowContext, account: dict, link: Any) -> None:
        """Someone changed in Salesforce an Account the accounts flow wrote. A field Brightpearl
        owns that differs from what the console wrote is a conflict the owner wins: audited,
        and the accounts flow sends Brightpearl's values again."""
        written = RecordLink.objects.filter(pk=link.pk).values_list("written", flat=True).first()
        if not written:
            return
        now = {"Account": account, "Contact": account.get("_contact") or {}}
        changed_fields = sorted(
            f"{sobject}.{name}"
            for sobject, values in written.items()
            if isinstance(values, dict)
            for name, value in values.items()
            if sobject in now and _text(now[sobject].get(name)) != _text(value)
        )
        if not changed_fields:
            return
        bp = links.links_of_entities(
            brand_id=ctx.brand_id, kind="contact", system="brightpearl", entities=[link.entity]
        ).get(link.entity)
        audit(
            "conflict.owner_wins",
            brand=ctx.brand_id,
            target=f"Salesforce Account {account['Id']}",
            summary=(
                f"{', '.join(changed_fields)} changed in Salesforce on Account {account['Id']}; "
                "Brightpearl owns these fields, so Brightpearl's values stand and go back."
            ),
            fields=changed_fields,
            owner="brightpearl",
            written=written,
        )
        ctx.cache.setdefault("conflicts", set()).add(account["Id"])
        if bp is not None and bp.external_id:
            accounts_resend(ctx, bp.external_id)


def _primary(account: dict, contacts: list[dict], field: str) -> dict | None:
    """The Account's Contact for its Brightpearl customer: the one holding the Account's
    Brightpearl id, else the first made."""
    if not contacts:
        return None
    mine = _text(account.get(field))
    if mine:
        for contact in contacts:
            if _text(contact.get(field)) == mine:
                return contact
    return min(contacts, key=lambda c: (_text(c.get("CreatedDate")), c["Id"]))


def account_group(ctx: FlowContext, account_type: str) -> str | None:
    """The customer group for an Account Type: the brand's own map, else the customer groups
    map read the other way when exactly one group has that type; None: not known."""
    mapped = ctx.mapped(SF_ACCOUNT_TYPE.code, account_type)
    if mapped is not None:
        return str(mapped)
    if "groups_by_type" not in ctx.cache:
        from syncs.models import ValueMap

        by_type: dict[str, list[str]] = {}
        for group, kind in ValueMap.objects.filter(
            brand_id=ctx.brand_id, kind=BP_CUSTOMER_GROUP.code
        ).values_list("source_value", "target_value"):
            by_type.setdefault(kind, []).append(group)
        ctx.cache["groups_by_type"] = by_type
    groups = ctx.cache["groups_by_type"].get(account_type, [])
    return groups[0] if len(groups) == 1 else None


def accounts_resend(ctx: FlowContext, contact_id: str) -> None:
    """Have the accounts flow send this Brightpearl customer to Salesforce again."""
    from syncs.models import FlowConfig, RecordState
    from syncs.services import flow_enqueue

    RecordState.objects.filter(brand_id=ctx.brand_id, flow=ACCOUNTS, source_id=contact_id).update(
        content_hash=""
    )
    if FlowConfig.objects.filter(brand_id=ctx.brand_id, flow=ACCOUNTS, enabled=True).exists():
        flow_enqueue(brand_id=ctx.brand_id, flow=ACCOUNTS, trigger="webhook", scope=[contact_id])

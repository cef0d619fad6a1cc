"""Consent: Mailchimp members → Brightpearl contact custom fields. Mailchimp is the master.

- **By webhook:** an `unsubscribe` or `cleaned` callback, or a `subscribe` one (a member
  who left and came back), (form-encoded, after the GET
  handshake: connectors/mailchimp/webhooks.py) is stored by email and drained into a scoped
  run of this flow, which reads the member itself (its status, `unsubscribe_reason` and
  `last_changed`) and writes them to every Brightpearl contact with that email: a JSON-Patch
  on `/contact-service/contact/{id}/custom-field`, `[{"op": "add", "path": "/PCF_…",
  "value": …}]` (vendors/README.md, Brightpearl: Contacts). Each write is audited.
- **By sweep:** the scheduled run reads the members changed since the last one
  (`since_last_changed`), so a lost webhook is caught within one schedule.
- **Only real changes:** what is written is the status and its reason; the time goes with
  them but is not compared, so a member the console touched (a merge field) whose consent is
  unchanged writes nothing. A subscribed (or pending, or transactional) member is news only
  after an unsubscribe this flow wrote: it is not written otherwise.
- **Never backwards:** this flow writes Brightpearl only; no Brightpearl-driven write ever
  sets a member's status (the contacts flow sends `status_if_new`, the purchases flow
  `opt_in_status: false`), so an unsubscribed or cleaned member stays so
  (tests/syncs/test_mailchimp_consent.py proves it over random sequences).

The custom fields are the Brightpearl connection's settings `consent_status_field`,
`consent_changed_field` and `consent_reason_field` (defaults below); they must exist in
Brightpearl as text fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from brands.audit import audit
from connectors.errors import ConnectorError
from connectors.http import BatchResult, RecordError, chunks
from syncs.flows.base import Flow, Push, Skip
from syncs.flows.reading import when

if TYPE_CHECKING:
    from syncs.engine import FlowContext

FLOW = "mailchimp_consent"
FIELDS = {
    "consent_status_field": "PCF_MCSTATUS",
    "consent_changed_field": "PCF_MCCHANGED",
    "consent_reason_field": "PCF_MCREASON",
}
NO_NEWS = ("subscribed", "pending", "transactional")
REASONS = {"cleaned": "The address bounced; Mailchimp cleaned it."}


def consent_fields(settings: dict[str, Any]) -> dict[str, str]:
    return {key: str(settings.get(key) or default) for key, default in FIELDS.items()}


class ConsentFlow(Flow):
    code = FLOW
    label = "Consent → Brightpearl"
    description = (
        "Unsubscribes and cleaned addresses in Mailchimp written to every Brightpearl contact "
        "with that email, with the time and the reason."
    )
    source = "mailchimp"
    target = "brightpearl"
    kind = "mailchimp_member"
    # What it writes is consent, which no flow reads back from Brightpearl (the contacts flow
    # never sends a status), so its writes cannot come back as echoes.
    target_kind = "mailchimp_consent"
    noun = "members"
    default_schedule_minutes = 15
    # Leaving is urgent (no campaign may reach them), and so is coming back: a member who
    # re-subscribes through a Mailchimp form must not stay "unsubscribed" in Brightpearl, or
    # an export from there would leave them out. The sweep catches any that are lost.
    webhook_events = ("subscribe", "unsubscribe", "cleaned")
    owners = {"status": "mailchimp"}
    set_up_first = (
        "In Brightpearl, three contact custom fields (text) for the consent: "
        + ", ".join(FIELDS.values())
        + " unless the connection names others."
    )

    def read(self, ctx: FlowContext) -> Iterator[list[dict]]:
        mc = ctx.connector("mailchimp")
        if ctx.scope:
            ctx.total_hint = len(ctx.scope)
            for batch in chunks(ctx.scope, self.batch_size):
                found = []
                for email in batch:
                    member = mc.member(email)
                    if member is None:
                        ctx.missing.append(email)
                    else:
                        found.append(member)
                yield found
            return
        since = None if ctx.full else ctx.since
        yield from chunks(mc.members_since(since), self.batch_size)

    def source_id_of(self, record: Any) -> str:
        return str(record.get("email_address", "unknown")).strip().lower()

    def echo_view(self, member: dict) -> dict:
        """In the contacts flow's terms (its written_view): email and status."""
        return {"email": self.source_id_of(member), "status": str(member.get("status", ""))}

    def transform(self, ctx: FlowContext, member: dict) -> Push | Skip:
        email = self.source_id_of(member)
        status = str(member.get("status", ""))
        if status in NO_NEWS:
            before = ctx.states(FLOW, [email]).get(email)
            if before is None or not before.last_pushed:
                return Skip(email, f"{status.title()}, and never unsubscribed: nothing to tell.")
        reason = str(member.get("unsubscribe_reason") or REASONS.get(status, ""))
        return Push(
            source_id=email,
            payload={"status": status, "reason": reason, "_changed": member.get("last_changed")},
            target_id=email,
            source_updated=when(member.get("last_changed")),
            match_key=email,
        )

    def write(self, ctx: FlowContext, pushes: list[Push]) -> BatchResult:
        bp = ctx.connector("brightpearl")
        names = consent_fields(bp.settings)
        result = BatchResult()
        for push in pushes:
            email = push.source_id
            values = {
                names["consent_status_field"]: push.payload["status"],
                names["consent_changed_field"]: str(push.payload["_changed"] or ""),
                names["consent_reason_field"]: push.payload["reason"],
            }
            try:
                # Every contact with the email, looked up now: one added since is not missed.
                contact_ids = bp.contact_ids_by_email(email)
                for contact_id in contact_ids:
                    bp.set_custom_fields(contact_id, values)
            except ConnectorError as exc:
                if exc.retryable:
                    raise
                said = exc.plain() if callable(exc.plain) else exc.plain
                result.failed[email] = RecordError(exc.code or exc.kind, str(said))
                continue
            audit(
                "consent.written",
                brand=ctx.brand_id,
                target=email,
                summary=f"Mailchimp consent “{push.payload['status']}” written to "
                f"{len(contact_ids)} Brightpearl contact(s)",
                contacts=[str(c) for c in contact_ids],
                status=push.payload["status"],
                reason=push.payload["reason"],
                changed=str(push.payload["_changed"] or ""),
                run=ctx.run.pk,
            )
            result.ok.append(email)
        return result

    def state_of(self, payload: dict) -> dict:
        return {"status": payload["status"], "reason": payload["reason"]}

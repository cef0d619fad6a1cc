"""What a flow is: where it reads, how it transforms one record, where it writes.

The engine (syncs/engine.py) does everything else: cursors, batching, change detection,
record state, tickets and the run's counts. A flow never touches those.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from connectors.http import BatchResult

if TYPE_CHECKING:
    from syncs.engine import FlowContext


@dataclass
class Push:
    """Send this payload for this source record."""

    source_id: str
    payload: dict
    # The target record's id; empty for a flow that creates, where the engine fills it in
    # (from the record's link) or leaves it empty: create it.
    target_id: str = ""
    source_updated: datetime | None = None
    match_key: str = ""
    # What the target can be searched by if a create's answer is lost (an order's external
    # ref, a contact's email): the engine looks before it creates again.
    natural_key: str = ""
    # Set by the engine: the entity the source record belongs to (its record link's).
    entity: str = ""
    # Also record this state under another flow's record (flow, source id, match key, and
    # optionally that record's own update time): a refund pushes the whole order, so the
    # order flow must know that version went out.
    also_state: tuple[str, str, str] | tuple[str, str, str, datetime | None] | None = None


@dataclass
class Wait:
    """Do not send: a mapping or some data is missing. The record waits with a ticket."""

    source_id: str
    reason: str
    ticket: TicketSpec | None = None
    source_updated: datetime | None = None
    match_key: str = ""
    # Not waiting on a mapping but broken (the record could not be read): counted as failed,
    # and not read again until it changes or its ticket is retried.
    failed: bool = False


@dataclass
class Skip:
    """Nothing to send for this record, and nothing wrong (a note not shipped yet)."""

    source_id: str
    reason: str = ""


@dataclass
class TicketSpec:
    type_code: str
    title: str
    source_id: str
    source_system: str = "brightpearl"
    source_url: str = ""
    snapshot: dict[str, Any] = field(default_factory=dict)
    error_code: str = ""
    error_message: str = ""


Outcome = Push | Wait | Skip


def public(payload: dict) -> dict:
    """A payload without the keys a flow keeps for itself (those start with an underscore)."""
    return {k: v for k, v in payload.items() if not k.startswith("_")}


class Flow:
    code: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str]
    source: ClassVar[str] = "brightpearl"
    target: ClassVar[str]
    # The kind of entity it reads (order, contact, credit, shipment…), for its record links,
    # and the kind it writes when that differs (a refund writes its order).
    kind: ClassVar[str] = ""
    target_kind: ClassVar[str] = ""
    # The target record may not exist yet: the engine's safe-create protocol applies (a
    # pending link before the create, a look-up by natural key after a lost answer).
    creates: ClassVar[bool] = False
    # For a flow that creates: whether a record already in the target is updated (False: it
    # was posted once and belongs to the target from then on), and whether the target is
    # searched by natural key before every create, not only after a lost answer (the record
    # may have been made there by someone else: an order posted before the go-live).
    updates: ClassVar[bool] = True
    lookup_first: ClassVar[bool] = False
    # Each field that travels both ways has one owner system, for the flow's docs and its
    # conflicts: {"field": "system that owns it"}.
    owners: ClassVar[dict[str, str]] = {}
    # What the records are, for messages: "orders", "contacts"…
    noun: ClassVar[str] = "records"
    default_schedule_minutes: ClassVar[int] = 15
    # Brightpearl webhook events that should trigger this flow for the ids they carry.
    webhook_events: ClassVar[tuple[str, ...]] = ()
    # A one-off notification: once the target has it, it is never sent again. Such a flow's
    # writes go (and are acknowledged) one request of `request_size` records at a time.
    once: ClassVar[bool] = False
    request_size: ClassVar[int] = 100
    # Whether batch N may still be in flight to the target while batch N+1 is read and
    # transformed. Not for a flow whose transform reads states the previous batch writes.
    overlap_batches: ClassVar[bool] = False
    # Flows in one lock group write the same target records, so their reading runs take
    # turns (scoped webhook runs still go at once: they are small and urgent).
    lock_group: ClassVar[str] = ""
    batch_size: ClassVar[int] = 200
    # What must be set up at the target before the flow is switched on and that no API can
    # check, in plain English (onboarding shows it and asks for it to be confirmed).
    set_up_first: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A flow that names no kind links its records under its own code: never mixed up
        # with another flow's ids.
        if not cls.kind and getattr(cls, "code", ""):
            cls.kind = cls.code

    def read(self, ctx: FlowContext) -> Iterator[list[Any]]:
        """Batches of full source records, for the run's mode (ctx.scope, ctx.full, ctx.since)."""
        raise NotImplementedError

    def transform(self, ctx: FlowContext, record: Any) -> Outcome:
        raise NotImplementedError

    def write(self, ctx: FlowContext, pushes: list[Push]) -> BatchResult:
        """Send the pushes; the result is keyed by source id."""
        raise NotImplementedError

    def lookup(self, ctx: FlowContext, pushes: list[Push]) -> dict[str, str]:
        """Creates whose answer was lost: find each in the target by its natural key.
        Returns {source id: target id} for those that exist. Only for flows that create."""
        raise NotImplementedError(f"{self.code} creates records but cannot look them up")

    def written_view(self, push: Push) -> dict:
        """What this write sets in the target record, in the target system's own terms: kept
        on the target's link, and compared with `echo_view` when that record comes back."""
        return self.state_of(push.payload)

    def echo_view(self, record: Any) -> dict | None:
        """The fields of a source record this flow carries, in the same terms as the
        `written_view` of the flows that write into this source: equal means the change is
        the console's own, coming back. None: this flow never checks."""
        return None

    def stamped_echo(self, ctx: FlowContext, record: Any) -> bool | None:
        """Where the source stamps who last changed a record (Salesforce's LastModifiedById):
        True, the console's own write coming back; False, someone else's change; None, the
        record does not say (the engine then compares `echo_view` with the link's hash)."""
        return None

    def diverged(self, ctx: FlowContext, record: Any, link: Any) -> None:
        """A source record the console wrote has changed there since (not an echo): a
        flow whose fields have an owner elsewhere settles the conflict here (and audits it)."""

    def source_id_of(self, record: Any) -> str:
        """The source id of a raw record, for a ticket when the transform fails on it."""
        if isinstance(record, dict):
            for key in ("id", "contactId", "orderId"):
                if record.get(key) is not None:
                    return str(record[key])
        return "unknown"

    def state_of(self, payload: dict) -> dict:
        """The part of a payload worth keeping as the record's last pushed state."""
        return payload

    def refusal(self, ctx: FlowContext, push: Push, failure: Any) -> TicketSpec | None:
        """The ticket for a record the target refused (failure: a RecordError); None: the
        engine's own, rejected_by_target. A flow whose refusals mean something particular
        to its owners (a stock level for operations) words its own; a connector's read-back
        that names a ticket type of its own (a Salesforce id matching several records: a
        duplicate for ops to settle, never a guess) gets it here."""
        if getattr(failure, "ticket_type", ""):
            return TicketSpec(
                type_code=failure.ticket_type,
                title=failure.message,
                source_id=push.source_id,
                source_system=self.source,
                snapshot=failure.snapshot or {},
                error_code=failure.code,
                error_message=failure.message,
            )
        return None

    def finish(self, ctx: FlowContext) -> None:
        """After the last batch: raise or resolve tickets that span the whole run."""

"""Flows per brand, their runs, what each record last looked like, the webhook inbox, mappings."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from brands.models import Brand
from connectors.models import Connection


class FlowConfig(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="flow_configs")
    flow = models.CharField(max_length=40, help_text="Which flow (see the flow registry).")
    enabled = models.BooleanField("switched on", default=False)
    schedule_minutes = models.PositiveIntegerField(
        "runs every (minutes)", default=15, help_text="0 runs it only on webhooks and by hand."
    )
    # Everything changed before the cursor has been read. Each run reads from the cursor
    # minus the look-back, because Brightpearl can stamp `updatedOn` late.
    cursor = models.DateTimeField(null=True, blank=True)
    lookback_minutes = models.PositiveIntegerField("look-back (minutes)", default=15)
    schedule = models.OneToOneField(
        "django_q.Schedule", null=True, blank=True, on_delete=models.SET_NULL, editable=False
    )
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "flow"], name="one_config_per_flow")
        ]
        ordering = ["brand__name", "flow"]
        verbose_name = "flow"

    def __str__(self) -> str:
        from syncs.flows import flow_label

        return f"{self.brand} · {flow_label(self.flow)}"


class Trigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    WEBHOOK = "webhook", "Webhook"
    MANUAL = "manual", "Manual"
    RETRY = "retry", "Retry"


class RunState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Finished with exceptions"
    FAILED = "failed", "Failed"


class SyncRun(models.Model):
    """The status table: one row per run, with its counts and a short log."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="sync_runs")
    flow = models.CharField(max_length=40)
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    full = models.BooleanField(default=False, help_text="Reads every record, not just changes.")
    # A webhook or retry run syncs exactly these source ids.
    scope = models.JSONField(default=list, blank=True)
    ticket_id = models.BigIntegerField(
        null=True, blank=True, help_text="The ticket a retry is for."
    )
    state = models.CharField(max_length=10, choices=RunState.choices, default=RunState.QUEUED)
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A running run touches this as it goes; a stale one can be taken over.
    heartbeat = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    read = models.PositiveIntegerField(default=0)
    written = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    waiting = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0, help_text="Records created in the target.")
    echoes = models.PositiveIntegerField(
        default=0, help_text="Changes the console itself wrote, seen coming back and not sent."
    )
    resent = models.PositiveIntegerField(
        default=0, help_text="Sends repeated because a stopped worker left their outcome unknown."
    )
    # A one-off notification's batch on its way, its answer not recorded yet: if the worker
    # stops now, these (and only these) go again, and are counted as resent.
    in_flight = models.JSONField(default=list, blank=True, editable=False)
    api_calls = models.PositiveIntegerField("API calls", default=0)
    throttle_waits = models.PositiveIntegerField(default=0)
    # How many records the run has to read in all, when the source says (a search's total):
    # "12,400 of 100,000 orders".
    total = models.PositiveIntegerField(null=True, blank=True)
    # A bulk run gives its worker back every few seconds (syncs/slices.py). What it still has
    # to read waits here for its next slice: the ids left, and the moment the run's read
    # started, which becomes the flow's cursor when the last slice ends.
    resume = models.JSONField(default=dict, blank=True, editable=False)
    slices = models.PositiveIntegerField(default=0, help_text="Turns the run took on a worker.")
    stale = models.PositiveIntegerField(
        default=0,
        help_text="Records not sent because a newer read of them had been sent already.",
    )
    # A run that failed because a system refused its credentials or settings: it goes again
    # by itself once that connection is changed or works again (syncs/recovery.py).
    blocked_on = models.CharField(max_length=20, blank=True, editable=False)
    error = models.TextField(blank=True, help_text="Why the run failed, in plain English.")
    log = models.TextField(blank=True)

    class Meta:
        ordering = ["-queued_at", "-pk"]
        indexes = [
            models.Index(fields=["brand", "flow", "-queued_at"], name="run_latest"),
            models.Index(fields=["state", "heartbeat"], name="run_state"),
            # Runs finished since a moment: the history's minute job (syncs/history/hours.py).
            models.Index(fields=["finished_at"], name="run_finished"),
        ]
        verbose_name = "sync run"

    def __str__(self) -> str:
        return f"Run {self.pk} {self.flow} ({self.get_state_display()})"

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class RecordLink(models.Model):
    """One record of one system, tied to the same entity's records in the other systems.

    Rows that share `entity` are one customer, order or shipment seen from each system (the
    entity key is the first system and id the console met it by, e.g. "order:bigcommerce:120").
    A link also remembers what the console last wrote into its record (echo suppression), and
    a create still in flight (`external_id` empty, `create_key` and `natural_key` set): the
    next attempt looks the record up by its natural key before creating it again.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="record_links")
    kind = models.CharField(max_length=20, help_text="order, contact, shipment, credit…")
    system = models.CharField(max_length=20)
    # Null (not blank) while the create is in flight: unique constraints let nulls repeat, so
    # one plain unique index serves both the constraint and every look-up by id.
    external_id = models.CharField(
        max_length=120, null=True, blank=True, help_text="Its id there; empty while it is created."
    )
    entity = models.CharField(max_length=160)
    # A create in flight: its idempotency key (the flow and the source record) and the value
    # the target can be searched by (an order's external ref, a contact's email).
    create_key = models.CharField(max_length=160, null=True, blank=True)
    natural_key = models.CharField(max_length=254, blank=True)
    create_started = models.DateTimeField(null=True, blank=True)
    # What the console last wrote into this record, and which flow wrote it.
    written_hash = models.CharField(max_length=64, blank=True)
    written = models.JSONField(default=dict, blank=True)
    written_at = models.DateTimeField(null=True, blank=True)
    written_by = models.CharField(max_length=40, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "kind", "system", "external_id"], name="one_link_per_record"
            ),
            # Only creates in flight have a key: the index holds just those.
            models.UniqueConstraint(
                fields=["brand", "kind", "system", "create_key"],
                condition=models.Q(create_key__isnull=False),
                name="one_create_per_key",
            ),
        ]
        indexes = [
            # From one side to the other: every link of an entity (the find-a-record page),
            # and an entity's link in one system (the engine, a batch of entities at a time).
            models.Index(fields=["brand", "entity", "kind", "system"], name="link_entity"),
        ]
        verbose_name = "record link"

    def __str__(self) -> str:
        return f"{self.kind} {self.system}:{self.external_id or '(being created)'}"

    @property
    def pending(self) -> bool:
        return not self.external_id


class RecordStatus(models.TextChoices):
    SYNCED = "synced", "Synced"
    WAITING = "waiting", "Waiting (mapping or data missing)"
    FAILED = "failed", "Failed"


class RecordState(models.Model):
    """What the console last pushed for one source record, so nothing is pushed twice."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="record_states")
    flow = models.CharField(max_length=40)
    source_id = models.CharField(max_length=64)
    # The source record's link: its ids in every system, and what was written to them.
    # Not indexed: states are found by (brand, flow, source id); an index here would cost
    # every state written on the hot path, for a look-up nothing makes. A state goes with its
    # link (SET_NULL would update every state of a deleted brand in one statement, past
    # SQLite's limit on parameters).
    link = models.ForeignKey(
        RecordLink,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="states",
        db_index=False,
    )
    status = models.CharField(max_length=10, choices=RecordStatus.choices)
    content_hash = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=120, blank=True)
    last_pushed = models.JSONField(
        default=dict, blank=True, help_text="The state the target acknowledged."
    )
    # A value to find look-alikes by (a contact's lowercased email; an order's status id).
    match_key = models.CharField(max_length=254, blank=True)
    detail = models.CharField(max_length=300, blank=True, help_text="Why it waits or failed.")
    source_updated = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    # How long a change has been held back is measured from here, not from its source date:
    # a two-year-old order that waits for a mapping has waited since the console read it.
    held_since = models.DateTimeField(
        null=True, blank=True, help_text="When it first waited or failed; empty once it syncs."
    )
    # The newest read of the record that a run has sent or is sending (syncs/freshness.py):
    # its source change time, then when it was read, as fixed-width digits. An older read is
    # never sent over it. The run sending it now holds the record until `sending_until`.
    version = models.CharField(max_length=40, blank=True, db_default="", editable=False)
    sending_run = models.BigIntegerField(null=True, blank=True, editable=False)
    sending_until = models.DateTimeField(null=True, blank=True, editable=False)
    changed = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "flow", "source_id"], name="one_state_per_record"
            )
        ]
        indexes = [
            models.Index(fields=["brand", "flow", "status"], name="record_status"),
            models.Index(fields=["brand", "flow", "match_key"], name="record_match"),
            # The few records being written right now (a heartbeat renews their claims).
            models.Index(
                fields=["sending_run"],
                condition=models.Q(sending_run__isnull=False),
                name="record_sending",
            ),
        ]
        verbose_name = "record state"

    def __str__(self) -> str:
        return f"{self.flow} {self.source_id}: {self.status}"


class InboxState(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSING = "processing", "Processing"
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Ignored"


class WebhookEvent(models.Model):
    """An inbound webhook, stored before anything else happens, so none is lost."""

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="webhook_events"
    )
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="webhook_events")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The vendor delivers at least once: the same body twice is one event.
    dedupe_key = models.CharField(max_length=64, unique=True)
    event = models.CharField(max_length=120, help_text="The vendor's event name.")
    resource_ids = models.JSONField(default=list)
    body = models.JSONField(default=dict)
    state = models.CharField(max_length=12, choices=InboxState.choices, default=InboxState.RECEIVED)
    processed_at = models.DateTimeField(null=True, blank=True)
    runs = models.JSONField(default=list, blank=True, help_text="The runs it started.")

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["connection", "state"], name="inbox_pending")]
        verbose_name = "webhook event"

    def __str__(self) -> str:
        return f"{self.event} {self.resource_ids[:5]}"


class Checkpoint(models.Model):
    """A small remembered value per brand, such as which vendor errors were already read."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="checkpoints")
    name = models.CharField(max_length=60)
    value = models.JSONField(default=dict, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "name"], name="one_checkpoint_per_name")
        ]

    def __str__(self) -> str:
        return f"{self.brand} · {self.name}"


# --- mappings --------------------------------------------------------------------------
class OmetriaOrderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    COMPLETE = "complete", "Complete"
    SHIPPED = "shipped", "Shipped"
    CANCELLED = "cancelled", "Cancelled"


class LifecycleStage(models.TextChoices):
    PLACED = "placed", "Placed"
    AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
    PROCESSING = "processing", "Processing"
    ON_HOLD = "on_hold", "On hold"
    PARTIALLY_SHIPPED = "partially_shipped", "Partially shipped"
    SHIPPED = "shipped", "Shipped"
    COMPLETED = "completed", "Completed"
    RETURNED = "returned", "Returned"
    CANCELLED = "cancelled", "Cancelled"


class StatusMapping(models.Model):
    """Brightpearl order status → Ometria order status and lifecycle stage, per brand."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="status_mappings")
    bp_status_id = models.PositiveIntegerField("Brightpearl status id")
    bp_status_name = models.CharField("Brightpearl status", max_length=120)
    ometria_status = models.CharField(max_length=20, choices=OmetriaOrderStatus.choices)
    lifecycle_stage = models.CharField(max_length=30, choices=LifecycleStage.choices)
    updated = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "bp_status_id"], name="one_mapping_per_status")
        ]
        ordering = ["brand__name", "bp_status_name"]
        verbose_name = "order status mapping"

    def __str__(self) -> str:
        return f"{self.bp_status_name} → {self.ometria_status} / {self.lifecycle_stage}"

    @property
    def cancels(self) -> bool:
        """Cancelled, fraud and the like: sent as cancelled and not valid, never as a sale."""
        return (
            self.ometria_status == OmetriaOrderStatus.CANCELLED
            or self.lifecycle_stage == LifecycleStage.CANCELLED
        )


class AttributeSource(models.TextChoices):
    TAG = "tag", "Contact tag"
    CUSTOM_FIELD = "custom_field", "Contact custom field"
    FIELD = "field", "Contact field"


class AttributeMapping(models.Model):
    """A Brightpearl tag or field that becomes an Ometria contact attribute.

    Only mapped values travel; everything else stays in Brightpearl.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="attribute_mappings")
    source = models.CharField(max_length=20, choices=AttributeSource.choices)
    source_name = models.CharField(
        max_length=120,
        help_text="The tag's name, the custom field's code (PCF_…), or the field's name.",
    )
    ometria_attribute = models.CharField(max_length=80, help_text="The property name in Ometria.")
    value = models.CharField(
        max_length=120,
        blank=True,
        help_text="For a tag: the value to send when the contact has it (empty sends true).",
    )
    absent_value = models.CharField(
        "value when absent",
        max_length=120,
        blank=True,
        help_text="For a tag: the value to send when the contact does not have it (for example "
        "“retail” beside a Wholesale tag). Empty clears the attribute in Ometria.",
    )
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "source", "source_name"], name="one_mapping_per_source"
            )
        ]
        ordering = ["brand__name", "ometria_attribute", "source_name"]
        verbose_name = "attribute mapping"

    def __str__(self) -> str:
        return f"{self.get_source_display()} “{self.source_name}” → {self.ometria_attribute}"


class DefaultStatusMapping(models.Model):
    """The agency's template: a new brand's statuses are mapped from it by name."""

    bp_status_name = models.CharField("Brightpearl status name", max_length=120, unique=True)
    ometria_status = models.CharField(max_length=20, choices=OmetriaOrderStatus.choices)
    lifecycle_stage = models.CharField(max_length=30, choices=LifecycleStage.choices)

    class Meta:
        ordering = ["bp_status_name"]
        verbose_name = "default status mapping"

    def __str__(self) -> str:
        return f"{self.bp_status_name} → {self.ometria_status} / {self.lifecycle_stage}"


# --- mapping history ---------------------------------------------------------------------
class MappingKind(models.TextChoices):
    STATUS = "status", "Order status"
    ATTRIBUTE = "attribute", "Contact attribute"


class ChangeVia(models.TextChoices):
    CONSOLE = "console", "Mappings page"
    REVERT = "revert", "Revert from the history"
    IMPORT = "import", "Import in the admin"
    ADMIN = "admin", "Agency admin"
    TEMPLATE = "template", "Default template"
    ONBOARDING = "onboarding", "Onboarding"
    COMMAND = "command", "Command"


class MappingChange(models.Model):
    """One change to one mapping: who, when, through what, and from what to what.

    `before` and `after` hold the mapping's values (None: not mapped). A revert is a change
    like any other, pointing at the change it undoes.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="mapping_changes")
    # "status", "attribute" (MappingKind), or the code of a kind of value map.
    kind = models.CharField(max_length=60)
    # The status id, "tag:VIP" / "custom_field:PCF_LOYALTY" for an attribute mapping, or
    # the source value of a value map.
    key = models.CharField(max_length=160)
    label = models.CharField(max_length=200, help_text="What was mapped, in words.")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text="Empty when the console itself changed it (the template, a command).",
    )
    via = models.CharField(max_length=12, choices=ChangeVia.choices)
    note = models.TextField(blank=True, help_text="Why, and what followed (a ticket resolved).")
    reverts = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reverted_by"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["brand", "kind", "-created"], name="mapping_history")]
        verbose_name = "mapping change"

    def __str__(self) -> str:
        return f"{self.label}: {self.before} → {self.after}"

    @property
    def kind_label(self) -> str:
        """What was mapped, in words: “Order status”, “Payment methods”."""
        if self.kind in MappingKind.values:
            return MappingKind(self.kind).label
        from syncs.valuemaps.registry import kinds

        kind = kinds().get(self.kind)
        return kind.label if kind else self.kind


# The one table of value maps, the history's tables and the Ometria push log live in modules
# of their own; imported here so they are this app's.
from syncs.history.models import DriftCheck, FlowHour, HistoryMark  # noqa: E402, F401
from syncs.pushlog import OmetriaPush  # noqa: E402, F401
from syncs.valuemaps.models import ValueMap  # noqa: E402, F401
from syncs.watermarks import PollWatermark  # noqa: E402, F401

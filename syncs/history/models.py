"""The history tables (imported by syncs.models, so they are the syncs app's)."""

from __future__ import annotations

from django.db import models

from brands.models import Brand


class FlowHour(models.Model):
    """One brand's flow in one hour (UTC): what its runs did, how far behind it was, and
    the tickets opened and closed. The charts and the silence check read this table, never
    the runs: 30 days of one flow is at most 720 rows however many runs it had.

    A run counts in the hour it finished. `flow` is empty for tickets that name no flow
    (a connection refused)."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="flow_hours")
    flow = models.CharField(max_length=40, blank=True)
    hour = models.DateTimeField(help_text="The start of the hour, in UTC.")
    runs = models.PositiveIntegerField(default=0)
    read = models.PositiveIntegerField(default=0)
    written = models.PositiveIntegerField(default=0)
    waiting = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    api_calls = models.PositiveIntegerField("API calls", default=0)
    throttle_waits = models.PositiveIntegerField(default=0)
    # The longest the oldest unsynced change had waited, sampled each minute; empty when the
    # flow was not switched on (or never ran) in that hour.
    lag_seconds_max = models.PositiveIntegerField(null=True, blank=True)
    tickets_opened = models.PositiveIntegerField(default=0, help_text="Raised or reopened.")
    tickets_closed = models.PositiveIntegerField(
        default=0, help_text="Resolved (by a person or by itself) or ignored."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "flow", "hour"], name="one_row_per_flow_hour")
        ]
        indexes = [models.Index(fields=["brand", "hour"], name="flow_hour_brand")]
        verbose_name = "flow hour"

    def __str__(self) -> str:
        return f"{self.brand_id} {self.flow or '(brand)'} {self.hour:%Y-%m-%d %H:00}"


class DriftCheck(models.Model):
    """What one daily reconciliation (a full scheduled run) found: how many records it
    compared, how many it had to correct although nothing had said they changed, and which.

    See syncs/history/drift.py for the definition."""

    run = models.OneToOneField(
        "syncs.SyncRun", on_delete=models.CASCADE, related_name="drift_check"
    )
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="drift_checks")
    flow = models.CharField(max_length=40)
    target = models.CharField(max_length=20, help_text="The system the flow writes to.")
    checked_at = models.DateTimeField(help_text="When the reconciliation finished.")
    compared = models.PositiveIntegerField(default=0, help_text="Records it read and compared.")
    sent = models.PositiveIntegerField(default=0, help_text="Records it wrote, for any reason.")
    drifted = models.PositiveIntegerField(
        default=0, help_text="Records it corrected although nothing had said they changed."
    )
    ids = models.JSONField(default=list, blank=True, help_text="The first of them, by id.")
    # Its first load: nothing had been sent before, so nothing could differ yet.
    first_load = models.BooleanField(default=False)
    # Mapping changes since the flow's previous run: records sent under an old mapping
    # differ too, and the ticket says so.
    mapping_changes = models.PositiveIntegerField(default=0)
    ticket_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-checked_at", "-pk"]
        indexes = [models.Index(fields=["brand", "flow", "-checked_at"], name="drift_latest")]
        verbose_name = "drift check"

    def __str__(self) -> str:
        return f"Run {self.run_id}: {self.drifted} of {self.compared} differed"


class HistoryMark(models.Model):
    """How far the minute job has read one source (runs, ticket events, the silence check),
    so each minute reads only what is new. One row per name."""

    name = models.CharField(max_length=40, unique=True)
    at = models.DateTimeField(null=True, blank=True)
    last_id = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "history mark"

    def __str__(self) -> str:
        return f"{self.name}: {self.at} / {self.last_id}"

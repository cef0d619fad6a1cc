"""A brand's connection to one vendor: where it is, how to sign in, and how healthy it is."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from django.db import models

from brands.models import Brand
from connectors import crypto


class System(models.TextChoices):
    BRIGHTPEARL = "brightpearl", "Brightpearl"
    OMETRIA = "ometria", "Ometria"
    MAILCHIMP = "mailchimp", "Mailchimp"
    BIGCOMMERCE = "bigcommerce", "BigCommerce"
    SALESFORCE = "salesforce", "Salesforce"


class Health(models.TextChoices):
    UNTESTED = "untested", "Not tested yet"
    OK = "ok", "Working"
    FAILING = "failing", "Failing"


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(24)


class Connection(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="connections")
    system = models.CharField(max_length=20, choices=System.choices)
    base_url = models.URLField(
        "base URL",
        max_length=300,
        help_text="The vendor's API address, without the path of any one call.",
    )
    # Ciphertext only. Read and write through `.credentials`, never this field.
    credentials_token = models.TextField(db_column="credentials", blank=True, editable=False)
    settings = models.JSONField(
        default=dict,
        blank=True,
        help_text="Values that are not secret, such as the Brightpearl account code "
        "or the Mailchimp list id.",
    )
    status = models.CharField(max_length=12, choices=Health.choices, default=Health.UNTESTED)
    last_checked = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, help_text="The last failure, in plain English.")
    # For the overview: when a call last worked, and the last failure of any kind (a refusal
    # or a vendor that did not answer), kept after the connection heals so that "last error"
    # still says what happened and when.
    last_ok = models.DateTimeField("last worked", null=True, blank=True, editable=False)
    last_failure = models.TextField(blank=True, editable=False)
    last_failure_at = models.DateTimeField(null=True, blank=True, editable=False)
    webhook_secret = models.CharField(
        max_length=64,
        unique=True,
        default=new_webhook_secret,
        editable=False,
        help_text="The secret part of the URL this vendor calls us back on.",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "system"], name="one_connection_per_system")
        ]
        ordering = ["brand__name", "system"]

    def __str__(self) -> str:
        return f"{self.brand} → {self.get_system_display()}"

    def __repr__(self) -> str:
        # Never the credentials, even encrypted.
        return f"<Connection {self.pk} {self.brand_id}:{self.system}>"

    @property
    def credentials(self) -> crypto.Secrets:
        """The decrypted credentials. Raises CredentialKeyError if no key fits."""
        return crypto.decrypt(self.credentials_token)

    @credentials.setter
    def credentials(self, values: Mapping[str, Any]) -> None:
        self.credentials_token = crypto.encrypt(values) if values else ""

    @property
    def has_credentials(self) -> bool:
        return bool(self.credentials_token)


class RateBudget(models.Model):
    """One API budget per brand and vendor, shared by every process and worker.

    It lives in the database (not in memory) because the web server, the scheduler and
    every cluster worker on every machine spend from the same vendor allowance.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="rate_budgets")
    system = models.CharField(max_length=20, choices=System.choices)
    limit = models.PositiveIntegerField(help_text="Requests allowed per window.")
    window_seconds = models.FloatField()
    remaining = models.IntegerField()
    # Epoch seconds: plain floats, so every process compares the same numbers.
    resets_at = models.FloatField(default=0)
    concurrency = models.PositiveIntegerField(
        default=0, help_text="Most requests in flight at once; 0 means no cap."
    )
    # Requests sent whose answer has not come back: the vendor's count does not have them yet.
    in_flight = models.PositiveIntegerField(default=0)
    requests = models.PositiveBigIntegerField(default=0)
    throttle_waits = models.PositiveBigIntegerField(default=0)
    # Epoch seconds: until then, an event (priority work) is waiting for a unit, and bulk
    # work takes none, so the waiting events get the next units first. A waiting event
    # renews it every few seconds; one that dies lets it lapse on its own.
    events_wanted_until = models.FloatField(default=0)
    # Epoch seconds: the last take for an event. While events are about, bulk work paces
    # itself through each window so that events find units left at any moment.
    events_at = models.FloatField(default=0)
    # The takes of the five minutes under way (from `usage_period`, epoch seconds), for events
    # and for bulk work: counted here, in the row each take writes anyway, and moved to a
    # BudgetUsage row when the next five minutes begin (connectors/usage.py).
    usage_period = models.FloatField(default=0)
    usage_events = models.PositiveIntegerField(default=0)
    usage_bulk = models.PositiveIntegerField(default=0)
    # Epoch seconds: the last time the vendor itself refused a call as too many (its 429 or
    # its own throttle answer), as opposed to our own pacing. The overview's "throttling".
    throttled_at = models.FloatField(default=0)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "system"], name="one_budget_per_system")
        ]
        verbose_name = "API budget"

    def __str__(self) -> str:
        return f"{self.brand} · {self.get_system_display()}: {self.remaining}/{self.limit}"


class BudgetLease(models.Model):
    """A request in flight against a vendor that caps concurrency (Mailchimp)."""

    budget = models.ForeignKey(RateBudget, on_delete=models.CASCADE, related_name="leases")
    # A worker killed mid-request never releases its lease; it lapses at this time.
    expires_at = models.FloatField()

    def __str__(self) -> str:
        return f"lease {self.pk} on {self.budget_id}"


class BudgetUsage(models.Model):
    """How many of a brand's requests to one vendor went to events and how many to bulk work,
    per five minutes: the overview's "last hour" split. The five minutes under way are counted
    on the RateBudget row; each row here is written once they are over. Rows older than two
    days are dropped as new ones are written."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="budget_usage")
    system = models.CharField(max_length=20, choices=System.choices)
    period = models.DateTimeField(help_text="The start of the five minutes counted.")
    events = models.PositiveIntegerField(
        default=0, help_text="Requests for events: webhooks, retries, a person waiting on a page."
    )
    bulk = models.PositiveIntegerField(default=0, help_text="Requests for bulk work: backfills.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "system", "period"], name="one_usage_row_per_period"
            )
        ]
        ordering = ["-period", "brand__name", "system"]
        verbose_name = "API budget use"
        verbose_name_plural = "API budget use"

    def __str__(self) -> str:
        return (
            f"{self.brand} · {self.get_system_display()} from {self.period:%Y-%m-%d %H:%M}: "
            f"{self.events} for events, {self.bulk} for bulk work"
        )

"""The one table of value maps (imported by syncs.models, so it is the syncs app's)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from brands.models import Brand


class ValueMap(models.Model):
    """One brand's translation of one value of one kind: BigCommerce's “PayPal” is
    Brightpearl's PAYPAL against nominal code 1220. What a kind is, and how its values are
    checked, is declared in code (syncs/valuemaps/registry.py)."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="value_maps")
    kind = models.CharField(max_length=60, help_text="Which kind of value map (its code).")
    source_value = models.CharField(
        max_length=150, help_text="The value as the source system gives it (an id, a name)."
    )
    source_label = models.CharField(
        max_length=200, blank=True, help_text="Its name in the source system, when it has one."
    )
    target_value = models.CharField(max_length=150, help_text="What the target system gets.")
    # The further parts of a two-part target (a payment method's nominal code), by the
    # names the kind declares; the kind checks them.
    extra = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=300, blank=True, help_text="Why it is mapped so.")
    updated = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "kind", "source_value"], name="one_value_map_per_source"
            )
        ]
        ordering = ["brand__name", "kind", "source_value"]
        verbose_name = "value map"

    def __str__(self) -> str:
        return f"{self.kind}: {self.source_label or self.source_value} → {self.target_value}"

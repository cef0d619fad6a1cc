"""The console's own rows: a brand's onboarding, resumable step by step."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from brands.models import Brand


class Onboarding(models.Model):
    """A new brand on its way in: the wizard's place, so it can be left and resumed.

    `data` holds the choices made so far and what each step found, never a secret: the
    credentials live encrypted on the brand's connections from the moment they are saved.
    """

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="onboarding")
    step = models.PositiveSmallIntegerField(
        default=1, help_text="The furthest step reached (1 name … 7 go live)."
    )
    data = models.JSONField(default=dict, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    live_at = models.DateTimeField(null=True, blank=True, help_text="When it went live.")

    class Meta:
        ordering = ["-updated"]
        verbose_name = "brand onboarding"

    def __str__(self) -> str:
        return f"Onboarding of {self.brand}"

    @property
    def is_live(self) -> bool:
        return self.live_at is not None

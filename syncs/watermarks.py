"""Watermarks of the flows that poll a vendor: how far each has read each object.

A polling flow (Salesforce: syncs/flows/salesforce/polling.py) asks for the records of one
object changed since its watermark less a look-back. The watermark is the newest change time
the vendor itself reported among the records read (Salesforce's `SystemModstamp`), so the
vendor's clock decides, not this console's. It is kept per brand, flow and object (two flows
polling one object each keep their own), and moved only when a run has read and handled
everything it found: a run that fails leaves it where it was, and the next run reads again.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models

from brands.models import Brand


class PollWatermark(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="poll_watermarks")
    flow = models.CharField(max_length=40)
    sobject = models.CharField("object", max_length=80, help_text="Such as Account or Order.")
    modstamp = models.DateTimeField(
        help_text="The newest change the vendor reported among the records read."
    )
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "syncs"
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "flow", "sobject"], name="one_watermark_per_object"
            )
        ]
        verbose_name = "polling watermark"

    def __str__(self) -> str:
        return f"{self.flow} · {self.sobject}: {self.modstamp:%Y-%m-%d %H:%M:%S}"


def watermark_get(*, brand_id: int, flow: str, sobject: str) -> datetime | None:
    return (
        PollWatermark.objects.filter(brand_id=brand_id, flow=flow, sobject=sobject)
        .values_list("modstamp", flat=True)
        .first()
    )


def watermarks_save(*, brand_id: int, flow: str, seen: dict[str, datetime]) -> None:
    """Move each object's watermark to the newest change read, never back."""
    for sobject, modstamp in seen.items():
        current = watermark_get(brand_id=brand_id, flow=flow, sobject=sobject)
        if current is not None and current >= modstamp:
            continue
        PollWatermark.objects.update_or_create(
            brand_id=brand_id, flow=flow, sobject=sobject, defaults={"modstamp": modstamp}
        )

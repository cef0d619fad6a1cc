"""What each push to Ometria carried, kept for a day.

Ometria checks records after answering a push, and its error list names a field's path and
nothing else: no record, no push, no time (docs.ometria.com/docs/list-errors). The console
therefore remembers its own pushes (when, by which flow, which records in which order, and the
fields each record had) so syncs/flows/ometria/rejections.py can find the records an error can
be about. One row per push (at most 100 records), so the cost is one insert per push.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from brands.models import Brand


class OmetriaPush(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="ometria_pushes")
    flow = models.CharField(max_length=40)
    record_type = models.CharField(max_length=20)
    request_id = models.CharField(max_length=64, blank=True)
    pushed_at = models.DateTimeField(default=timezone.now)
    # [[Ometria id, source id], …] in the order the push carried them.
    records = models.JSONField(default=list)
    # Each path the records carried ("root > email") with the indexes of the records that have
    # it, or "*" for all; and the paths whose value looked plainly wrong, the same way.
    paths = models.JSONField(default=dict)
    suspects = models.JSONField(default=dict)

    class Meta:
        app_label = "syncs"
        indexes = [models.Index(fields=["brand", "pushed_at"], name="ometria_push_time")]
        verbose_name = "Ometria push"

    def __str__(self) -> str:
        return f"{self.brand_id} · {self.flow} · {len(self.records)} {self.record_type}"

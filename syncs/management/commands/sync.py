"""`python manage.py sync BRAND FLOW [--full]`: run a flow here and now, with a progress bar."""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from brands.models import Brand
from syncs.flows import REGISTRY
from syncs.models import SyncRun
from syncs.services import flow_run_now


class ProgressBar:
    def __init__(self, stream, noun: str) -> None:
        self.stream = stream
        self.noun = noun
        self.started = time.monotonic()
        self.tty = stream.isatty()

    def __call__(self, run: SyncRun, total: int | None) -> None:
        done = run.read
        rate = done / max(time.monotonic() - self.started, 1e-6)
        if total:
            width = 30
            filled = min(width, int(width * done / total))
            bar = f"[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}"
        else:
            bar = f"{done:,}"
        line = (
            f"{bar} {self.noun} · {run.written:,} written · {run.unchanged:,} unchanged · "
            f"{run.waiting:,} waiting · {run.failed:,} failed · {rate:,.0f}/s"
        )
        # On a terminal the bar redraws in place; in a log it prints a line per batch.
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        self.stream.flush()


class Command(BaseCommand):
    help = "Run one flow for one brand now, in this process, showing progress."

    def add_arguments(self, parser):
        parser.add_argument("brand", help="The brand's slug, e.g. demo.")
        parser.add_argument("flow", help=f"One of: {', '.join(REGISTRY)}.")
        parser.add_argument(
            "--full", action="store_true", help="Read every record, not only changes."
        )

    def handle(self, *args, brand: str, flow: str, full: bool, **options):
        found = Brand.objects.filter(slug=brand).first()
        if found is None:
            slugs = ", ".join(Brand.objects.values_list("slug", flat=True)) or "none yet"
            raise CommandError(f"No brand has the slug “{brand}”. Brands: {slugs}.")
        if flow not in REGISTRY:
            raise CommandError(f"No flow is called “{flow}”. Flows: {', '.join(REGISTRY)}.")
        bar = ProgressBar(sys.stderr, REGISTRY[flow].noun)
        run = flow_run_now(brand=found, flow=flow, full=full, progress=bar)
        sys.stderr.write("\n" if bar.tty else "")
        run.refresh_from_db()
        summary = (
            f"Run {run.pk} {run.get_state_display().lower()}: {run.read:,} read, "
            f"{run.written:,} written, {run.unchanged:,} unchanged, {run.waiting:,} waiting, "
            f"{run.failed:,} failed, {run.api_calls:,} API calls."
        )
        if run.state == "failed":
            raise CommandError(f"{summary} {run.error}")
        self.stdout.write(self.style.SUCCESS(summary))

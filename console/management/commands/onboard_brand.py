"""manage.py onboard_brand FILE: onboard a brand from a JSON file, through the wizard's steps.

Running it again with the same file changes nothing, and says so line by line.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from console.onboard_file import brand_onboard
from console.onboarding import OnboardingError

EXAMPLE = """{
  "name": "Bravo Beauty",
  "slug": "bravo",
  "timezone": "Europe/London",
  "connections": {
    "brightpearl": {
      "base_url": "https://euw1.brightpearlconnect.com",
      "credentials": {"app_ref": "bravo_console", "staff_token": {"env": "BRAVO_BP_TOKEN"}},
      "settings": {"account": "bravo", "auth": "staff_token"}
    },
    "ometria": {"base_url": "https://api.ometria.com", "credentials": {"api_key": "..."}}
  },
  "flows": {"order_lifecycle": {"schedule_minutes": 15}, "customers": true, "refunds": false},
  "members": [{"username": "mia", "email": "mia@bravo.example", "teams": ["marketing"]}]
}"""


class Command(BaseCommand):
    help = (
        "Onboard a brand from a JSON file: the brand, its connections (tested), its status "
        "mapping from the template, its flows and schedules, its webhooks, a first sync and its "
        "members. Safe to run again: what already matches is left alone. Example file:\n" + EXAMPLE
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The JSON file describing the brand.")
        parser.add_argument(
            "--no-test",
            action="store_true",
            help="Do not test the connections (they must have worked before).",
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CommandError(f"There is no file {path}.") from None
        except json.JSONDecodeError as exc:
            raise CommandError(
                f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
            ) from None
        try:
            report = brand_onboard(spec=spec, test_connections=not options["no_test"])
        except OnboardingError as exc:
            raise CommandError(exc.message) from None
        width = max((len(what) for what, _ in report.lines), default=0)
        for what, outcome in report.lines:
            self.stdout.write(f"{what.ljust(width)}  {outcome}")
        if report.changed:
            self.stdout.write(self.style.SUCCESS(f"{spec['slug']}: onboarded."))
        else:
            self.stdout.write(self.style.SUCCESS(f"{spec['slug']}: nothing to change."))

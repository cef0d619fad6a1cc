"""`make demo`: the sandbox, the demo brand and its people, the web server and the task cluster,
all started together and stopped together with Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from brands.models import Brand
from console.demo import DEMO_PASSWORD, DEMO_USERS, demo_go_live, demo_setup


class Command(BaseCommand):
    help = "Set up the demo brand on the vendor sandbox and run everything until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--sandbox-port", type=int, default=8100)
        parser.add_argument(
            "--setup-only",
            action="store_true",
            help="Set everything up, then stop instead of serving.",
        )

    def handle(self, *args, addr: str, sandbox_port: int, setup_only: bool, **options):
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        children: dict[str, subprocess.Popen] = {}
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            call_command("migrate", interactive=False, verbosity=0)
            # A console without its demo brand yet (a new database) starts from fresh sandbox
            # data too: the old data's webhooks, errors and synced records belong to another.
            fresh = ["--reset"] if not Brand.objects.filter(slug="demo").exists() else []
            children["vendor sandbox"] = subprocess.Popen(
                [*manage, "sandbox", "--port", str(sandbox_port), "--seed", "demo", *fresh]
            )
            discovery = self._wait_for_sandbox(
                f"http://127.0.0.1:{sandbox_port}/_sandbox/", children
            )
            brand = demo_setup()
            demo_go_live(brand, discovery)
            self.stdout.write(
                self.style.SUCCESS(f"Demo brand ready: {brand.name}, on the sandbox.")
            )
            if setup_only:
                return
            children["task cluster"] = subprocess.Popen([*manage, "qcluster"])
            if settings.BULK_QUEUE:
                # Bulk work (backfills, reconciliations) on a cluster of its own: events
                # never wait behind it.
                children["bulk task cluster"] = subprocess.Popen(
                    [*manage, "qcluster"], env={**os.environ, "Q_CLUSTER_NAME": settings.BULK_QUEUE}
                )
            children["web server"] = subprocess.Popen([*manage, "runserver", addr, "--noreload"])
            self.stdout.write(
                f"\nThe console is at http://{addr}/\n"
                f"Sign in as {', '.join(DEMO_USERS)} with the password “{DEMO_PASSWORD}”.\n"
                f"The vendor sandbox is at http://127.0.0.1:{sandbox_port}/_sandbox/\n"
                "Press Ctrl-C to stop everything.\n"
            )
            while not stopping:
                for name, proc in children.items():
                    if proc.poll() is not None:
                        self.stderr.write(f"The {name} stopped (exit {proc.returncode}).")
                        stopping = True
                time.sleep(0.5)
        finally:
            for proc in children.values():
                if proc.poll() is None:
                    proc.terminate()
            for proc in children.values():
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
            if children:
                self.stdout.write(f"Stopped: {', '.join(children)}.")

    def _wait_for_sandbox(self, url: str, children: dict) -> dict:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if children["vendor sandbox"].poll() is not None:
                raise CommandError("The vendor sandbox did not start; its error is above.")
            try:
                return httpx.get(url, timeout=2).json()
            except httpx.HTTPError:
                time.sleep(0.3)
        raise CommandError(f"The vendor sandbox did not answer at {url} within a minute.")

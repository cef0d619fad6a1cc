"""`make demo`: migrate, create the demo brand and users, then run everything until Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from console.demo import DEMO_PASSWORD, DEMO_USERS, demo_setup


class Command(BaseCommand):
    help = "Set up the demo brand and run the web server and the task cluster together."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument(
            "--setup-only", action="store_true", help="Migrate and create the demo data, then stop."
        )

    def handle(self, *args, addr: str, setup_only: bool, **options):
        call_command("migrate", interactive=False, verbosity=0)
        brand = demo_setup()
        self.stdout.write(self.style.SUCCESS(f"Demo brand ready: {brand.name}"))
        if setup_only:
            return
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        children = {
            "task cluster": subprocess.Popen([*manage, "qcluster"]),
            "web server": subprocess.Popen([*manage, "runserver", addr, "--noreload"]),
        }
        self.stdout.write(
            f"\nThe console is at http://{addr}/\n"
            f"Sign in as {', '.join(DEMO_USERS)} with the password “{DEMO_PASSWORD}”.\n"
            "Press Ctrl-C to stop everything.\n"
        )
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
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
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
            self.stdout.write("Stopped the web server and the task cluster.")

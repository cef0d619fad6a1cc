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
from console.demo import DEGRADED, DEMO_PASSWORD, DEMO_USERS, demo_go_live, demo_setup


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
            children["vendor sandbox"] = _start(
                [*manage, "sandbox", "--port", str(sandbox_port), "--seed", "demo", *fresh]
            )
            discovery = self._wait_for_sandbox(
                f"http://127.0.0.1:{sandbox_port}/_sandbox/", children
            )
            brand = demo_setup()
            staged = demo_go_live(brand, discovery) or []
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo brands ready: {brand.name} and {DEGRADED['name']}, on the sandbox."
                )
            )
            for scene in staged:
                self.stdout.write(f"  Staged at the vendors: {scene}.")
            if setup_only:
                return
            children["task cluster"] = _start([*manage, "qcluster"])
            if settings.BULK_QUEUE:
                # Bulk work (backfills, reconciliations) on a cluster of its own: events
                # never wait behind it. Six workers unless told otherwise: the degraded
                # brand's runs (five at most at once) sleep through Brightpearl's throttle on
                # theirs, and the demo brand's own bulk runs must not queue behind them.
                children["bulk task cluster"] = _start(
                    [*manage, "qcluster"],
                    env={
                        **os.environ,
                        "Q_CLUSTER_NAME": settings.BULK_QUEUE,
                        "Q_BULK_WORKERS": os.environ.get("Q_BULK_WORKERS", "6"),
                    },
                )
            children["web server"] = _start([*manage, "runserver", addr, "--noreload"])
            self.stdout.write(
                f"\nThe console is at http://{addr}/\n"
                f"Sign in as {', '.join(DEMO_USERS)} with the password “{DEMO_PASSWORD}”:\n"
                "each finds its team's tickets in Exceptions within a minute or two, as the\n"
                "first syncs meet the demo's data.\n"
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
                    _signal(proc, signal.SIGTERM)
            for proc in children.values():
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    # A cluster whose worker sleeps through a vendor's throttle does not stop
                    # in time: its whole group goes, workers included (none is left behind).
                    _signal(proc, signal.SIGKILL)
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


def _start(args: list[str], **kwargs) -> subprocess.Popen:
    """A child in a process group of its own, so stopping it stops its children too (a task
    cluster's workers)."""
    return subprocess.Popen(args, start_new_session=True, **kwargs)


def _signal(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        proc.send_signal(sig)

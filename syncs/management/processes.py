"""The processes the benchmark and chaos commands drive: a vendor sandbox and qclusters.

Tools only (they start the sandbox): never on a request's or a task's path.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_q.tasks import async_task, result

from brands.models import Brand

MANAGE = str(settings.BASE_DIR / "manage.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_migrated() -> None:
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise CommandError("The database is not up to date: run `python manage.py migrate` first.")


def require_own_database(slug: str | tuple[str, ...], command: str) -> None:
    """A cluster would run every brand's schedules (flows, sweeps, digest e-mails). `slug`:
    the brand (or brands) the command makes for itself."""
    others = Brand.objects.exclude(slug__in=(slug,) if isinstance(slug, str) else slug)
    if others.exists():
        names = ", ".join(others.values_list("slug", flat=True)[:5])
        raise CommandError(
            f"This database holds other brands ({names}): run {command} on a database of its "
            "own (DATABASE_URL=sqlite:////tmp/<name>.sqlite3, then migrate)."
        )


class SandboxProcess:
    """`manage.py sandbox` in its own process, seeded afresh, on a free port."""

    def __init__(
        self, *, orders: int | None = None, seed: str = "demo", second_orders: int | None = None
    ) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="console-sandbox-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # One client for every control call: a bench polls the sandbox every few ms, and
        # httpx.get() would build a client (and load the CA bundle, ~20 ms) each time.
        self.http = httpx.Client(timeout=60)
        command = [
            sys.executable,
            MANAGE,
            "sandbox",
            "--port",
            str(self.port),
            "--db",
            str(self.workdir / "sandbox.sqlite3"),
            "--reset",
            "--seed",
            seed,
        ]
        if orders:
            command += ["--orders", str(orders)]
        if second_orders is not None:
            command += ["--second-orders", str(second_orders)]
        self.proc = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self.discovery = self._wait()

    def _wait(self) -> dict:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CommandError(f"The sandbox stopped: {self.proc.stderr.read()[-2000:]}")
            try:
                return self.http.get(f"{self.url}/_sandbox/", timeout=2).json()
            except httpx.HTTPError:
                time.sleep(0.5)
        raise CommandError("The sandbox did not come up within ten minutes.")

    def post(self, path: str, body: dict) -> dict:
        reply = self.http.post(f"{self.url}/_sandbox/{path}", json=body)
        reply.raise_for_status()
        return reply.json()

    def get(self, path: str, **params) -> dict:
        reply = self.http.get(f"{self.url}/_sandbox/{path}", params=params)
        reply.raise_for_status()
        return reply.json()

    def stop(self) -> None:
        self.http.close()
        self.proc.terminate()
        self.proc.wait(timeout=30)
        shutil.rmtree(self.workdir, ignore_errors=True)  # a large seed: up to a GB


class WebServer:
    """The console's web server (`manage.py runserver --noreload`) on a free port, so that the
    sandbox's webhooks reach it. It speaks plain HTTP on 127.0.0.1, standing in for the
    server behind a TLS proxy: no redirect to HTTPS."""

    def __init__(self, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        hosts = [h for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h]
        self.env = {
            **os.environ,
            "ALLOWED_HOSTS": ",".join([*hosts, "127.0.0.1"]),
            "SECURE_SSL_REDIRECT": "0",
            "CONSOLE_PUBLIC_URL": self.url,
            **env,
        }
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, MANAGE, "runserver", f"127.0.0.1:{self.port}", "--noreload"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CommandError(f"The web server stopped (exit {self.proc.returncode}).")
            try:
                httpx.get(f"{self.url}/hooks/", timeout=2)
                return
            except httpx.HTTPError:
                time.sleep(0.3)
        raise CommandError("The web server did not answer within a minute.")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None


class Cluster:
    """A real `manage.py qcluster` of W workers, which can be killed (-9) and restarted.

    `queue`: the queue it serves (settings.BULK_QUEUE for bulk work); None, the default queue
    (events: webhooks, retries, one record)."""

    def __init__(self, workers: int, queue: str | None = None, **env: str) -> None:
        self.workers = workers
        self.queue = queue
        self.env = {**os.environ, "Q_WORKERS": str(workers), **env}
        if queue:
            self.env["Q_CLUSTER_NAME"] = queue
            self.env["Q_BULK_WORKERS"] = str(workers)
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, MANAGE, "qcluster"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        # A task through the cluster and back: its workers are up and polling.
        if result(async_task("math.floor", 1.5, cluster=self.queue), wait=60_000) != 1:
            raise CommandError("The qcluster did not start within a minute.")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL to every process of the cluster: workers die mid-batch, as on a crash."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        # SIGTERM to the main process only: it stops its workers itself, within a second when
        # they are idle. Sent to the whole group, it makes django-q2's sentinel replace the
        # workers it sees die while it stops, and it never exits (5 s lost, then -9).
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        self.kill()  # whatever is left of the group (a worker still busy in a long run)


class Clusters:
    """The console's two clusters, as production runs them: one for events (the default
    queue) and one for bulk work (settings.BULK_QUEUE), each of W workers; killed, restarted
    and stopped together."""

    def __init__(self, workers: int, **env: str) -> None:
        self.members = [Cluster(workers, **env)]
        if settings.BULK_QUEUE:
            self.members.append(Cluster(workers, queue=settings.BULK_QUEUE, **env))

    def start(self) -> None:
        for member in self.members:
            member.start()

    def alive(self) -> bool:
        return all(member.alive() for member in self.members)

    def kill(self) -> None:
        for member in self.members:
            member.kill()

    def stop(self) -> None:
        for member in self.members:
            member.stop()

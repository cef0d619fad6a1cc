"""A webhook's secret never reaches a log: not the console's, not runserver's access lines,
not gunicorn's access log, not a traceback. A canary secret is sent and every line is read."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.urls import reverse

from connectors.models import Connection
from console.log_redaction import REDACTED, RedactSecretsFilter, redact
from tests.fixtures.processes import console_env

CANARY = "canary-Zx81qPw0-secret"
BODY = {
    "accountCode": "acme",
    "resourceType": "order",
    "id": "10004",
    "lifecycleEvent": "modified",
    "fullEvent": "order.modified.order-status",
    "raisedOn": "2026-11-27T10:00:00.000Z",
}


@pytest.fixture
def canary_connection(brand_a) -> Connection:
    return Connection.objects.create(
        brand=brand_a,
        system="brightpearl",
        base_url="https://euw1.brightpearlconnect.com",
        credentials={"app_ref": "a", "account_token": "t"},
        settings={"account": "acme"},
        webhook_secret=CANARY,
    )


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        (
            '"POST /hooks/brightpearl/abc_DEF-123/ HTTP/1.1" 202 40',
            f'"POST /hooks/brightpearl/{REDACTED}/ HTTP/1.1" 202 40',
        ),
        ("Not Found: /hooks/mailchimp/s3cr3t", f"Not Found: /hooks/mailchimp/{REDACTED}"),
        (
            "GET https://x.example/v1/a?list=1&api_key=k3y&access_token=t0k",
            f"GET https://x.example/v1/a?list=1&api_key={REDACTED}&access_token={REDACTED}",
        ),
        ("postgres://console:pw@db:5432/console", f"postgres://{REDACTED}@db:5432/console"),
        ("run 12: 40 written, 3 waiting", "run 12: 40 written, 3 waiting"),
        ("GET /orders/?page=2 200", "GET /orders/?page=2 200"),
    ],
)
def test_redact(line, shown):
    assert redact(line) == shown


def test_every_configured_handler_carries_the_filter():
    """A handler added to settings.LOGGING without the filter would write secrets again."""
    for name, handler in settings.LOGGING["handlers"].items():
        assert "redact_secrets" in handler.get("filters", []), name
    # Django's own loggers write through these handlers only, not its default ones.
    assert settings.LOGGING["loggers"]["django"]["handlers"] == []
    assert settings.LOGGING["loggers"]["django.server"]["handlers"] == ["django.server"]


@contextmanager
def captured_handlers() -> Iterator[io.StringIO]:
    """Every stream handler the console's logging configured, writing into one buffer."""
    out = io.StringIO()
    handlers = [
        h
        for logger in (logging.getLogger(), logging.getLogger("django.server"))
        for h in logger.handlers
        if isinstance(h, logging.StreamHandler) and type(h).__module__ == "logging"
    ]
    assert len(handlers) >= 2
    previous = [h.setStream(out) for h in handlers]
    try:
        yield out
    finally:
        for h, stream in zip(handlers, previous, strict=True):
            h.setStream(stream)


def test_the_console_logs_no_secret_whichever_logger_writes(client, canary_connection):
    with captured_handlers() as out:
        url = reverse("webhook", args=["brightpearl", CANARY])
        accepted = client.post(url, json.dumps(BODY), content_type="application/json")
        assert accepted.status_code in (200, 202), accepted.content
        # Refused deliveries: Django's "Method Not Allowed" and "Not Found" warnings quote them.
        assert client.put(url).status_code == 405
        assert client.post(reverse("webhook", args=["nosuch", CANARY])).status_code == 404
        logging.getLogger("django.server").info('"POST %s HTTP/1.1" %s %s', url, 202, 40)
        logging.getLogger("connectors.sandbox.server").warning("delivered to %s", url)
        logging.getLogger("connectors.http").info("GET /v1/x?apikey=%s status=200", CANARY)
        try:
            raise RuntimeError(f"cannot deliver to http://127.0.0.1:8000{url}")
        except RuntimeError:
            logging.getLogger("connectors.sandbox.deliveries").exception("webhook delivery crashed")
    text = out.getvalue()
    assert "Method Not Allowed" in text and "Not Found" in text, text
    assert "webhook delivery crashed" in text and "Traceback" in text
    assert CANARY not in text
    assert f"/hooks/brightpearl/{REDACTED}/" in text


def test_the_filter_leaves_a_record_whole_for_the_next_handler():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "to %s: %d", ("/hooks/a/b/", 3), None
    )
    assert RedactSecretsFilter().filter(record)
    assert record.getMessage() == f"to /hooks/a/{REDACTED}/: 3"


# --- the real servers ----------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server stopped:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the server did not start:\n{log.read_text()}")


SERVERS = {
    "runserver": [sys.executable, "manage.py", "runserver", "--noreload", "127.0.0.1:{port}"],
    # As README runs it, with the access log on: gunicorn.conf.py is read from this folder.
    "gunicorn": [
        str(Path(sys.executable).with_name("gunicorn")),
        "console.wsgi",
        "--workers",
        "1",
        "--bind",
        "127.0.0.1:{port}",
        "--access-logfile",
        "-",
    ],
}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("server", sorted(SERVERS))
def test_a_real_server_logs_no_secret(server, canary_connection, tmp_path):
    port = _free_port()
    log = tmp_path / f"{server}.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [part.format(port=port) for part in SERVERS[server]],
            cwd=settings.BASE_DIR,
            env=console_env(LOG_LEVEL="INFO"),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for(port, proc, log)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30) as http:
            accepted = http.post(f"/hooks/brightpearl/{CANARY}/", json=BODY)
            assert accepted.status_code in (200, 202), accepted.text
            assert http.get(f"/hooks/nosuch/{CANARY}/?token={CANARY}").status_code == 404
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    text = log.read_text()
    assert f"/hooks/brightpearl/{REDACTED}/" in text, text  # the access line was written
    assert CANARY not in text, text

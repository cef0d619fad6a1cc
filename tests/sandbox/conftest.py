"""Helpers for the sandbox tests: vendor clients from discovery, shape checks, a webhook receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.sandbox import Sandbox
from tests.fixtures import loopback

PAYLOADS = Path(__file__).parent / "payloads"


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


# --- clients, configured the way a connector would be from discovery -------------------------


def brightpearl(sandbox: Sandbox, account: str = "demo") -> httpx.Client:
    entry = sandbox.discovery()["accounts"][account]["brightpearl"]
    return httpx.Client(
        base_url=f"{entry['base_url']}/public-api/{entry['account']}", headers=entry["headers"]
    )


def ometria(sandbox: Sandbox, account: str = "demo") -> httpx.Client:
    entry = sandbox.discovery()["accounts"][account]["ometria"]
    return httpx.Client(base_url=entry["base_url"], headers=entry["headers"])


def mailchimp(sandbox: Sandbox, account: str = "demo") -> tuple[httpx.Client, str]:
    entry = sandbox.discovery()["accounts"][account]["mailchimp"]
    client = httpx.Client(base_url=entry["base_url"] + "/3.0", auth=("anystring", entry["api_key"]))
    return client, entry["list_id"]


def bigcommerce(sandbox: Sandbox, account: str = "demo") -> httpx.Client:
    entry = sandbox.discovery()["accounts"][account]["bigcommerce"]
    return httpx.Client(
        base_url=f"{entry['base_url']}/stores/{entry['store_hash']}", headers=entry["headers"]
    )


def salesforce(sandbox: Sandbox, account: str = "demo", version: str = "61.0") -> httpx.Client:
    entry = sandbox.discovery()["accounts"][account]["salesforce"]
    token = loopback.post(
        entry["base_url"] + "/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": entry["client_id"],
            "client_secret": entry["client_secret"],
        },
    ).json()
    return httpx.Client(
        base_url=f"{token['instance_url']}/services/data/v{version}",
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )


def control(sandbox: Sandbox) -> httpx.Client:
    return httpx.Client(base_url=sandbox.url + "/_sandbox")


# --- shape comparison -------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "null"
    return type(value).__name__


def _is_id_map(value: Any) -> bool:
    """Brightpearl keys some maps by id ({"12447605": {...}}): compare their values instead."""
    return isinstance(value, dict) and bool(value) and all(k.isdigit() for k in value)


def assert_shape(actual: Any, expected: Any, path: str = "$") -> None:
    """Every key of `expected` is in `actual`, recursively, with the same JSON type."""
    if _is_id_map(expected):
        assert _is_id_map(actual), f"{path}: expected a map keyed by id, got {actual!r:.80}"
        sample = next(iter(expected.values()))
        for key, value in actual.items():
            assert_shape(value, sample, f"{path}.{key}")
        return
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {_kind(actual)}"
        missing = sorted(set(expected) - set(actual))
        assert not missing, f"{path}: missing keys {missing}"
        for key, value in expected.items():
            assert_shape(actual[key], value, f"{path}.{key}")
        return
    if isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: expected an array, got {_kind(actual)}"
        if expected and actual:
            for n, item in enumerate(actual):
                assert_shape(item, expected[0], f"{path}[{n}]")
        return
    if expected is None or actual is None:
        return  # a null in a recording says nothing about the type
    assert _kind(actual) == _kind(expected), (
        f"{path}: expected {_kind(expected)} like {expected!r}, got {actual!r}"
    )


# --- a webhook receiver ---------------------------------------------------------------------


class Receiver:
    """A tiny HTTP server that records every request and answers from a list of statuses."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []  # answers to give first; then 200
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with receiver._lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.requests.append(
                        {
                            "method": self.command,
                            "path": self.path,
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body,
                            "status": status,
                        }
                    )
                    receiver._arrived.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 10.0, method: str | None = None) -> list[dict]:
        """Wait until `count` requests (of `method`, if given) have arrived; return them."""

        def matching() -> list[dict]:
            return [r for r in self.requests if method is None or r["method"] == method]

        with self._arrived:
            self._arrived.wait_for(lambda: len(matching()) >= count, timeout)
            return matching()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()

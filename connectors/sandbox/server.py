"""The one HTTP server for all five vendors, and the request pipeline every call goes through.

/{vendor}/{the vendor's real path} -> stats -> faults (outage, latency, storm, error) ->
the vendor's rate budget -> the vendor's auth -> the handler, in one SQLite transaction ->
(lost, lost-write or malformed answer faults) -> the vendor's rate headers on the answer ->
the write log (writes.py), for every write whatever became of it.
/_sandbox/... is the control API (control/); it has no auth and no faults.
"""

from __future__ import annotations

import json
import logging
import socket
import struct
import threading
import time
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from connectors.bigcommerce.fake import BigCommerce
from connectors.brightpearl.fake import Brightpearl
from connectors.mailchimp.fake import Mailchimp
from connectors.ometria.fake import Ometria
from connectors.salesforce.fake import Salesforce
from connectors.sandbox import seed as seed_module
from connectors.sandbox.control import Control
from connectors.sandbox.core import READ_METHODS, Account, Request, Response, Vendor
from connectors.sandbox.deliveries import Deliverer
from connectors.sandbox.faults import Decision, Faults
from connectors.sandbox.state import Rec, Store
from connectors.sandbox.throttle import LIMIT_FIELDS, Hit, Limits, Settings, Stats, Throttle
from connectors.sandbox.writes import WriteLog

logger = logging.getLogger(__name__)

VENDOR_CLASSES: tuple[type[Vendor], ...] = (
    Brightpearl,
    Ometria,
    Mailchimp,
    BigCommerce,
    Salesforce,
)
# Dropping the connection instead of answering (lost responses, "reset" outages).
DROP = Response(status=0)
RESET = Response(status=-1)

GATEWAY_PAGE = (
    b"<html><head><title>503 Service Temporarily Unavailable</title></head><body>"
    b"<center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>gateway</center>"
    b"</body></html>"
)


class Accounts:
    """Every vendor account, cached in memory: auth runs on every request."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._by_code: dict[tuple[str, str], Account] = {}
        self._by_cred: dict[tuple[str, str, str], Account] = {}

    def load(self) -> None:
        by_code, by_cred = {}, {}
        with self._store.transaction():
            rows = (
                self._store.conn()
                .execute("SELECT data FROM records WHERE kind='account' ORDER BY vendor, account")
                .fetchall()
            )
        for (text,) in rows:
            data = json.loads(text)
            account = Account(data["vendor"], data["code"], data["brand"], data["creds"])
            by_code[(account.vendor, account.code)] = account
            for name, value in account.creds.items():
                by_cred[(account.vendor, name, str(value))] = account
        with self._lock:
            self._by_code, self._by_cred = by_code, by_cred

    def get(self, vendor: str, code: str) -> Account | None:
        return self._by_code.get((vendor, code))

    def find(self, vendor: str, cred: str, value: str | None) -> Account | None:
        return self._by_cred.get((vendor, cred, str(value))) if value else None

    def all(self) -> list[Account]:
        return list(self._by_code.values())

    def for_brand(self, vendor: str, brand: str) -> Account | None:
        for account in self._by_code.values():
            if account.vendor == vendor and account.brand == brand:
                return account
        return None

    def resolve(self, vendor: str, name: str | None) -> Account | None:
        """An account named by brand key or by its own code; the demo brand by default."""
        name = name or "demo"
        return self.for_brand(vendor, name) or self.get(vendor, name)

    def brands(self) -> list[str]:
        seen: list[str] = []
        for account in self._by_code.values():
            if account.brand not in seen:
                seen.append(account.brand)
        return seen


class App:
    def __init__(
        self,
        db_path: str | Path,
        *,
        time_scale: float = 1.0,
        limits: dict[str, Any] | None = None,
        settings: dict[str, Any] | None = None,
    ) -> None:
        self.store = Store(db_path)
        self._defaults = (float(time_scale), dict(limits or {}), dict(settings or {}))
        self.time_scale = 1.0
        self.limits = Limits()
        # One account's own limits ({brand key or account code: {limit name: n}}), over the
        # sandbox-wide ones: another app spending a brand's allowance, a smaller plan.
        self.account_limits: dict[str, dict[str, int | None]] = {}
        self.settings = Settings()
        self.writes = WriteLog()
        self.apply_defaults()
        self.throttle = Throttle()
        self.stats = Stats(self.throttle)
        self.faults = Faults()
        self.accounts = Accounts(self.store)
        self.accounts.load()
        self.deliverer = Deliverer(self)
        self.vendors: dict[str, Vendor] = {cls.name: cls(self) for cls in VENDOR_CLASSES}
        self.base_url = ""
        self.control = Control(self)

    # --- configuration -------------------------------------------------------------------

    def apply_defaults(self) -> None:
        time_scale, limits, settings = self._defaults
        self.time_scale = time_scale
        self.limits = Limits(**{**asdict(Limits()), **limits})
        self.account_limits = {}
        self.settings = Settings()
        self.settings.update(settings)
        self.writes.resize(self.settings.write_log_max)

    def configure(self, values: dict[str, Any]) -> None:
        if "time_scale" in values and values["time_scale"] is not None:
            scale = float(values["time_scale"])
            if scale <= 0:
                raise ValueError("time_scale must be positive")
            self.time_scale = scale
        limits = values.get("limits") or {}
        known = set(asdict(self.limits))
        for key, value in limits.items():
            if key not in known:
                raise ValueError(f"unknown limit {key!r}")
            setattr(self.limits, key, int(value) if value else None)
        for name, overrides in (values.get("account_limits") or {}).items():
            unknown = set(overrides) - known
            if unknown:
                raise ValueError(f"unknown limit {sorted(unknown)[0]!r} for account {name!r}")
            mine = self.account_limits.setdefault(str(name), {})
            for key, value in overrides.items():
                # null: back to the sandbox-wide limit; 0: unlimited, as in `limits`.
                if value is None:
                    mine.pop(key, None)
                else:
                    mine[key] = int(value) or None
            if not mine:
                del self.account_limits[str(name)]
        self.settings.update(values.get("settings") or {})
        self.writes.resize(self.settings.write_log_max)

    def config_snapshot(self) -> dict[str, Any]:
        return {
            "time_scale": self.time_scale,
            "limits": asdict(self.limits),
            "account_limits": {k: dict(v) for k, v in self.account_limits.items()},
            "settings": asdict(self.settings),
        }

    def limit_for(self, vendor: str, bucket: str) -> int | None:
        """The limit of the account a request spends: its own (named by its code or its
        brand key) if it has one, else the sandbox-wide one."""
        field = LIMIT_FIELDS[vendor]
        if self.account_limits:
            account = self.accounts.get(vendor, bucket)
            for name in (bucket, account.brand if account else None):
                own = self.account_limits.get(name or "", {})
                if field in own:
                    return own[field]
        return self.limits.for_vendor(vendor)

    # --- data ----------------------------------------------------------------------------

    def is_empty(self) -> bool:
        with self.store.transaction():
            return self.store.conn().execute("SELECT 1 FROM records LIMIT 1").fetchone() is None

    def reset(
        self, seed: str = "demo", orders: int | None = None, second_orders: int | None = None
    ) -> dict[str, Any]:
        """Fresh data from a seed, and fresh config, faults, stats and throttle windows.
        `orders`: the demo brand's orders; `second_orders`: the second brand's."""
        if seed not in ("demo", "none"):
            raise ValueError("seed must be 'demo' or 'none'")
        self.deliverer.drop_all()
        # Batches are written as they are generated, in this thread, inside one transaction:
        # memory stays bounded for large seeds. (A writer thread was slower: it and the
        # generator fought over the GIL.)
        with self.store.transaction(write=True):
            self.store.wipe()
            _, facts = seed_module.generate(
                seed, orders, sink=self.store.put_many, second_orders=second_orders
            )
            self.store.put(Rec("sandbox", "", "meta", "seed", json.dumps(facts)))
        self.accounts.load()
        self.apply_defaults()
        self.faults.clear()
        self.throttle.reset()
        self.stats.reset()
        self.writes.reset(self.settings.write_log_max)
        return facts

    def seed_facts(self) -> dict[str, Any]:
        with self.store.transaction():
            return self.store.get_json("sandbox", "", "meta", "seed") or {}

    def add_brand(self, brand: str) -> list[Account]:
        if self.accounts.for_brand("brightpearl", brand):
            raise ValueError(f"brand {brand!r} already has accounts")
        accounts, recs = seed_module.new_brand_recs(brand)
        with self.store.transaction(write=True):
            self.store.put_many(recs)
        self.accounts.load()
        return accounts

    def save_account(self, account: Account) -> None:
        with self.store.transaction(write=True):
            self.store.put(seed_module.account_rec(account))
        self.accounts.load()

    # --- the request pipeline ----------------------------------------------------------------

    def dispatch(self, method: str, raw_path: str, headers: Any, body: bytes) -> Response:
        path, _, query = raw_path.partition("?")
        host = headers.get("Host")
        base_url = f"http://{host}" if host else self.base_url
        if path == "/_sandbox" or path.startswith("/_sandbox/"):
            req = Request(
                self, method, path[len("/_sandbox") :] or "/", query, headers, body, base_url
            )
            return self.control.handle(req)
        prefix, _, rest = path.lstrip("/").partition("/")
        vendor = self.vendors.get(prefix)
        if vendor is None:
            return Response(
                404,
                json.dumps(
                    {
                        "error": f"No vendor at /{prefix}. Try /brightpearl, /ometria, /mailchimp, "
                        "/bigcommerce, /salesforce or /_sandbox/."
                    }
                ).encode(),
            )
        req = Request(self, method, "/" + rest, query, headers, body, base_url)
        return self._vendor_call(vendor, req)

    def _vendor_call(self, vendor: Vendor, req: Request) -> Response:
        name = vendor.name
        self.stats.request(name, req.method)
        decision = self.faults.decide(name)
        bucket = vendor.bucket(req)
        concurrent = name == "mailchimp"
        allowed_in_flight = True
        if concurrent:
            allowed_in_flight, _ = self.throttle.enter(name, bucket, self.limit_for(name, bucket))
        try:
            response = self._pipeline(vendor, req, decision, bucket, allowed_in_flight)
        finally:
            if concurrent:
                self.throttle.leave(name, bucket)
        if vendor.is_write(req):
            self._log_write(vendor, req, response)
        return response

    def _pipeline(
        self, vendor: Vendor, req: Request, decision: Decision, bucket: str, in_flight_ok: bool
    ) -> Response:
        name = vendor.name
        if decision.latency_ms:
            self.stats.fault(name, "latency")
            time.sleep(decision.latency_ms / 1000)
        if decision.outage:
            self.stats.fault(name, "outage")
            self.stats.answered(name, "outage")
            req.fault = "outage"
            if decision.outage == "reset":
                return RESET
            return Response(503, GATEWAY_PAGE, "text/html")
        hit: Hit | None = None
        if name != "mailchimp" and vendor.counts_toward_limit(req):
            hit = self.throttle.hit(name, bucket, self.limit_for(name, bucket), self.time_scale)
        req.hit = hit
        response = self._answer(vendor, req, decision, hit, in_flight_ok)
        if response.status > 0:
            response.headers.update(vendor.limit_headers(req, hit))
        self.stats.answered(name, response.status if response.status > 0 else "dropped")
        return response

    def _answer(
        self, vendor: Vendor, req: Request, decision: Decision, hit: Hit | None, in_flight_ok: bool
    ) -> Response:
        name = vendor.name
        if decision.storm:
            self.stats.fault(name, "throttle_storm")
            self.stats.throttle(name)
            req.fault = "throttle_storm"
            return vendor.throttled(req)
        if (hit is not None and not hit.allowed) or not in_flight_ok:
            self.stats.throttle(name)
            req.fault = "throttled"
            return vendor.throttled(req)
        if decision.error:
            self.stats.fault(name, "error")
            req.fault = "error"
            return vendor.server_error(req)
        denied = vendor.authenticate(req)
        if denied is not None:
            return denied
        try:
            with self.store.transaction(write=req.method not in READ_METHODS):
                response = vendor.handle(req)
        except Exception:
            logger.exception("sandbox %s handler failed: %s %s", name, req.method, req.path)
            return vendor.server_error(req)
        for job in req.after_commit:
            job()
        if decision.lost:
            # The write above is committed; the client never hears about it.
            self.stats.fault(name, "lost_response")
            req.fault = "lost_response"
            return DROP
        if decision.lost_write and response.status < 400 and vendor.is_write(req):
            # The same, for writes only, and only one the vendor applied (a refused write
            # changed nothing, so losing its answer is not a lost write).
            self.stats.fault(name, "lost_write")
            req.fault = "lost_write"
            return DROP
        if decision.malformed and response.body:
            self.stats.fault(name, "malformed")
            req.fault = "malformed"
            return Response(
                200, response.body[: max(len(response.body) // 2, 1)], response.content_type
            )
        return response

    def _log_write(self, vendor: Vendor, req: Request, response: Response) -> None:
        try:
            keys = vendor.write_keys(req)
        except Exception:  # a body no handler could read names no record
            keys = []
        self.writes.add(
            vendor=vendor.name,
            account=req.account.code if req.account else None,
            method=req.method,
            path=req.sent_path,
            status=response.status if response.status > 0 else "dropped",
            fault=req.fault,
            keys=keys,
        )

    def close(self) -> None:
        self.deliverer.stop()
        for vendor in self.vendors.values():
            vendor.close()
        self.store.close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sandbox"
    # Answers are one write after the headers; without this, Nagle's algorithm and delayed
    # ACKs add ~40 ms to small answers.
    disable_nagle_algorithm = True
    timeout = 120

    def _serve(self) -> None:
        app: App = self.server.app  # type: ignore[attr-defined]
        body = self._read_body()
        response = app.dispatch(self.command, self.path, self.headers, body)
        if response is DROP or response is RESET:
            if response is RESET:
                # SO_LINGER 0 makes close() send RST: "connection reset by peer".
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
            self.close_connection = True
            return
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        for key, value in response.headers.items():
            self.send_header(key, value)
        payload = b"" if self.command == "HEAD" else response.body
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def _read_body(self) -> bytes:
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        super().__init__(address, Handler)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        # One thread per client connection: its SQLite connection goes with it, or a load test
        # opening thousands of connections would run out of file descriptors.
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.app.store.release()

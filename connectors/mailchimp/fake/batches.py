"""Mailchimp batch operations (POST /3.0/batches): a queue run in the background, as Mailchimp does.

A submitted batch is stored `pending`; a runner thread starts it once
`mailchimp_batch_start_ms` (divided by the time scale) has passed, so a client must poll
`GET /3.0/batches/{id}`. Each operation goes through the sandbox's own Mailchimp routes with the
batch's account, so a PUT with `status_if_new` or a member in compliance state behaves exactly as
the single call would. Operations run in chunks, one write transaction each, so other requests
keep flowing and `finished_operations` grows as the batch runs. When all have run, the results
become a gzipped tar of JSON files, each a list of `{status_code, operation_id, response}`
(`response` is the answer's body as a JSON string), served like Mailchimp's pre-signed S3 URL:
from `/_sandbox/mailchimp/batch-results/...`, with a signature in the query and no auth.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import logging
import tarfile
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from connectors.sandbox.core import Account, Request, Response, dumps, iso_seconds, sortable, utcnow
from connectors.sandbox.state import Rec

if TYPE_CHECKING:
    from connectors.mailchimp.fake.base import MailchimpBase
    from connectors.sandbox.server import App

logger = logging.getLogger(__name__)

V = "mailchimp"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
UNFINISHED = ("pending", "started")
# Operations per write transaction: small enough that other writers wait a few ms at most.
CHUNK = 100
RESULTS_PATH = "/_sandbox/mailchimp/batch-results"


def batch_doc(batch_id: str, total: int, submitted: str) -> dict[str, Any]:
    """A batch as GET /3.0/batches/{id} answers it (fields as the OpenAPI `Batch` schema)."""
    return {
        "id": batch_id,
        "status": "pending",
        "total_operations": total,
        "finished_operations": 0,
        "errored_operations": 0,
        "submitted_at": submitted,
        "completed_at": "",
        "response_body_url": "",
        "_links": [
            {"rel": "parent", "href": "/3.0/batches", "method": "GET"},
            {"rel": "self", "href": f"/3.0/batches/{batch_id}", "method": "GET"},
            {"rel": "delete", "href": f"/3.0/batches/{batch_id}", "method": "DELETE"},
        ],
    }


def batch_rec(account: str, doc: dict[str, Any], num: int, created: str) -> Rec:
    return Rec(
        V, account, "batch", doc["id"], dumps(doc), num=num, created=created, status=doc["status"]
    )


def signature(account: Account, batch_id: str) -> str:
    """What stands in for S3's pre-signature: only whoever got the URL from the API has it."""
    key = account.creds.get("api_key", account.code).encode()
    return hmac.new(key, batch_id.encode(), hashlib.sha256).hexdigest()[:32]


def results_url(base_url: str, account: Account, batch_id: str) -> str:
    query = urlencode(
        {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Expires": "604800",
            "X-Amz-Signature": signature(account, batch_id),
        }
    )
    return f"{base_url}{RESULTS_PATH}/{account.code}/{batch_id}-response.tar.gz?{query}"


def archive(batch_id: str, results: list[dict[str, Any]], per_file: int, mtime: float) -> bytes:
    """The gzipped tar of JSON files Mailchimp's response_body_url points to."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as tar:
        folder = tarfile.TarInfo(batch_id)
        folder.type, folder.mode, folder.mtime = tarfile.DIRTYPE, 0o755, int(mtime)
        tar.addfile(folder)
        for n, start in enumerate(range(0, len(results), max(per_file, 1))):
            data = dumps(results[start : start + per_file]).encode()
            info = tarfile.TarInfo(f"{batch_id}/{n}.json")
            info.size, info.mode, info.mtime = len(data), 0o644, int(mtime)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class BatchRunner:
    """One thread that runs submitted batches in order, one at a time (as Mailchimp does)."""

    def __init__(self, app: App, vendor: MailchimpBase) -> None:
        self.app = app
        self.vendor = vendor
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._dirty = False

    def wake(self) -> None:
        """A batch was submitted (or deleted): start the thread if needed and let it look."""
        with self._cond:
            if self._stopping:
                return
            self._dirty = True
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="sandbox-mailchimp-batches", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def unfinished(self) -> int:
        """Batches of every account still pending or running."""
        store = self.app.store
        with store.transaction():
            return (
                store.conn()
                .execute(
                    "SELECT COUNT(*) FROM records WHERE vendor=? AND kind='batch' "
                    "AND status IN ('pending','started')",
                    (V,),
                )
                .fetchone()[0]
            )

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=5)

    # --- the loop ------------------------------------------------------------------------

    def _loop(self) -> None:
        try:
            while True:
                with self._cond:
                    if self._stopping:
                        return
                    # Set by wake(): anything submitted from here on is seen by the next look.
                    self._dirty = False
                found = None
                try:
                    found = self._next()
                    if found is not None and found[2] <= 0:
                        self._run(found[0], found[1])
                        continue
                    wait = found[2] if found is not None else None
                except Exception:
                    logger.exception("sandbox mailchimp batches: the runner failed")
                    if found is not None:
                        self._give_up(found[0], found[1])
                    wait = 1.0
                with self._cond:
                    if self._stopping:
                        return
                    if not self._dirty:
                        self._cond.wait(timeout=wait)
        finally:
            self.app.store.release()

    def _give_up(self, code: str, batch_id: str) -> None:
        """A batch the runner could not finish ends as finished, never retried in a loop."""
        store = self.app.store
        try:
            with store.transaction(write=True):
                doc = store.get_json(V, code, "batch", batch_id)
                if doc is not None:
                    doc.update(status="finished", completed_at=iso_seconds(utcnow()))
                    num = self._num(code, batch_id)
                    store.put(batch_rec(code, doc, num, sortable(utcnow())))
                store.delete(V, code, "batch_job", batch_id)
        except Exception:
            logger.exception("sandbox mailchimp batches: cannot close batch %s", batch_id)

    def _next(self) -> tuple[str, str, float] | None:
        """The oldest unfinished batch, and how long until it may start."""
        store = self.app.store
        with store.transaction():
            row = (
                store.conn()
                .execute(
                    "SELECT account, id FROM records WHERE vendor=? AND kind='batch' "
                    "AND status IN ('pending','started') ORDER BY created, num LIMIT 1",
                    (V,),
                )
                .fetchone()
            )
            if row is None:
                return None
            job = store.get_json(V, row[0], "batch_job", row[1]) or {}
        return row[0], row[1], float(job.get("due_at", 0)) - time.time()

    def _run(self, code: str, batch_id: str) -> None:
        store = self.app.store
        account = self.app.accounts.get(V, code)
        with store.transaction(write=True):
            job = store.get_json(V, code, "batch_job", batch_id)
            doc = store.get_json(V, code, "batch", batch_id)
            if account is None or job is None or doc is None:
                # Deleted, or the sandbox was reset: nothing to run.
                store.delete(V, code, "batch", batch_id)
                return
            doc["status"] = "started"
            num = self._num(code, batch_id)
            store.put(batch_rec(code, doc, num, job["created"]))
        operations: list[dict[str, Any]] = job["operations"]
        results: list[dict[str, Any]] = []
        errored = 0
        try:
            for start in range(0, len(operations), CHUNK):
                chunk = operations[start : start + CHUNK]
                pause = self._pause(len(chunk))
                if pause:
                    time.sleep(pause)
                done: list[dict[str, Any]] = []
                after: list[Any] = []
                with store.transaction(write=True):
                    doc = store.get_json(V, code, "batch", batch_id)
                    if doc is None:
                        return  # deleted while it ran (or a reset): stop, as Mailchimp does
                    for op in chunk:
                        done.append(self._operation(account, op, job["base_url"], after))
                    doc["finished_operations"] = len(results) + len(done)
                    doc["errored_operations"] = errored + sum(r["status_code"] >= 400 for r in done)
                    store.put(batch_rec(code, doc, num, job["created"]))
                # Counted only once committed: a chunk that rolled back is answered as failed.
                results.extend(done)
                errored = doc["errored_operations"]
                for work in after:
                    work()
        except Exception:
            logger.exception("sandbox mailchimp batch %s failed", batch_id)
            failed = self.vendor.server_error(None).body.decode()  # type: ignore[arg-type]
            for op in operations[len(results) :]:
                results.append(
                    {"status_code": 500, "operation_id": op.get("operation_id"), "response": failed}
                )
                errored += 1
        now = utcnow()
        blob = archive(
            batch_id, results, self.app.settings.mailchimp_batch_results_per_file, now.timestamp()
        )
        with store.transaction(write=True):
            doc = store.get_json(V, code, "batch", batch_id)
            if doc is None:
                return
            store.put(
                Rec(V, code, "batch_result", batch_id, base64.b64encode(blob).decode(), num=num)
            )
            store.delete(V, code, "batch_job", batch_id)
            doc.update(
                status="finished",
                finished_operations=len(results),
                errored_operations=errored,
                completed_at=iso_seconds(now),
                response_body_url=results_url(job["base_url"], account, batch_id),
            )
            store.put(batch_rec(code, doc, num, job["created"]))

    def _num(self, code: str, batch_id: str) -> int:
        found = self.app.store.rows(V, code, "batch", "id = ?", (batch_id,), "num")
        return int(found[0][0]) if found else 0

    def _pause(self, count: int) -> float:
        per_op = float(self.app.settings.mailchimp_batch_ms_per_operation or 0)
        return count * per_op / 1000 / self.app.time_scale

    def _operation(
        self, account: Account, op: dict[str, Any], base_url: str, after: list[Any]
    ) -> dict[str, Any]:
        """Run one operation through the Mailchimp routes, as the API would answer it alone."""
        path = str(op["path"])
        if not path.startswith("/"):
            path = "/" + path
        if path.startswith("/3.0/"):
            path = path[len("/3.0") :]
        path = path.split("?", 1)[0]
        if path == "/batches" or path.startswith("/batches/"):
            response = self.vendor.nested_batch()
        else:
            body = op.get("body")
            req = Request(
                self.app,
                str(op["method"]).upper(),
                "/3.0" + path,
                urlencode(op.get("params") or {}, doseq=True),
                {},
                body.encode() if isinstance(body, str) else b"",
                base_url,
            )
            req.account = account
            try:
                # Inside the chunk's write transaction, like a request's own.
                response = self.vendor.handle(req)
            except Exception:
                logger.exception("sandbox mailchimp batch operation failed: %s %s", op, path)
                response = self.vendor.server_error(req)
            after.extend(req.after_commit)
        return {
            "status_code": response.status,
            "operation_id": op.get("operation_id"),
            "response": response.body.decode() if response.body else "",
        }


def check_operations(operations: Any) -> list[dict[str, str]]:
    """Schema errors of a batch body's operations (OpenAPI `Operations`), like Mailchimp's."""
    if not isinstance(operations, list):
        return [{"field": "operations", "message": "Schema describes array, object found instead"}]
    problems: list[dict[str, str]] = []
    for n, op in enumerate(operations):
        where = f"operations.item:{n}"
        if not isinstance(op, dict):
            problems.append({"field": where, "message": "Schema describes object"})
            continue
        if str(op.get("method", "")).upper() not in METHODS:
            problems.append(
                {"field": f"{where}.method", "message": f"Value must be one of {list(METHODS)}"}
            )
        if not isinstance(op.get("path"), str) or not op["path"]:
            problems.append({"field": f"{where}.path", "message": "This value is required"})
        if "body" in op and not isinstance(op["body"], str):
            problems.append(
                {"field": f"{where}.body", "message": "Schema describes string (a JSON text)"}
            )
        if "params" in op and not isinstance(op["params"], dict):
            problems.append({"field": f"{where}.params", "message": "Schema describes object"})
        if "operation_id" in op and not isinstance(op["operation_id"], str):
            problems.append(
                {"field": f"{where}.operation_id", "message": "Schema describes string"}
            )
    return problems


def submit(app: App, req: Request, operations: list[dict[str, Any]]) -> dict[str, Any]:
    """Store a new pending batch; the runner picks it up once it is due."""
    store = app.store
    code = req.account.code
    now = utcnow()
    batch_id = uuid.uuid4().hex[:10]
    num = store.max_num(V, code, ["batch"]) + 1
    created = sortable(now)
    doc = batch_doc(batch_id, len(operations), iso_seconds(now))
    delay = app.settings.mailchimp_batch_start_ms / 1000 / app.time_scale
    job = {
        "operations": operations,
        "due_at": time.time() + delay,
        "base_url": req.base_url,
        "created": created,
    }
    store.put(batch_rec(code, doc, num, created))
    store.put(Rec(V, code, "batch_job", batch_id, dumps(job), num=num))
    return doc


def pending_count(app: App, code: str) -> int:
    return app.store.count(V, code, "batch", "status IN ('pending','started')")


def results_response(
    app: App, code: str, name: str, query: dict[str, list[str]], headers: Any
) -> Response:
    """GET of a response_body_url: S3's rules (no other auth, the signature must match)."""
    account = app.accounts.get(V, code)
    batch_id = name.removesuffix("-response.tar.gz")
    if headers.get("Authorization"):
        # S3 refuses a pre-signed URL that also carries an Authorization header.
        return _s3_error(
            400,
            "InvalidArgument",
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
            "Signature query string parameter or the Authorization header should be specified",
        )
    given = (query.get("X-Amz-Signature") or [""])[0]
    if account is None or not hmac.compare_digest(given, signature(account, batch_id)):
        return _s3_error(403, "AccessDenied", "Access Denied")
    with app.store.transaction():
        text = app.store.get(V, code, "batch_result", batch_id)
    if text is None:
        return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
    return Response(200, base64.b64decode(text), "application/x-gzip")


def _s3_error(status: int, code: str, message: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    return Response(status, body.encode(), "application/xml")


def public_batches(app: App, code: str, count: int, offset: int) -> tuple[int, list[str]]:
    store = app.store
    total = store.count(V, code, "batch")
    rows = store.rows(V, code, "batch", columns="data", limit=count, offset=offset)
    return total, [r[0] for r in rows]

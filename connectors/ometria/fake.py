"""Ometria: the marketing platform's push API (https://api.ometria.com/v2/push).

Push answers at once and validates later, as the real one does: a record that breaks a rule is
not stored, and its error appears at GET /v2/push/_errors after a short delay. Existing records
are merged with the fields sent (a shallow merge). Every accepted record is also appended to a
push history, so tests can ask how often a record was sent and what it looks like now.

Validation rules (the sandbox's choice; Ometria documents only "not a valid value" errors):
- contact: `email`, when present, must be a valid address; `marketing_optin`, when present,
  must be one of EXPLICITLY_OPTEDIN, EXPLICITLY_OPTEDOUT, NOT_SPECIFIED.
- order (checked on the merged record, so a status-only update of a known order passes):
  `timestamp` required and ISO-8601; `grand_total` numeric; `currency` three letters;
  `customer` an object with `id` or `email`; every lineitem `quantity` a number > 0.
- product: `title` required; `price`, when present, numeric.
- custom_event (field names unconfirmed): `event_type` and `timestamp` required, and one of
  `identity_account_id` or `identity_email`.
Synchronous refusals (400, nothing stored): a body that is not a JSON array, more than 100
records, mixed `@type`s. A record without `id`, with an unknown `@type`, or over 60 KB is
counted as `rejected` in the answer (and the size error is listed at _errors).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import datetime
from typing import Any

from connectors.sandbox.core import (
    BadRequest,
    Request,
    Response,
    Router,
    Vendor,
    dumps,
    iso_seconds,
    json_response,
    parse_time,
    raw_json,
    sortable,
    utcnow,
)
from connectors.sandbox.state import Rec
from connectors.sandbox.throttle import Hit

V = "ometria"
TYPES = ("contact", "order", "product", "custom_event")
KIND = {
    "contact": "contact",
    "order": "order",
    "product": "product",
    "custom_event": "custom_event",
}
OPTIN_VALUES = ("EXPLICITLY_OPTEDIN", "EXPLICITLY_OPTEDOUT", "NOT_SPECIFIED")
EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def valid_email(value: Any) -> bool:
    return isinstance(value, str) and bool(EMAIL.match(value)) and ".." not in value


def _number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    try:
        float(value)
        return True
    except (TypeError, ValueError):
        return False


def validate(record_type: str, merged: dict[str, Any]) -> list[tuple[str, str]]:
    """[(error_path, error_message)] for a record as it would be stored."""
    problems: list[tuple[str, str]] = []
    if record_type == "contact":
        if (
            "email" in merged
            and merged["email"] not in (None, "")
            and not valid_email(merged["email"])
        ):
            problems.append(("root > email", "not a valid value"))
        if "marketing_optin" in merged and merged["marketing_optin"] not in OPTIN_VALUES:
            problems.append(("root > marketing_optin", "not a valid value"))
    elif record_type == "order":
        try:
            parse_time(str(merged["timestamp"]))
        except (KeyError, ValueError):
            problems.append(("root > timestamp", "not a valid value"))
        if not _number(merged.get("grand_total")):
            problems.append(("root > grand_total", "not a valid value"))
        currency = merged.get("currency")
        if not (isinstance(currency, str) and re.fullmatch(r"[A-Z]{3}", currency)):
            problems.append(("root > currency", "not a valid value"))
        customer = merged.get("customer")
        if not (isinstance(customer, dict) and (customer.get("id") or customer.get("email"))):
            problems.append(("root > customer", "not a valid value"))
        for n, item in enumerate(merged.get("lineitems") or []):
            quantity = item.get("quantity") if isinstance(item, dict) else None
            if not _number(quantity) or float(quantity) <= 0:
                problems.append((f"root > lineitems > {n} > quantity", "not a valid value"))
    elif record_type == "product":
        if not merged.get("title"):
            problems.append(("root > title", "not a valid value"))
        if "price" in merged and not _number(merged["price"]):
            problems.append(("root > price", "not a valid value"))
    elif record_type == "custom_event":
        if not merged.get("event_type"):
            problems.append(("root > event_type", "not a valid value"))
        try:
            parse_time(str(merged["timestamp"]))
        except (KeyError, ValueError):
            problems.append(("root > timestamp", "not a valid value"))
        if not (merged.get("identity_account_id") or merged.get("identity_email")):
            problems.append(("root > identity_account_id", "not a valid value"))
    return problems


def record_rec(
    account: str, record_type: str, doc: dict[str, Any], now: datetime | str, text: str = ""
) -> Rec:
    """The stored row; `now` may come pre-formatted and `text` pre-encoded (a push does both)."""
    customer = doc.get("customer") if isinstance(doc.get("customer"), dict) else {}
    owner = doc.get("identity_account_id") or customer.get("id") or doc.get("customer_id") or None
    email = doc.get("email") or doc.get("identity_email") or customer.get("email") or ""
    return Rec(
        V,
        account,
        KIND[record_type],
        str(doc["id"]),
        text or dumps(doc),
        updated=now if isinstance(now, str) else sortable(now),
        owner=str(owner) if owner is not None else None,
        status=str(doc.get("status")) if doc.get("status") is not None else None,
        type=str(doc.get("event_type")) if record_type == "custom_event" else None,
        lookup=str(email).lower() or None,
    )


# The columns an update leaves alone when it can (see push), as stored and as in a Rec.
KEPT_COLUMNS = "num, created, parent, owner, type, lookup, row"


def kept_columns(rec: Rec) -> tuple[Any, ...]:
    return (rec.num, rec.created, rec.parent, rec.owner, rec.type, rec.lookup, rec.row)


def error_response(message: str, status: int) -> Response:
    return json_response({"status": "ERROR", "message": message}, status)


class Ometria(Vendor):
    name = V
    router = Router()
    route = router.route

    def bucket(self, req: Request) -> str:
        account = self.app.accounts.find(V, "api_key", req.headers.get("X-Ometria-Auth"))
        return account.code if account else "-"

    def write_keys(self, req: Request) -> list[str]:
        """The records a push names, as "<@type>:<id>" (e.g. "custom_event:gon-50006")."""
        try:
            records = req.json()
        except BadRequest:
            return []
        if not isinstance(records, list):
            return []
        return [
            f"{r.get('@type')}:{r['id']}" for r in records if isinstance(r, dict) and r.get("id")
        ]

    def authenticate(self, req: Request) -> Response | None:
        key = req.headers.get("X-Ometria-Auth")
        account = self.app.accounts.find(V, "api_key", key) if key else None
        if account is None:
            return error_response("Invalid or missing API key (X-Ometria-Auth)", 401)
        req.account = account
        return None

    def throttled(self, req: Request) -> Response:
        return error_response("Too many requests", 429)

    def server_error(self, req: Request) -> Response:
        return error_response("Internal server error", 500)

    def not_found(self, req: Request) -> Response:
        return error_response("Not found", 404)

    def bad_request(self, req: Request, message: str) -> Response:
        return error_response(message, 400)

    def limit_headers(self, req: Request, hit: Hit | None) -> dict[str, str]:
        queue = getattr(req, "queue", None)
        if queue is None:
            return {}
        # The documented queue headers on every push the queue looked at (docs.ometria.com,
        # "Ometria API introduction"). The page says Limit shows "your current backlog"; the
        # sandbox sends the limit, as the name says (a guess), and Remaining the room left.
        limit, room = queue
        return {"X-QueueSize-Limit": str(limit), "X-QueueSize-Remaining": str(room)}

    def _queue_room(self, account: str) -> tuple[int, int, float]:
        """(room left, records queued by this account now, the time) after draining."""
        settings = self.app.settings
        state = self.app.store.get_json(V, account, "queue", "level") or {"level": 0, "at": 0}
        now = time.time()
        drained = (now - float(state["at"])) * self.app.time_scale
        level = max(int(state["level"]) - int(drained * settings.ometria_queue_drain_per_second), 0)
        queued = level + settings.ometria_queue_backlog
        return max(settings.ometria_queue_limit - queued, 0), level, now

    @route("POST", r"/v2/push")
    def push(self, req: Request) -> Response:
        records = req.json()
        settings = self.app.settings
        if not isinstance(records, list):
            return error_response("The body must be a JSON array of records", 400)
        if len(records) > settings.ometria_max_records:
            return error_response(
                f"Too many records: {len(records)}. At most {settings.ometria_max_records} "
                "records may be sent in one request.",
                400,
            )
        types = {r.get("@type") for r in records if isinstance(r, dict)}
        if len(types) > 1:
            return error_response(
                "All records in one request must have the same @type; got "
                + ", ".join(sorted(str(t) for t in types)),
                400,
            )
        account = req.account.code
        store = self.app.store
        room, level, clock = self._queue_room(account)
        req.queue = (settings.ometria_queue_limit, room)  # type: ignore[attr-defined]
        if len(records) > room:
            # Over the backlog: nothing is queued (docs: "you'll get a 429 HTTP response").
            return error_response(
                "Too many records are waiting to be processed: try again later", 429
            )
        now = utcnow()
        at = iso_seconds(now)
        request_id = str(uuid.uuid4())
        visible_at = time.time() + settings.ometria_error_delay_ms / 1000
        accepted = rejected = 0
        pushes: list[tuple[str, str, str, str | None, str, str]] = []
        stored: list[Rec] = []
        # All records share one @type: fetch what exists in one query, merge in order.
        record_type = next(iter(types), None)
        current: dict[str, Any] = {}
        columns: dict[str, tuple[Any, ...]] = {}  # the stored rows' other columns
        if record_type in TYPES:
            ids = [str(r["id"]) for r in records if isinstance(r, dict) and r.get("id")]
            found = store.get_rows(V, account, KIND[record_type], ids, "data, " + KEPT_COLUMNS)
            for rec_id, (data, *rest) in found.items():
                current[rec_id] = json.loads(data)
                columns[rec_id] = tuple(rest)
        stamp = sortable(now)
        for record in records:
            if (
                not isinstance(record, dict)
                or record.get("@type") not in TYPES
                or not record.get("id")
            ):
                rejected += 1
                continue
            text = dumps(record)  # ASCII-only (json escapes the rest): its length is its size
            if len(text) > settings.ometria_max_record_bytes:
                rejected += 1
                self._error(
                    account,
                    record,
                    "root",
                    "Payload invalid: Record is too large.",
                    request_id,
                    visible_at,
                )
                continue
            accepted += 1
            record_id = str(record["id"])
            merged = {**current.get(record_id, {}), **record}
            problems = validate(record_type, merged)
            if problems:
                for path, message in problems:
                    self._error(account, record, path, message, request_id, visible_at)
                continue
            current[record_id] = merged
            # Stored as sent when the merge changed nothing of it (new, or sent in full): no
            # need to encode it twice.
            same = list(merged) == list(record)
            stored.append(record_rec(account, record_type, merged, stamp, text if same else ""))
            pushes.append(
                (
                    V,
                    account,
                    "push",
                    f"{record_type}/{record_id}",
                    at,
                    '{"request_id":"' + request_id + '","record":' + text + "}",
                )
            )
        # An update that keeps every column but updated, status and data (the usual re-send)
        # rewrites just those: the row keeps its entries in the owner and lookup indexes, which
        # sit on a different page for every record, so the push moves a quarter of the pages.
        # (Only when every id is pushed once: otherwise the order of writes would matter.)
        refresh: list[Rec] = []
        if len({rec.id for rec in stored}) == len(stored):
            refresh = [r for r in stored if columns.get(r.id) == kept_columns(r)]
        if refresh:
            store.refresh_many(refresh)
            stored = [r for r in stored if columns.get(r.id) != kept_columns(r)]
        store.put_many(stored)
        store.log_many(pushes)
        # Queued: records checked later, failed or not, wait in the queue like the others.
        store.put(
            Rec(V, account, "queue", "level", dumps({"level": level + accepted, "at": clock}))
        )
        req.queue = (settings.ometria_queue_limit, room - accepted)  # type: ignore[attr-defined]
        return json_response(
            {"status": "OK", "request_id": request_id, "accepted": accepted, "rejected": rejected}
        )

    def _error(
        self,
        account: str,
        record: dict[str, Any],
        path: str,
        message: str,
        request_id: str,
        visible_at: float,
    ) -> None:
        entry = {
            "error_message": message,
            "error_path": path,
            # The sandbox's own bookkeeping, for its state views and tests; never answered
            # (GET /v2/push/_errors gives only the two documented fields).
            "@type": record.get("@type"),
            "id": record.get("id"),
            "request_id": request_id,
            "timestamp": iso_seconds(utcnow()),
            "visible_at": visible_at,
        }
        self.app.store.log(
            V,
            account,
            "push_error",
            f"{record.get('@type')}/{record.get('id')}",
            entry["timestamp"],
            entry,
        )

    @route("GET", r"/v2/push/_errors")
    def errors(self, req: Request) -> Response:
        """The 100 most recent validation errors that have 'happened' by now, newest first,
        each with the two documented fields only: `error_message` and `error_path`
        (docs.ometria.com/docs/list-errors). Nothing says which record, push or time."""
        rows = self.app.store.conn().execute(
            "SELECT data FROM log WHERE vendor=? AND account=? AND kind='push_error' "
            "ORDER BY seq DESC LIMIT 500",
            (V, req.account.code),
        )
        now = time.time()
        visible = []
        for (text,) in rows:
            entry = json.loads(text)
            if entry.get("visible_at", 0) <= now:
                visible.append({k: entry[k] for k in ("error_message", "error_path")})
            if len(visible) == 100:
                break
        return raw_json(json.dumps(visible, separators=(",", ":")))

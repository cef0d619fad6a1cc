"""Salesforce's Query resource: `GET /query?q=SOQL`, then `GET /query/{locator}-{offset}`.

The answer is `{totalSize, done, records[{attributes{type,url}, …fields}], nextRecordsUrl}`;
`nextRecordsUrl` is there while `done` is false (developer.salesforce.com/docs/platform/
api-rest/guide/resources-query.html and dome-query.html). A batch holds up to 2,000 records,
or what `Sforce-Query-Options: batchSize=n` asks (200 to 2,000; the Query Options Header
page). A query it cannot read: 400 MALFORMED_QUERY.

The sandbox reads a subset of SOQL, enough for polling by SystemModstamp and looking records
up by id: `SELECT f, … FROM Object [WHERE cond [AND cond]…] [ORDER BY f [ASC|DESC]]
[LIMIT n]`, where a cond is `field op literal` (op: = != < <= > >=) or `field IN (…)`, a
literal a 'quoted string', a number, a date-time (2024-01-31T00:00:00Z), true/false or null.
Like a query locator, the first page fixes which records the query found; later pages read
those records as they are then.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from datetime import datetime
from typing import Any

from connectors.salesforce.fake.base import V, route, sf_error
from connectors.salesforce.fake.upserts import Upserts
from connectors.sandbox.core import Request, Response, json_response

DEFAULT_BATCH, MIN_BATCH, MAX_BATCH = 2000, 200, 2000
_SELECT = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<obj>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?"
    r"(?:\s+ORDER\s+BY\s+(?P<order>\w+)(?:\s+(?P<dir>ASC|DESC))?)?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.I | re.S,
)
_COND = re.compile(r"^\s*(?P<field>\w+)\s*(?P<op>=|!=|<=|>=|<|>|\bIN\b)\s*(?P<value>.+?)\s*$", re.I)
_LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'|[^,()\s]+")
_LOCATORS: dict[str, tuple[str, list[str], list[str], int]] = {}
_COUNTER = itertools.count(1)
_LOCK = threading.Lock()


class MalformedQuery(ValueError):
    pass


def _literal(text: str) -> Any:
    text = text.strip()
    if text.startswith("'") and text.endswith("'"):
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return float(text)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})", text):
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    raise MalformedQuery(f"unexpected token: '{text}'")


def _comparable(value: Any, like: Any) -> Any:
    """A record's value in the literal's terms (Salesforce's date-times are strings here)."""
    if isinstance(like, datetime) and isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00").replace("+0000", "+00:00"))
    if isinstance(like, float) and isinstance(value, str | int | float):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _matches(record: dict, conds: list[tuple[str, str, Any]]) -> bool:
    for field, op, wanted in conds:
        value = record.get(field)
        if op == "IN":
            if not any(_comparable(value, w) == w for w in wanted):
                return False
            continue
        value = _comparable(value, wanted)
        if op in ("=", "!="):
            if (value == wanted) != (op == "="):
                return False
            continue
        if value is None or wanted is None:
            return False
        try:
            ok = {"<": value < wanted, "<=": value <= wanted, ">": value > wanted}.get(
                op, value >= wanted
            )
        except TypeError:
            return False
        if not ok:
            return False
    return True


def parse(soql: str) -> dict[str, Any]:
    match = _SELECT.match(soql or "")
    if not match:
        raise MalformedQuery("unexpected token: expecting SELECT … FROM …")
    fields = [f.strip() for f in match.group("fields").split(",") if f.strip()]
    if not all(re.fullmatch(r"\w+", f) for f in fields):
        raise MalformedQuery("only plain field names are supported in this sandbox")
    conds = []
    for part in re.split(r"\s+AND\s+", match.group("where") or "", flags=re.I):
        if not part.strip():
            continue
        cond = _COND.match(part)
        if not cond:
            raise MalformedQuery(f"unexpected token: '{part.strip()}'")
        op = cond.group("op").upper()
        value = cond.group("value")
        if op == "IN":
            inner = value.strip()
            if not (inner.startswith("(") and inner.endswith(")")):
                raise MalformedQuery("IN needs a list in brackets")
            conds.append(
                (cond.group("field"), op, [_literal(t) for t in _LITERAL.findall(inner[1:-1])])
            )
        else:
            conds.append((cond.group("field"), op, _literal(value)))
    return {
        "fields": fields,
        "object": match.group("obj"),
        "conds": conds,
        "order": match.group("order"),
        "desc": (match.group("dir") or "").upper() == "DESC",
        "limit": int(match.group("limit")) if match.group("limit") else None,
    }


class QueryRoutes(Upserts):
    """GET /query and its next pages."""

    @route("GET", r"/services/data/v(?P<version>\d+\.\d)/query/?")
    def query(self, req: Request, version: str) -> Response:
        try:
            plan = parse(req.q("q") or "")
        except MalformedQuery as exc:
            return sf_error(400, str(exc), "MALFORMED_QUERY")
        org = req.account.code
        docs = [
            self._doc(text)
            for (text,) in self.app.store.rows(V, org, plan["object"], columns="data")
        ]
        found = [d for d in docs if _matches(d, plan["conds"])]
        if plan["order"]:
            key = plan["order"]
            found.sort(
                key=lambda d: (d.get(key) is None, str(d.get(key) or "")), reverse=plan["desc"]
            )
        if plan["limit"] is not None:
            found = found[: plan["limit"]]
        ids = [d["Id"] for d in found]
        with _LOCK:
            locator = f"01g{next(_COUNTER):015d}"
            _LOCATORS[locator] = (plan["object"], plan["fields"], ids, self._batch(req))
        return self._page(version, org, locator, 0)

    @route("GET", r"/services/data/v(?P<version>\d+\.\d)/query/(?P<locator>01g\w+)-(?P<offset>\d+)")
    def query_more(self, req: Request, version: str, locator: str, offset: str) -> Response:
        if locator not in _LOCATORS:
            return sf_error(400, "invalid query locator", "INVALID_QUERY_LOCATOR")
        return self._page(version, req.account.code, locator, int(offset))

    def _batch(self, req: Request) -> int:
        options = req.headers.get("Sforce-Query-Options") or ""
        match = re.search(r"batchSize=(\d+)", options)
        size = int(match.group(1)) if match else DEFAULT_BATCH
        return min(max(size, MIN_BATCH), MAX_BATCH)

    def _doc(self, text: str) -> dict[str, Any]:
        return json.loads(text)

    def _page(self, version: str, org: str, locator: str, offset: int) -> Response:
        obj, fields, ids, size = _LOCATORS[locator]
        chunk = ids[offset : offset + size]
        docs = self.app.store.get_many(V, org, obj, chunk)
        records = []
        for record_id in chunk:
            if record_id not in docs:
                continue
            doc = self._doc(docs[record_id])
            records.append(
                {
                    "attributes": {
                        "type": obj,
                        "url": f"/services/data/v{version}/sobjects/{obj}/{record_id}",
                    },
                    **{f: doc.get(f) for f in fields},
                }
            )
        body: dict[str, Any] = {"totalSize": len(ids), "done": offset + size >= len(ids)}
        if not body["done"]:
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{offset + size}"
        body["records"] = records
        return json_response(body)

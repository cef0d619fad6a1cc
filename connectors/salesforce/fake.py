"""Salesforce: the CRM's OAuth token endpoint and REST API (sObject rows and collections).

Upserts are keyed on external id fields: any custom field (name ending in __c) is indexed as one.
A relationship may be set through the parent's external id, as Salesforce allows:
{"Account": {"Brightpearl_Id__c": "200"}} sets AccountId. Every data call spends the org's daily
allocation and answers `Sforce-Limit-Info: api-usage=used/limit`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from contextlib import suppress
from typing import Any
from urllib.parse import parse_qs

from connectors.sandbox.core import (
    Account,
    Request,
    Response,
    Router,
    Vendor,
    dumps,
    empty,
    json_object,
    json_response,
    raw_json,
    sortable,
    utcnow,
)
from connectors.sandbox.state import Rec
from connectors.sandbox.throttle import Hit

V = "salesforce"
PREFIXES = {
    "Account": "001",
    "Contact": "003",
    "Opportunity": "006",
    "Lead": "00Q",
    "Product2": "01t",
    "Pricebook2": "01s",
    "PricebookEntry": "01u",
    "Order": "801",
    "OrderItem": "802",
}
CHECKSUM_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
OBJECT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def sf_id(object_type: str, number: int) -> str:
    """An 18-character Salesforce id: key prefix, pod, counter, then the case checksum."""
    prefix = PREFIXES.get(object_type, "a0" + chr(ord("A") + len(object_type) % 26))
    base = f"{prefix}5g{number:010d}"[:15]
    suffix = ""
    for start in range(0, 15, 5):
        bits = sum(1 << i for i, char in enumerate(base[start : start + 5]) if char.isupper())
        suffix += CHECKSUM_CHARS[bits]
    return base + suffix


def sf_error(status: int, message: str, code: str, fields: list[str] | None = None) -> Response:
    entry: dict[str, Any] = {"message": message, "errorCode": code}
    if fields is not None:
        entry["fields"] = fields
    return json_response([entry], status)


def access_token(account: Account) -> str:
    """Deterministic per org and token generation, so tokens survive a sandbox restart."""
    seed = f"{account.creds['client_id']}:{account.creds.get('token_generation', '0')}"
    return f"{account.code}!AQ" + hashlib.sha256(seed.encode()).hexdigest()[:60]


def _relationship_field(name: str) -> str:
    if name.endswith("__r"):
        return name[:-3] + "__c"
    return name + "Id"


class Salesforce(Vendor):
    name = V
    router = Router()
    route = router.route

    def _token(self, req: Request) -> str:
        return (req.headers.get("Authorization") or "").removeprefix("Bearer ").strip()

    def bucket(self, req: Request) -> str:
        account = self.app.accounts.find(V, "access_token", self._token(req))
        return account.code if account else "-"

    def counts_toward_limit(self, req: Request) -> bool:
        # The OAuth endpoint is not an API call against the daily allocation.
        return req.path.startswith("/services/data")

    def is_write(self, req: Request) -> bool:
        # Getting a token writes nothing: it is neither logged nor lost as a write.
        return super().is_write(req) and not req.sent_path.startswith("/services/oauth2/")

    def write_keys(self, req: Request) -> list[str]:
        """The records an upsert names, as "<Object>.<ExternalIdField>:<value>"."""
        one = re.match(r"/services/data/v[\d.]+/sobjects/(\w+)/(\w+)/([^/]+)$", req.sent_path)
        if one:
            return [f"{one.group(1)}.{one.group(2)}:{one.group(3)}"]
        many = re.match(r"/services/data/v[\d.]+/composite/sobjects/(\w+)/(\w+)$", req.sent_path)
        if not many:
            return []
        obj, field = many.groups()
        records = json_object(req).get("records") or []
        return [
            f"{obj}.{field}:{r[field]}"
            for r in records
            if isinstance(r, dict) and r.get(field) not in (None, "")
        ]

    def authenticate(self, req: Request) -> Response | None:
        if req.path.startswith("/services/oauth2/"):
            return None
        account = self.app.accounts.find(V, "access_token", self._token(req))
        if account is None:
            return sf_error(401, "Session expired or invalid", "INVALID_SESSION_ID")
        req.account = account
        return None

    def limit_headers(self, req: Request, hit: Hit | None) -> dict[str, str]:
        if hit is None or not req.path.startswith("/services/data"):
            return {}
        limit = hit.limit or self.app.limits.salesforce_daily or 100_000
        return {"Sforce-Limit-Info": f"api-usage={hit.count}/{limit}"}

    def throttled(self, req: Request) -> Response:
        return sf_error(403, "TotalRequests Limit exceeded.", "REQUEST_LIMIT_EXCEEDED")

    def server_error(self, req: Request) -> Response:
        return sf_error(
            500,
            "An unexpected error occurred. Please include this ErrorId if you contact support: "
            "1105446297-17032 (-1203498410)",
            "UNKNOWN_EXCEPTION",
        )

    def not_found(self, req: Request) -> Response:
        return sf_error(404, "The requested resource does not exist", "NOT_FOUND")

    def method_not_allowed(self, req: Request) -> Response:
        return sf_error(
            405,
            f"HTTP Method '{req.method}' not allowed. Allowed are GET,PATCH",
            "METHOD_NOT_ALLOWED",
        )

    def bad_request(self, req: Request, message: str) -> Response:
        return sf_error(400, message, "JSON_PARSER_ERROR")

    # --- OAuth ---------------------------------------------------------------------------

    @route("POST", r"/services/oauth2/token")
    def token(self, req: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(req.body.decode(errors="replace")).items()}
        client_id = form.get("client_id", "")
        client_secret = form.get("client_secret", "")
        basic = req.headers.get("Authorization") or ""
        if basic.lower().startswith("basic "):
            with suppress(ValueError, UnicodeDecodeError):
                client_id, _, client_secret = (
                    base64.b64decode(basic[6:].strip()).decode().partition(":")
                )
        grant = form.get("grant_type", "")
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            # The signature is not checked: the sandbox holds no certificate. iss names the app.
            client_id = _jwt_issuer(form.get("assertion", ""))
            account = self.app.accounts.find(V, "client_id", client_id)
            if account is None:
                return json_response(
                    {"error": "invalid_grant", "error_description": "invalid assertion"}, 400
                )
        elif grant in ("client_credentials", "password"):
            account = self.app.accounts.find(V, "client_id", client_id)
            if account is None:
                return json_response(
                    {
                        "error": "invalid_client_id",
                        "error_description": "client identifier invalid",
                    },
                    400,
                )
            if client_secret != account.creds["client_secret"]:
                return json_response(
                    {"error": "invalid_client", "error_description": "invalid client credentials"},
                    400,
                )
        else:
            return json_response(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "grant type not supported",
                },
                400,
            )
        issued = str(int(utcnow().timestamp() * 1000))
        token = account.creds["access_token"]
        instance = f"{req.base_url}/salesforce"
        signature = base64.b64encode(
            hashlib.sha256(f"{instance}{issued}{token}".encode()).digest()
        ).decode()
        return json_response(
            {
                "access_token": token,
                "signature": signature,
                "scope": "api",
                "instance_url": instance,
                "id": f"{instance}/id/{account.code}/{account.creds['user_id']}",
                "token_type": "Bearer",
                "issued_at": issued,
            }
        )

    # --- data API ------------------------------------------------------------------------

    @route("GET", r"/services/data")
    def versions(self, req: Request) -> Response:
        return json_response(
            [
                {"label": "Spring '24", "url": "/services/data/v60.0", "version": "60.0"},
                {"label": "Summer '24", "url": "/services/data/v61.0", "version": "61.0"},
            ]
        )

    @route("GET", r"/services/data/v(?P<version>\d+\.\d)/limits")
    def limits(self, req: Request, version: str) -> Response:
        hit = req.hit
        limit = self.app.limits.salesforce_daily or 100_000
        used = hit.count if hit else 0
        return json_response(
            {
                "DailyApiRequests": {"Max": limit, "Remaining": max(limit - used, 0)},
                "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
                "DailyAsyncApexExecutions": {"Max": 250000, "Remaining": 250000},
                "DataStorageMB": {"Max": 1024, "Remaining": 1000},
                "SingleEmail": {"Max": 5000, "Remaining": 5000},
            }
        )

    @route(
        "GET",
        r"/services/data/v(?P<version>\d+\.\d)/sobjects/(?P<obj>\w+)/(?P<field>\w+)/(?P<value>[^/]+)",
    )
    def get_by_external_id(
        self, req: Request, version: str, obj: str, field: str, value: str
    ) -> Response:
        ids = self._match(req.account.code, obj, field, value)
        if not ids:
            return self.not_found(req)
        if len(ids) > 1:
            return self._multiple(version, obj, ids)
        return raw_json(self.app.store.get(V, req.account.code, obj, ids[0]) or "{}")

    @route("GET", r"/services/data/v(?P<version>\d+\.\d)/sobjects/(?P<obj>\w+)/(?P<record_id>\w+)")
    def get_by_id(self, req: Request, version: str, obj: str, record_id: str) -> Response:
        text = self.app.store.get(V, req.account.code, obj, record_id)
        return raw_json(text) if text else self.not_found(req)

    @route(
        "PATCH",
        r"/services/data/v(?P<version>\d+\.\d)/sobjects/(?P<obj>\w+)/(?P<field>\w+)/(?P<value>[^/]+)",
    )
    def upsert_one(self, req: Request, version: str, obj: str, field: str, value: str) -> Response:
        body = req.json()
        if not isinstance(body, dict):
            return sf_error(400, "The body must be a JSON object", "JSON_PARSER_ERROR")
        if "Id" in body:
            return sf_error(400, "Id not allowed in the body of an upsert", "INVALID_FIELD", ["Id"])
        if field in body and str(body[field]) != value:
            return sf_error(
                400,
                f"The external id field {field} in the body does not match the URL",
                "INVALID_FIELD",
                [field],
            )
        ids = (
            self._match(req.account.code, obj, field, value)
            if field != "Id"
            else ([value] if self.app.store.get(V, req.account.code, obj, value) else [])
        )
        if len(ids) > 1:
            return self._multiple(version, obj, ids)
        outcome = self._write(
            req.account.code, obj, field, value, dict(body), ids[0] if ids else None
        )
        if outcome["success"] is False:
            error = outcome["errors"][0]
            return sf_error(400, error["message"], error["statusCode"], error["fields"])
        if outcome["created"]:
            return json_response(outcome, 201)
        if float(version) < 46.0:
            return empty(204)  # before API v46.0 an update answered 204 No Content
        return json_response(outcome, 200)

    @route(
        "PATCH",
        r"/services/data/v(?P<version>\d+\.\d)/composite/sobjects/(?P<obj>\w+)/(?P<field>\w+)",
    )
    def upsert_many(self, req: Request, version: str, obj: str, field: str) -> Response:
        body = req.json()
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list):
            return sf_error(400, "records is required", "JSON_PARSER_ERROR")
        limit = self.app.settings.salesforce_batch_max
        if len(records) > limit:
            return sf_error(
                400,
                f"record limit reached. cannot submit more than {limit} records into this call",
                "EXCEEDED_ID_LIMIT",
            )
        code = req.account.code
        all_or_none = bool(body.get("allOrNone", False))
        seen: dict[str, int] = {}
        for record in records:
            if isinstance(record, dict) and record.get(field) not in (None, ""):
                seen[str(record[field])] = seen.get(str(record[field]), 0) + 1
        plans = [self._plan(code, obj, field, record, seen) for record in records]
        # allOrNone: write inside a savepoint and undo it all if any record failed.
        conn = self.app.store.conn()
        conn.execute("SAVEPOINT collection")
        results: list[dict[str, Any]] = [
            self._write(code, obj, field, str(plan["value"]), plan["fields"], plan["existing"])
            if plan["ok"]
            else {"success": False, "errors": plan["errors"]}
            for plan in plans
        ]
        if all_or_none and not all(r["success"] for r in results):
            conn.execute("ROLLBACK TO collection")
            rolled_back = {
                "success": False,
                "errors": [
                    {
                        "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                        "message": "Record rolled back because not all records were valid and "
                        "the request was using AllOrNone header",
                        "fields": [],
                    }
                ],
            }
            results = [rolled_back if r["success"] else r for r in results]
        conn.execute("RELEASE collection")
        return json_response(results)

    # --- upsert machinery ----------------------------------------------------------------

    def _match(self, org: str, obj: str, field: str, value: str) -> list[str]:
        return self.app.store.find_keys(V, org, obj, field, str(value))

    def _multiple(self, version: str, obj: str, ids: list[str]) -> Response:
        return json_response([f"/services/data/v{version}/sobjects/{obj}/{i}" for i in ids], 300)

    def _plan(
        self, org: str, obj: str, field: str, record: Any, seen: dict[str, int]
    ) -> dict[str, Any]:
        def fail(code: str, message: str, fields: list[str]) -> dict[str, Any]:
            return {
                "ok": False,
                "errors": [{"statusCode": code, "message": message, "fields": fields}],
            }

        if not isinstance(record, dict):
            return fail("JSON_PARSER_ERROR", "Each record must be an object", [])
        attributes = record.get("attributes") or {}
        if attributes.get("type") != obj:
            return fail("INVALID_TYPE", f"Must send a concrete entity type; expected {obj}.", [])
        value = record.get(field)
        if value in (None, ""):
            return fail("MISSING_ARGUMENT", f"{field} not specified", [field])
        if seen.get(str(value), 0) > 1:
            return fail(
                "DUPLICATE_EXTERNAL_ID", f"Duplicate external id specified: {value}", [field]
            )
        ids = self._match(org, obj, field, str(value))
        if len(ids) > 1:
            return fail(
                "DUPLICATE_EXTERNAL_ID",
                f"{field}: more than one record found for external id field: {ids}",
                [field],
            )
        fields = {k: v for k, v in record.items() if k not in ("attributes", field)}
        return {"ok": True, "value": value, "fields": fields, "existing": ids[0] if ids else None}

    def _write(
        self,
        org: str,
        obj: str,
        field: str,
        value: str,
        fields: dict[str, Any],
        existing_id: str | None,
    ) -> dict[str, Any]:
        """Create or update one record; the per-record result Salesforce answers."""
        store = self.app.store

        def fail(code: str, message: str, names: list[str]) -> dict[str, Any]:
            return {
                "success": False,
                "errors": [{"statusCode": code, "message": message, "fields": names}],
            }

        # Relationships given by the parent's external id: {"Account": {"Ext__c": "1"}}.
        for name in [k for k, v in fields.items() if isinstance(v, dict)]:
            ref = dict(fields.pop(name))
            target = (ref.pop("attributes", None) or {}).get("type") or (
                name if name in PREFIXES else None
            )
            if not target or len(ref) != 1:
                return fail("INVALID_FIELD", f"Cannot resolve the relationship {name}", [name])
            ref_field, ref_value = next(iter(ref.items()))
            matches = self._match(org, target, ref_field, str(ref_value))
            if len(matches) != 1:
                return fail(
                    "INVALID_FIELD",
                    f"Foreign key external ID: {ref_value} not found for field {ref_field} in "
                    f"entity {target}",
                    [name],
                )
            fields[_relationship_field(name)] = matches[0]
        now = utcnow().strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        doc = store.get_json(V, org, obj, existing_id) if existing_id else None
        created = doc is None
        if created:
            number = self._next_number(org)
            record_id = sf_id(obj, number)
            doc = {
                "attributes": {
                    "type": obj,
                    "url": f"/services/data/v61.0/sobjects/{obj}/{record_id}",
                },
                "Id": record_id,
                "CreatedDate": now,
            }
            if field != "Id":
                doc[field] = value
        else:
            number = None
        doc.update(fields)
        required = self.app.settings.salesforce_required.get(obj, [])
        missing = [name for name in required if doc.get(name) in (None, "")]
        if missing:
            return fail(
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                missing,
            )
        doc["LastModifiedDate"] = doc["SystemModstamp"] = now
        self._save(org, obj, doc, number)
        return {"id": doc["Id"], "success": True, "errors": [], "created": created}

    def _next_number(self, org: str) -> int:
        row = (
            self.app.store.conn()
            .execute("SELECT MAX(num) FROM records WHERE vendor=? AND account=?", (V, org))
            .fetchone()
        )
        return (row[0] or 0) + 1

    def _save(self, org: str, obj: str, doc: dict[str, Any], number: int | None) -> None:
        store = self.app.store
        if number is None:
            existing = store.rows(V, org, obj, "id = ?", (doc["Id"],), "num")
            number = existing[0][0] if existing else self._next_number(org)
        store.put(
            Rec(
                V,
                org,
                obj,
                doc["Id"],
                dumps(doc),
                num=number,
                updated=sortable(utcnow()),
                lookup=str(doc.get("Email") or "").lower() or None,
            )
        )
        keys = [
            (k, str(v))
            for k, v in doc.items()
            if k.endswith("__c") and isinstance(v, str | int | float) and not isinstance(v, bool)
        ]
        store.set_keys(V, org, obj, doc["Id"], keys)

    def insert_raw(self, org: str, obj: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Control API: create a record directly (e.g. a duplicate external id, for 300s)."""
        number = self._next_number(org)
        record_id = sf_id(obj, number)
        now = utcnow().strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        doc = {
            "attributes": {"type": obj, "url": f"/services/data/v61.0/sobjects/{obj}/{record_id}"},
            "Id": record_id,
            "CreatedDate": now,
            "LastModifiedDate": now,
            "SystemModstamp": now,
            **fields,
        }
        self._save(org, obj, doc, number)
        return doc


def _jwt_issuer(assertion: str) -> str:
    try:
        payload = assertion.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        return str(json.loads(base64.urlsafe_b64decode(payload)).get("iss", ""))
    except (IndexError, ValueError):
        return ""

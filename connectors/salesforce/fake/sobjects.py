"""Salesforce's data API: versions, limits, sObject rows by id or external id, upserts."""

from __future__ import annotations

from typing import Any

from connectors.salesforce.fake.base import V, route, sf_error
from connectors.salesforce.fake.upserts import Upserts
from connectors.sandbox.core import Request, Response, empty, json_response, raw_json, utcnow


class SObjectRoutes(Upserts):
    """/services/data[/vXX.X/...]: reads, upserts and collection upserts."""

    # --- data API ------------------------------------------------------------------------

    @route("GET", r"/services/data")
    def versions(self, req: Request) -> Response:
        return json_response(
            [
                {"label": "Spring '24", "url": "/services/data/v60.0", "version": "60.0"},
                {"label": "Summer '24", "url": "/services/data/v61.0", "version": "61.0"},
            ]
        )

    @route("GET", r"/services/data/v(?P<version>\d+\.\d)/?")
    def resources(self, req: Request, version: str) -> Response:
        """Resources by Version: each resource's name and URI (a subset of the list)."""
        base = f"/services/data/v{version}"
        names = ("sobjects", "query", "queryAll", "limits", "composite", "search", "recent")
        return json_response({name: f"{base}/{name}" for name in names})

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
        "PATCH", r"/services/data/v(?P<version>\d+\.\d)/sobjects/(?P<obj>\w+)/(?P<record_id>\w+)"
    )
    def update_by_id(self, req: Request, version: str, obj: str, record_id: str) -> Response:
        """Update one record by its id: the fields given (null empties one), 204 No Content."""
        body = req.json()
        if not isinstance(body, dict):
            return sf_error(400, "The body must be a JSON object", "JSON_PARSER_ERROR")
        if "Id" in body:
            return sf_error(400, "Id not allowed in the body", "INVALID_FIELD", ["Id"])
        doc = self.app.store.get_json(V, req.account.code, obj, record_id)
        if doc is None:
            return self.not_found(req)
        doc.update(body)
        doc["LastModifiedDate"] = doc["SystemModstamp"] = utcnow().strftime(
            "%Y-%m-%dT%H:%M:%S.000+0000"
        )
        doc["LastModifiedById"] = self.api_user(req.account.code)
        self._save(req.account.code, obj, doc, None)
        return empty(204)

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
        if refused := self._not_an_external_id(field):
            return refused
        if field != "Id":
            self._note_external_id(req.account.code, obj, field)
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
        if refused := self._not_an_external_id(field):
            return refused
        code = req.account.code
        all_or_none = bool(body.get("allOrNone", False))
        seen: dict[str, int] = {}
        for record in records:
            if isinstance(record, dict) and record.get(field) not in (None, ""):
                seen[str(record[field])] = seen.get(str(record[field]), 0) + 1
        self._note_external_id(code, obj, field)
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

"""Salesforce upserts by external id: matching, relationships by a parent's external id, saving."""

from __future__ import annotations

from typing import Any

from connectors.salesforce.fake.base import (
    EXTERNAL_ID_KIND,
    PREFIXES,
    SalesforceBase,
    V,
    sf_error,
    sf_id,
)
from connectors.sandbox.core import Response, dumps, json_response, sortable, utcnow
from connectors.sandbox.state import Rec

# A person using Salesforce (a sales rep), for records made through the control API.
SALES_USER = "0055g0000000SALESA"


class Upserts(SalesforceBase):
    """Create or update records keyed on an external id field, as the REST API does."""

    # --- upsert machinery ----------------------------------------------------------------

    def _note_external_id(self, org: str, obj: str, field: str) -> None:
        """Remember that a client used `field` as `obj`'s External Id (Salesforce requires the
        field to be one; the sandbox takes any __c field): the duplicates report checks those
        fields, not every custom field."""
        store = self.app.store
        key = f"{obj}.{field}"
        if store.get("sandbox", org, EXTERNAL_ID_KIND, key) is None:
            doc = {"object": obj, "field": field}
            store.put(Rec("sandbox", org, EXTERNAL_ID_KIND, key, dumps(doc)))

    def _not_an_external_id(self, field: str) -> Response | None:
        """An upsert matches only on an External ID field (or a standard field with the
        idLookup property, such as Contact.Email, which the sandbox does not index): a
        standard field such as Product2.ProductCode is refused, as Salesforce refuses it."""
        if field == "Id" or field.endswith("__c"):
            return None
        return sf_error(
            404,
            f"Provided external ID field does not exist or is not accessible: {field}",
            "NOT_FOUND",
        )

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
            self._note_external_id(org, target, ref_field)
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
                "CreatedById": self.api_user(org),
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
        doc["LastModifiedById"] = self.api_user(org)
        self._save(org, obj, doc, number)
        if created:
            store.note_created(V, org, obj, doc["Id"])
        return {"id": doc["Id"], "success": True, "errors": [], "created": created}

    def api_user(self, org: str) -> str:
        """The org's integration user (the Run As user of the app the token was issued to):
        Salesforce stamps CreatedById and LastModifiedById with the user a call runs as."""
        account = self.app.accounts.get(V, org)
        return str((account.creds if account else {}).get("user_id") or "")

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
            # Made by a person in Salesforce's own pages, not through the API (a fields'
            # CreatedById/LastModifiedById overrides it).
            "CreatedById": SALES_USER,
            "LastModifiedById": SALES_USER,
            **fields,
        }
        self._save(org, obj, doc, number)
        self.app.store.note_created(V, org, obj, record_id)
        return doc

    def update_raw(
        self, org: str, obj: str, record_id: str, fields: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Control API: change a record as a person in Salesforce would (LastModifiedById a
        sales rep unless the fields say otherwise); None if there is no such record."""
        doc = self.app.store.get_json(V, org, obj, record_id)
        if doc is None:
            return None
        now = utcnow().strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        doc.update({"LastModifiedById": SALES_USER, **fields})
        doc["LastModifiedDate"] = doc["SystemModstamp"] = now
        self._save(org, obj, doc, None)
        return doc


def _relationship_field(name: str) -> str:
    if name.endswith("__r"):
        return name[:-3] + "__c"
    return name + "Id"

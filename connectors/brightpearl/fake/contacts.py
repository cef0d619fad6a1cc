"""Brightpearl's contact service: contacts, their search, tags and custom fields."""

from __future__ import annotations

import json

from connectors.brightpearl.fake.base import BrightpearlBase, route
from connectors.brightpearl.fake.columns import CONTACT_COLUMNS
from connectors.brightpearl.fake.constants import JSON_UTF8, V, errors
from connectors.brightpearl.fake.contact_records import contact_doc, contact_rec
from connectors.brightpearl.fake.records import simple_rec
from connectors.sandbox.core import (
    BadRequest,
    Request,
    Response,
    iso_ms,
    json_response,
    parse_idset,
    raw_json,
    utcnow,
)


class ContactRoutes(BrightpearlBase):
    """/contact-service: contacts, tags, custom fields."""

    # --- contact service -------------------------------------------------------------------

    @route("GET", r"/contact-service/contact/(?P<ids>[^/]+)")
    def contact_get(self, req: Request, ids: str) -> Response:
        return self._get_list(req, "contact", ids, self.settings.brightpearl_idset_max)

    @route("OPTIONS", r"/contact-service/contact(?:/(?P<ids>[^/]*))?")
    def contact_options(self, req: Request, ids: str | None = None) -> Response:
        return self._options(
            req, "contact", ids or "", "contact", self.settings.brightpearl_idset_max
        )

    @route("GET", r"/contact-service/postal-address/(?P<ids>[^/]+)")
    def postal_address_get(self, req: Request, ids: str) -> Response:
        """Postal addresses by id set, in the shape of api-docs.brightpearl.com/contact/
        postal-address/get.html. The seed keeps no addresses: contact N's are 2N (default and
        billing) and 2N+1 (delivery), as its postAddressIds say, made from its id."""
        wanted = self._ids(ids, self.settings.brightpearl_idset_max)
        if isinstance(wanted, Response):
            return wanted
        found = self.app.store.get_many(
            V, req.account.code, "contact", sorted({i // 2 for i in wanted})
        )
        addresses = [postal_address(i) for i in sorted(wanted) if str(i // 2) in found]
        if not addresses:
            return errors("CMNC-404", "No postal addresses were found", 404)
        return json_response({"response": addresses})

    @route("GET", r"/contact-service/contact-search")
    def contact_search(self, req: Request) -> Response:
        return self._search(req, "contact", CONTACT_COLUMNS)

    @route("POST", r"/contact-service/contact")
    def contact_post(self, req: Request) -> Response:
        body = req.json()
        if not isinstance(body, dict):
            raise BadRequest("The body must be a JSON object")
        if not (body.get("firstName") or body.get("lastName")):
            return errors("CONC-010", "A contact needs a first name or a last name", 400)
        store = self.app.store
        code = req.account.code
        contact_id = store.max_num(V, code, ["contact"]) + 1
        emails = (body.get("communication") or {}).get("emails") or {}
        phones = (body.get("communication") or {}).get("telephones") or {}
        now = utcnow()
        doc = contact_doc(
            contact_id=contact_id,
            first=body.get("firstName", ""),
            last=body.get("lastName", ""),
            email=(emails.get("PRI") or {}).get("email", ""),
            phone=phones.get("PRI", ""),
            tags=[],
            # The customer group by its id, 2 the wholesale one (a guess at the field: the
            # contact POST page does not list it).
            customer_group="Wholesale"
            if str((body.get("customerGroup") or {}).get("id")) == "2"
            else "Retail",
            created=now,
            updated=now,
            company=(body.get("organisation") or {}).get("name", ""),
        )
        # The other numbers the POST takes (SEC, MOB, FAX) beside the primary one.
        doc["communication"]["telephones"].update(
            {k: v for k, v in phones.items() if k in ("SEC", "MOB", "FAX") and v}
        )
        store.put(contact_rec(code, doc))
        store.note_created(V, code, "contact", contact_id)
        # Brightpearl lists no contact event (help page "Subscribable resource events").
        return json_response({"response": contact_id}, content_type=JSON_UTF8)

    @route("PATCH", r"/contact-service/contact/(?P<contact_id>\d+)")
    def contact_patch(self, req: Request, contact_id: str) -> Response:
        """JSON-Patch on a contact's own fields (api-docs.brightpearl.com/contact/contact/
        patch.html): /firstName, /lastName, /salutation, /communication/telephones/{PRI, SEC,
        MOB, FAX} and /communication/emails/{PRI, SEC, TER}/email; answers the modified
        contact. updatedOn moves (a guess: the page does not say)."""
        store = self.app.store
        code = req.account.code
        doc = store.get_json(V, code, "contact", contact_id)
        if doc is None:
            return errors("CONC-404", f"Contact {contact_id} does not exist", 404)
        ops = req.json()
        if not isinstance(ops, list):
            raise BadRequest("The body must be a JSON-Patch array")
        for op in ops:
            path = str(op.get("path", "")).strip("/").split("/")
            kind = op.get("op")
            if kind not in ("add", "replace", "remove", "test"):
                raise BadRequest(f"Unsupported operation {kind!r}")
            if path in (["firstName"], ["lastName"], ["salutation"]):
                target, key = doc, path[0]
            elif len(path) == 3 and path[:2] == ["communication", "telephones"]:
                target, key = doc["communication"].setdefault("telephones", {}), path[2]
            elif len(path) == 4 and path[:2] == ["communication", "emails"] and path[3] == "email":
                target, key = (
                    doc["communication"].setdefault("emails", {}).setdefault(path[2], {}),
                    "email",
                )
            else:
                return errors("CONC-041", f"The path {op.get('path')!r} cannot be patched", 400)
            if kind == "test":
                if target.get(key) != op.get("value"):
                    return errors("CONC-042", f"Test failed on {op.get('path')!r}", 400)
            elif kind == "remove":
                target.pop(key, None)
            else:
                target[key] = op.get("value")
        doc["updatedOn"] = iso_ms(utcnow())
        store.put(contact_rec(code, doc))
        return json_response({"response": doc}, content_type=JSON_UTF8)

    @route("GET", r"/contact-service/tag(?:/(?P<ids>[^/]*))?")
    def tag_get(self, req: Request, ids: str | None = None) -> Response:
        rows = self.app.store.rows(V, req.account.code, "tag")
        if ids:
            wanted = {str(i) for i in parse_idset(ids)}
            rows = [r for r in rows if r[0] in wanted]
        text = '{"response":{' + ",".join(f'"{i}":{d}' for i, d in rows) + "}}"
        return raw_json(text, content_type=JSON_UTF8)

    @route("POST", r"/contact-service/contact/(?P<ids>[^/]+)/tag/(?P<tags>[^/]+)")
    def contact_tag_post(self, req: Request, ids: str, tags: str) -> Response:
        contact_ids = self._ids(ids, self.settings.brightpearl_idset_max)
        if isinstance(contact_ids, Response):
            return contact_ids
        tag_ids = self._ids(tags, self.settings.brightpearl_idset_max)
        if isinstance(tag_ids, Response):
            return tag_ids
        store = self.app.store
        code = req.account.code
        known = {r[0] for r in store.rows(V, code, "tag", columns="id")}
        unknown = [t for t in tag_ids if str(t) not in known]
        if unknown:
            return errors("CONC-040", f"Tag {unknown[0]} does not exist", 400)
        found = store.get_many(V, code, "contact", contact_ids)
        now = utcnow()
        for text in found.values():
            doc = json.loads(text)
            current = [int(t) for t in doc["contactTags"].split(",") if t]
            doc["contactTags"] = ",".join(str(t) for t in sorted(set(current) | set(tag_ids)))
            doc["updatedOn"] = iso_ms(now)
            store.put(contact_rec(code, doc))
        return raw_json("{}", content_type=JSON_UTF8)

    @route(
        "GET",
        r"/contact-service/(?P<kind>customer|supplier)/custom-field-meta-data(?:/(?P<ids>[^/]*))?",
    )
    def custom_field_meta(self, req: Request, kind: str, ids: str | None = None) -> Response:
        """The custom fields the account defines, customer or supplier (Custom Field Metadata
        GET): `{"response":[{id, code, name, customFieldType, required}]}`."""
        rows = [] if kind == "supplier" else self.app.store.rows(V, req.account.code,
                                                                 "customer_field_meta")  # fmt: skip
        if ids:
            wanted = {str(i) for i in parse_idset(ids)}
            rows = [r for r in rows if r[0] in wanted]
        text = '{"response":[' + ",".join(d for _, d in rows) + "]}"
        return raw_json(text, content_type=JSON_UTF8)

    @route("GET", r"/contact-service/contact/(?P<contact_id>\d+)/custom-field")
    def custom_field_get(self, req: Request, contact_id: str) -> Response:
        store = self.app.store
        if store.get(V, req.account.code, "contact", contact_id) is None:
            return errors("CONC-404", f"Contact {contact_id} does not exist", 404)
        custom = store.get(V, req.account.code, "contact_custom", contact_id) or "{}"
        return raw_json('{"response":' + custom + "}", content_type=JSON_UTF8)

    @route("PATCH", r"/contact-service/contact/(?P<contact_id>\d+)/custom-field")
    def custom_field_patch(self, req: Request, contact_id: str) -> Response:
        """JSON-Patch on the custom fields. Like Brightpearl, updatedOn does not move."""
        store = self.app.store
        code = req.account.code
        if store.get(V, code, "contact", contact_id) is None:
            return errors("CONC-404", f"Contact {contact_id} does not exist", 404)
        custom = json.loads(store.get(V, code, "contact_custom", contact_id) or "{}")
        ops = req.json()
        if not isinstance(ops, list):
            raise BadRequest("The body must be a JSON-Patch array")
        for op in ops:
            key = str(op.get("path", "")).lstrip("/")
            if not key:
                raise BadRequest("Every operation needs a path such as /PCF_LOYALTY")
            if op.get("op") in ("add", "replace"):
                custom[key] = op.get("value")
            elif op.get("op") == "remove":
                custom.pop(key, None)
            else:
                raise BadRequest(f"Unsupported operation {op.get('op')!r}")
        store.put(simple_rec(code, "contact_custom", int(contact_id), custom))
        return json_response({"response": custom}, content_type=JSON_UTF8)


_STREETS = ("High Street", "Station Road", "Church Lane", "Mill Road", "Victoria Street")
_TOWNS = (("Leeds", "West Yorkshire"), ("Bristol", ""), ("York", "North Yorkshire"))


def postal_address(address_id: int) -> dict:
    """One address, the same for an id every time (a delivery address differs from billing)."""
    contact_id, delivery = divmod(address_id, 2)
    town, county = _TOWNS[contact_id % len(_TOWNS)]
    return {
        "addressId": address_id,
        "contactId": contact_id,
        "addressLine1": f"{contact_id % 97 + 1} {_STREETS[(contact_id + delivery) % 5]}",
        "addressLine2": "Unit 4" if delivery else "",
        "addressLine3": town,
        "addressLine4": county,
        "postalCode": f"LS{contact_id % 28 + 1} {delivery + 1}AB",
        "countryIsoCode": "GBR",
        "countryIsoCode2": "GB",
        "countryId": 222,
    }

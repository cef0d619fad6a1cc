"""An audience's merge fields: GET and POST /3.0/lists/{id}/merge-fields (openapi l.8404,
`getListsIdMergeFields`, `postListsIdMergeFields`; a field is {merge_id, tag, name, type,
required, default_value, public, display_order, options, help_text, list_id, _links}).

Every audience starts with Mailchimp's defaults FNAME, LNAME, ADDRESS, PHONE and BIRTHDAY
(https://mailchimp.com/help/getting-started-with-merge-tags/). A tag already in use is
refused with 400 (the text is a guess)."""

from __future__ import annotations

import json
import re
from typing import Any

from connectors.mailchimp.fake.base import MailchimpBase, route
from connectors.mailchimp.fake.records import V, problem
from connectors.sandbox.core import Request, Response, dumps, json_response
from connectors.sandbox.state import Rec

DEFAULTS = (
    ("FNAME", "First Name", "text"),
    ("LNAME", "Last Name", "text"),
    ("ADDRESS", "Address", "address"),
    ("PHONE", "Phone Number", "phone"),
    ("BIRTHDAY", "Birthday", "birthday"),
)
TYPES = ("text", "number", "address", "phone", "date", "url", "imageurl", "radio", "dropdown",
         "birthday", "zip")  # fmt: skip


def field_doc(list_id: str, merge_id: int, tag: str, name: str, kind: str) -> dict[str, Any]:
    return {
        "merge_id": merge_id,
        "tag": tag,
        "name": name,
        "type": kind,
        "required": False,
        "default_value": "",
        "public": True,
        "display_order": merge_id + 1,
        "options": {"size": 25} if kind == "text" else {},
        "help_text": "",
        "list_id": list_id,
        "_links": [],
    }


class MergeFieldRoutes(MailchimpBase):
    """/3.0/lists/{id}/merge-fields."""

    def _fields(self, list_id: str) -> list[dict[str, Any]]:
        made = [
            json.loads(r[0])
            for r in self.app.store.rows(V, list_id, "merge_field", "", (), "data", "num, id")
        ]
        defaults = [field_doc(list_id, n + 1, *d) for n, d in enumerate(DEFAULTS)]
        return defaults + made

    @route("GET", r"/3.0/lists/(?P<list_id>\w+)/merge-fields")
    def merge_fields_get(self, req: Request, list_id: str) -> Response:
        if missing := self._list(req, list_id):
            return missing
        fields = self._fields(list_id)
        count, offset = int(req.q("count") or 10), int(req.q("offset") or 0)
        return json_response(
            {
                "merge_fields": fields[offset : offset + min(count, 1000)],
                "list_id": list_id,
                "total_items": len(fields),
                "_links": [],
            }
        )

    @route("POST", r"/3.0/lists/(?P<list_id>\w+)/merge-fields")
    def merge_fields_post(self, req: Request, list_id: str) -> Response:
        if missing := self._list(req, list_id):
            return missing
        body = req.json()
        if not isinstance(body, dict) or not body.get("name") or body.get("type") not in TYPES:
            return problem("Invalid Resource", 400, "name and a valid type are required.")
        fields = self._fields(list_id)
        tag = str(body.get("tag") or re.sub(r"[^A-Z0-9]", "", body["name"].upper())[:10])
        if any(f["tag"] == tag.upper() for f in fields):
            return problem("Invalid Resource", 400, f"A merge field with the tag {tag} exists.")
        merge_id = max(f["merge_id"] for f in fields) + 1
        doc = field_doc(list_id, merge_id, tag.upper(), body["name"], body["type"])
        self.app.store.put(Rec(V, list_id, "merge_field", str(merge_id), dumps(doc), num=merge_id))
        return json_response(doc)

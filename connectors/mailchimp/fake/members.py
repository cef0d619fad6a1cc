"""Mailchimp audiences and members: read, upsert (one, or a batch of up to 500), tags."""

from __future__ import annotations

import json
from typing import Any

from connectors.mailchimp.fake.base import MailchimpBase, route
from connectors.mailchimp.fake.records import (
    STATUSES,
    V,
    batch_error,
    list_doc,
    member_doc,
    member_rec,
    normal_hash,
    problem,
    subscriber_hash,
    tag_doc,
)
from connectors.ometria.fake import valid_email
from connectors.sandbox.core import (
    Request,
    Response,
    empty,
    iso_seconds,
    json_response,
    parse_time,
    raw_json,
    sortable,
    utcnow,
)


class MemberRoutes(MailchimpBase):
    """/3.0/ping, /3.0/lists/{id}, its members, batch subscribe and tags."""

    # --- routes ------------------------------------------------------------------------------

    @route("GET", r"/3.0/ping")
    def ping(self, req: Request) -> Response:
        return json_response({"health_status": "Everything's Chimpy!"})

    @route("GET", r"/3.0/lists/(?P<list_id>\w+)")
    def list_get(self, req: Request, list_id: str) -> Response:
        if missing := self._list(req, list_id):
            return missing
        counts = dict(
            self.app.store.conn().execute(
                "SELECT status, COUNT(*) FROM records "
                "WHERE vendor=? AND account=? AND kind='member' "
                "GROUP BY status",
                (V, list_id),
            )
        )
        return json_response(list_doc(req.account, counts, req.account.creds.get("created", "")))

    @route("GET", r"/3.0/lists/(?P<list_id>\w+)/members")
    def members_get(self, req: Request, list_id: str) -> Response:
        if missing := self._list(req, list_id):
            return missing
        where, params = [], []
        status = req.q("status")
        if status:
            if status not in STATUSES:
                return problem("Invalid Resource", 400, f"{status} is not a valid status.")
            where.append("status = ?")
            params.append(status)
        since = req.q("since_last_changed")
        if since:
            try:
                where.append("updated >= ?")
                params.append(sortable(parse_time(since)))
            except ValueError:
                return problem("Invalid Resource", 400, "since_last_changed is not a valid date.")
        try:
            count = min(int(req.q("count") or 10), self.app.settings.mailchimp_page_max)
            offset = int(req.q("offset") or 0)
        except ValueError:
            return problem("Invalid Resource", 400, "count and offset must be integers.")
        store = self.app.store
        where_sql = " AND ".join(where)
        total = store.count(V, list_id, "member", where_sql, params)
        rows = store.rows(
            V, list_id, "member", where_sql, params, "data", "num", limit=count, offset=offset
        )
        text = (
            '{"members":['
            + ",".join(r[0] for r in rows)
            + f'],"list_id":"{list_id}","total_items":{total},"_links":[]}}'
        )
        return raw_json(text)

    @route("GET", r"/3.0/lists/(?P<list_id>\w+)/members/(?P<digest>[^/]+)")
    def member_get(self, req: Request, list_id: str, digest: str) -> Response:
        if missing := self._list(req, list_id):
            return missing
        text = self.app.store.get(V, list_id, "member", normal_hash(digest))
        return raw_json(text) if text else self.not_found(req)

    @route("PUT", r"/3.0/lists/(?P<list_id>\w+)/members/(?P<digest>[^/]+)")
    def member_put(self, req: Request, list_id: str, digest: str) -> Response:
        return self._upsert_one(req, list_id, digest, put=True)

    @route("PATCH", r"/3.0/lists/(?P<list_id>\w+)/members/(?P<digest>[^/]+)")
    def member_patch(self, req: Request, list_id: str, digest: str) -> Response:
        return self._upsert_one(req, list_id, digest, put=False)

    @route("POST", r"/3.0/lists/(?P<list_id>\w+)/members")
    def member_post(self, req: Request, list_id: str) -> Response:
        body = req.json()
        email = (body or {}).get("email_address", "") if isinstance(body, dict) else ""
        if self.app.store.get(V, list_id, "member", subscriber_hash(email)) and email:
            return problem(
                "Member Exists",
                400,
                f"{email} is already a list member. Use PUT to insert or update list members.",
            )
        return self._upsert_one(req, list_id, subscriber_hash(email), put=True)

    def _upsert_one(self, req: Request, list_id: str, digest: str, put: bool) -> Response:
        if missing := self._list(req, list_id):
            return missing
        body = req.json()
        if not isinstance(body, dict):
            return problem("JSON Schema Validation Failed", 400, "The body must be a JSON object.")
        store = self.app.store
        digest = normal_hash(digest)
        found = store.rows(V, list_id, "member", "id = ?", (digest,), "data, type")
        existing = json.loads(found[0][0]) if found else None
        if found and found[0][1] == "compliance":
            return self._compliance(existing["email_address"])
        email = body.get("email_address") or (existing or {}).get("email_address")
        if not email:
            return problem(
                "Invalid Resource",
                400,
                "The resource submitted could not be validated. For field-specific details, "
                "see the 'errors' array.",
                errors=[{"field": "email_address", "message": "This value should not be blank."}],
            )
        if subscriber_hash(email) != digest:
            return problem(
                "Invalid Resource",
                400,
                "The subscriber hash in the URL does not match the md5 of the lowercase email.",
            )
        if not valid_email(email):
            return problem(
                "Invalid Resource",
                400,
                f"{email} looks fake or invalid, please enter a real email address.",
            )
        result = self._apply(req, list_id, existing, body, email, source="api")
        if isinstance(result, Response):
            return result
        return json_response(result)

    def _compliance(self, email: str) -> Response:
        return problem(
            "Member In Compliance State",
            400,
            f"{email} is already a list member in compliance state due to unsubscribe, bounce, "
            "or compliance review and cannot be subscribed.",
        )

    def _apply(
        self,
        req: Request,
        list_id: str,
        existing: dict[str, Any] | None,
        body: dict[str, Any],
        email: str,
        source: str,
        status_field: str = "status",
    ) -> dict[str, Any] | Response:
        """Create or update one member from an API body; log any status change."""
        store = self.app.store
        now = utcnow()
        merge = body.get("merge_fields") or {}
        if existing is None:
            status = body.get(status_field) or body.get("status_if_new")
            if status not in STATUSES:
                return problem(
                    "Invalid Resource",
                    400,
                    "The resource submitted could not be validated. For field-specific details, "
                    "see the 'errors' array.",
                    errors=[{"field": "status", "message": "Status is required for new members."}],
                )
            web_id = store.max_num(V, list_id, ["member"]) + 1
            doc = member_doc(
                list_id=list_id,
                email=email,
                status=status,
                first=str(merge.get("FNAME", "")),
                last=str(merge.get("LNAME", "")),
                web_id=web_id,
                changed=now,
                tags=[
                    t if isinstance(t, str) else t.get("name", "") for t in body.get("tags") or []
                ],
                merge_fields=merge,
                vip=bool(body.get("vip", False)),
            )
            self._log_status(list_id, doc, None, status, source)
            store.note_created(V, list_id, "member", doc["id"])
        else:
            doc = existing
            doc["merge_fields"] = {**doc["merge_fields"], **merge}
            names = doc["merge_fields"]
            doc["full_name"] = f"{names.get('FNAME', '')} {names.get('LNAME', '')}".strip()
            if "vip" in body:
                doc["vip"] = bool(body["vip"])
            new_status = body.get(status_field)
            if new_status is not None and new_status not in STATUSES:
                return problem("Invalid Resource", 400, f"{new_status} is not a valid status.")
            if new_status and new_status != doc["status"]:
                self._log_status(list_id, doc, doc["status"], new_status, source)
                doc["status"] = new_status
                if new_status == "unsubscribed":
                    doc["unsubscribe_reason"] = "N/A (Unsubscribed by an admin)"
                else:
                    doc.pop("unsubscribe_reason", None)
            doc["last_changed"] = iso_seconds(now)
        store.put(member_rec(list_id, doc))
        return doc

    def _log_status(
        self, list_id: str, doc: dict[str, Any], old: str | None, new: str, source: str
    ) -> None:
        self.app.store.log(
            V,
            list_id,
            "member_status",
            doc["id"],
            iso_seconds(utcnow()),
            {"email_address": doc["email_address"], "from": old, "to": new, "source": source},
        )

    @route("POST", r"/3.0/lists/(?P<list_id>\w+)")
    def batch(self, req: Request, list_id: str) -> Response:
        """Batch subscribe or unsubscribe: {members:[...<=500], update_existing}."""
        if missing := self._list(req, list_id):
            return missing
        body = req.json()
        members = body.get("members") if isinstance(body, dict) else None
        if not isinstance(members, list):
            return problem("Invalid Resource", 400, "members must be an array.")
        limit = self.app.settings.mailchimp_batch_max
        if len(members) > limit:
            return problem(
                "Invalid Resource",
                400,
                f"The resource submitted could not be validated. members: at most {limit} "
                f"members may be sent in one call, got {len(members)}.",
            )
        update_existing = bool(body.get("update_existing", False))
        store = self.app.store
        created, updated, errors = [], [], []
        for item in members:
            email = (item or {}).get("email_address", "") if isinstance(item, dict) else ""
            if not valid_email(email):
                errors.append(
                    batch_error(email, "Invalid email address", "ERROR_GENERIC", "email_address")
                )
                continue
            digest = subscriber_hash(email)
            found = store.rows(V, list_id, "member", "id = ?", (digest,), "data, type")
            if found and found[0][1] == "compliance":
                errors.append(
                    batch_error(
                        email,
                        f"{email} is in a compliance state due to unsubscribe, bounce, or "
                        "compliance review and cannot be subscribed.",
                        "ERROR_GENERIC",
                    )
                )
                continue
            existing = json.loads(found[0][0]) if found else None
            if existing is not None and not update_existing:
                errors.append(
                    batch_error(
                        email,
                        f"{email} is already a list member, do you want to update? please "
                        "provide update_existing:true in the request body",
                        "ERROR_CONTACT_EXISTS",
                    )
                )
                continue
            if existing is None and item.get("status") not in STATUSES:
                errors.append(batch_error(email, "Status is required", "ERROR_GENERIC", "status"))
                continue
            result = self._apply(req, list_id, existing, item, email, source="api")
            if isinstance(result, Response):
                errors.append(batch_error(email, "The member could not be saved", "ERROR_GENERIC"))
                continue
            (updated if existing else created).append(result)
        return json_response(
            {
                "new_members": created,
                "updated_members": updated,
                "errors": errors,
                "total_created": len(created),
                "total_updated": len(updated),
                "error_count": len(errors),
                "_links": [],
            }
        )

    @route("POST", r"/3.0/lists/(?P<list_id>\w+)/members/(?P<digest>[^/]+)/tags")
    def tags_post(self, req: Request, list_id: str, digest: str) -> Response:
        if missing := self._list(req, list_id):
            return missing
        store = self.app.store
        digest = normal_hash(digest)
        doc = store.get_json(V, list_id, "member", digest)
        if doc is None:
            return self.not_found(req)
        body = req.json()
        tags = body.get("tags") if isinstance(body, dict) else None
        if not isinstance(tags, list):
            return problem("Invalid Resource", 400, "tags must be an array.")
        names = {t["name"] for t in doc["tags"]}
        for tag in tags:
            if tag.get("status") == "inactive":
                names.discard(tag.get("name"))
            else:
                names.add(tag.get("name"))
        doc["tags"] = [tag_doc(n) for n in sorted(names)]
        doc["tags_count"] = len(names)
        compliance = bool(
            store.rows(V, list_id, "member", "id = ? AND type = 'compliance'", (digest,), "id")
        )
        store.put(member_rec(list_id, doc, compliance))
        return empty(204)

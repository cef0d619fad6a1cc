"""Mailchimp: Marketing API 3.0 (https://{dc}.api.mailchimp.com/3.0), the master of consent.

As the real API does, setting `status` on an existing member changes it (a PUT or a batch with
update_existing). The console must never do that from Brightpearl data, so every status change
is logged with its source ("api" for API calls), and the control API shows the log
(collection `status_changes`). Errors are application/problem+json.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx

from connectors.mailchimp.fake_batches import (
    BatchRunner,
    check_operations,
    pending_count,
    public_batches,
)
from connectors.mailchimp.fake_batches import submit as batch_submit
from connectors.ometria.fake import valid_email
from connectors.sandbox.core import (
    PROBLEM_JSON,
    Account,
    Request,
    Response,
    Router,
    Vendor,
    dumps,
    empty,
    iso_seconds,
    json_response,
    parse_time,
    raw_json,
    sortable,
    utcnow,
)
from connectors.sandbox.deliveries import Delivery
from connectors.sandbox.state import Rec

if TYPE_CHECKING:
    from connectors.sandbox.server import App

V = "mailchimp"
STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending", "transactional")
ERRORS_DOC = "https://mailchimp.com/developer/marketing/docs/errors/"


def subscriber_hash(email: str) -> str:
    return hashlib.md5(email.strip().lower().encode()).hexdigest()


def problem(title: str, status: int, detail: str, **extra: Any) -> Response:
    return json_response(
        {
            "type": ERRORS_DOC,
            "title": title,
            "status": status,
            "detail": detail,
            "instance": str(uuid.uuid4()),
            **extra,
        },
        status,
        content_type=PROBLEM_JSON,
    )


def member_doc(
    *,
    list_id: str,
    email: str,
    status: str,
    first: str,
    last: str,
    web_id: int,
    changed: datetime,
    tags: list[str] | None = None,
    merge_fields: dict[str, Any] | None = None,
    vip: bool = False,
    reason: str = "",
) -> dict[str, Any]:
    """A list member as GET /lists/{id}/members/{hash} answers it."""
    digest = subscriber_hash(email)
    doc: dict[str, Any] = {
        "id": digest,
        "email_address": email,
        "unique_email_id": hashlib.md5(f"u:{email.lower()}".encode()).hexdigest()[:10],
        "contact_id": hashlib.md5(f"c:{email.lower()}".encode()).hexdigest(),
        "full_name": f"{first} {last}".strip(),
        "web_id": web_id,
        "email_type": "html",
        "status": status,
        "consents_to_one_to_one_messaging": True,
        "merge_fields": {
            "FNAME": first,
            "LNAME": last,
            "ADDRESS": "",
            "PHONE": "",
            **(merge_fields or {}),
        },
        "stats": {"avg_open_rate": 0, "avg_click_rate": 0},
        "ip_signup": "",
        "timestamp_signup": iso_seconds(changed),
        "ip_opt": "",
        "timestamp_opt": iso_seconds(changed),
        "member_rating": 2,
        "last_changed": iso_seconds(changed),
        "language": "en",
        "vip": vip,
        "email_client": "",
        "location": {
            "latitude": 0,
            "longitude": 0,
            "gmtoff": 0,
            "dstoff": 0,
            "country_code": "GB",
            "timezone": "",
            "region": "",
        },
        "source": "API - Generic",
        "tags_count": len(tags or []),
        "tags": [_tag(name) for name in tags or []],
        "list_id": list_id,
        "_links": [
            {"rel": "self", "href": f"/3.0/lists/{list_id}/members/{digest}", "method": "GET"}
        ],
    }
    if status == "unsubscribed":
        doc["unsubscribe_reason"] = reason or "N/A (Unsubscribed by an admin)"
    return doc


def _tag(name: str) -> dict[str, Any]:
    return {"id": int(hashlib.md5(name.encode()).hexdigest()[:6], 16), "name": name}


def member_rec(list_id: str, doc: dict[str, Any], compliance: bool = False) -> Rec:
    return Rec(
        V,
        list_id,
        "member",
        doc["id"],
        dumps(doc),
        num=doc["web_id"],
        updated=sortable(parse_time(doc["last_changed"])),
        parent=list_id,
        status=doc["status"],
        # A member "in compliance state" refuses every upsert; the API never shows why.
        type="compliance" if compliance else None,
        lookup=doc["email_address"].lower(),
    )


def list_doc(account: Account, stats: dict[str, int], created: str) -> dict[str, Any]:
    list_id = account.code
    return {
        "id": list_id,
        "web_id": int(list_id[:6], 16) if all(c in "0123456789abcdef" for c in list_id[:6]) else 1,
        "name": account.creds.get("list_name", "Sandbox audience"),
        "contact": {
            "company": account.creds.get("list_name", "Sandbox audience"),
            "address1": "1 High Street",
            "address2": "",
            "city": "London",
            "state": "",
            "zip": "EC1A 1AA",
            "country": "GB",
            "phone": "",
        },
        "permission_reminder": "You signed up on our website.",
        "use_archive_bar": True,
        "campaign_defaults": {
            "from_name": "Sandbox",
            "from_email": "news@example.com",
            "subject": "",
            "language": "en",
        },
        "notify_on_subscribe": "",
        "notify_on_unsubscribe": "",
        "date_created": created,
        "list_rating": 3,
        "email_type_option": False,
        "subscribe_url_short": "http://eepurl.com/sandbox",
        "subscribe_url_long": f"https://sandbox.us1.list-manage.com/subscribe?id={list_id}",
        "beamer_address": f"us1-{list_id}@inbound.mailchimp.com",
        "visibility": "prv",
        "double_optin": False,
        "has_welcome": False,
        "marketing_permissions": False,
        "modules": [],
        "stats": {
            "member_count": stats.get("subscribed", 0),
            "unsubscribe_count": stats.get("unsubscribed", 0),
            "cleaned_count": stats.get("cleaned", 0),
            "member_count_since_send": 0,
            "unsubscribe_count_since_send": 0,
            "cleaned_count_since_send": 0,
            "campaign_count": 0,
            "campaign_last_sent": "",
            "merge_field_count": 4,
            "avg_sub_rate": 0,
            "avg_unsub_rate": 0,
            "target_sub_rate": 0,
            "open_rate": 0,
            "click_rate": 0,
            "last_sub_date": "",
            "last_unsub_date": "",
        },
        "_links": [{"rel": "self", "href": f"/3.0/lists/{list_id}", "method": "GET"}],
    }


class Mailchimp(Vendor):
    name = V
    router = Router()
    route = router.route

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.batches = BatchRunner(app, self)
        # A sandbox restarted on kept data picks up the batches it had not finished.
        if self.batches.unfinished():
            self.batches.wake()

    def close(self) -> None:
        self.batches.stop()

    def _api_key(self, req: Request) -> str:
        header = req.headers.get("Authorization") or ""
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip()).decode()
            except (ValueError, UnicodeDecodeError):
                return ""
            return decoded.partition(":")[2]
        if scheme.lower() in ("bearer", "apikey"):
            return value.strip()
        return ""

    def bucket(self, req: Request) -> str:
        account = self.app.accounts.find(V, "api_key", self._api_key(req))
        return account.code if account else "-"

    def authenticate(self, req: Request) -> Response | None:
        key = self._api_key(req)
        account = self.app.accounts.find(V, "api_key", key) if key else None
        if account is None:
            return problem(
                "API Key Invalid",
                401,
                "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
            )
        req.account = account
        return None

    def throttled(self, req: Request) -> Response:
        return problem(
            "Too Many Requests",
            429,
            "You have exceeded the limit of 10 simultaneous connections.",
        )

    def server_error(self, req: Request) -> Response:
        return problem("Internal Server Error", 500, "An unexpected internal error has occurred.")

    def not_found(self, req: Request) -> Response:
        return problem("Resource Not Found", 404, "The requested resource could not be found.")

    def method_not_allowed(self, req: Request) -> Response:
        return problem(
            "Method Not Allowed", 405, "The requested method and resource are not compatible."
        )

    def bad_request(self, req: Request, message: str) -> Response:
        return problem("JSON Schema Validation Failed", 400, message)

    def _list(self, req: Request, list_id: str) -> Response | None:
        if list_id != req.account.code:
            return self.not_found(req)
        return None

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
        text = self.app.store.get(V, list_id, "member", _normal_hash(digest))
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
        digest = _normal_hash(digest)
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
                    _batch_error(email, "Invalid email address", "ERROR_GENERIC", "email_address")
                )
                continue
            digest = subscriber_hash(email)
            found = store.rows(V, list_id, "member", "id = ?", (digest,), "data, type")
            if found and found[0][1] == "compliance":
                errors.append(
                    _batch_error(
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
                    _batch_error(
                        email,
                        f"{email} is already a list member, do you want to update? please "
                        "provide update_existing:true in the request body",
                        "ERROR_CONTACT_EXISTS",
                    )
                )
                continue
            if existing is None and item.get("status") not in STATUSES:
                errors.append(_batch_error(email, "Status is required", "ERROR_GENERIC", "status"))
                continue
            result = self._apply(req, list_id, existing, item, email, source="api")
            if isinstance(result, Response):
                errors.append(_batch_error(email, "The member could not be saved", "ERROR_GENERIC"))
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
        digest = _normal_hash(digest)
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
        doc["tags"] = [_tag(n) for n in sorted(names)]
        doc["tags_count"] = len(names)
        compliance = bool(
            store.rows(V, list_id, "member", "id = ? AND type = 'compliance'", (digest,), "id")
        )
        store.put(member_rec(list_id, doc, compliance))
        return empty(204)

    @route("GET", r"/3.0/lists/(?P<list_id>\w+)/webhooks")
    def webhooks_get(self, req: Request, list_id: str) -> Response:
        if missing := self._list(req, list_id):
            return missing
        rows = self.app.store.rows(V, list_id, "webhook", columns="data")
        text = (
            '{"webhooks":['
            + ",".join(r[0] for r in rows)
            + f'],"list_id":"{list_id}","total_items":{len(rows)},"_links":[]}}'
        )
        return raw_json(text)

    @route("POST", r"/3.0/lists/(?P<list_id>\w+)/webhooks")
    def webhooks_post(self, req: Request, list_id: str) -> Response:
        """Register a webhook; like Mailchimp, first check that the URL answers a GET with 200."""
        if missing := self._list(req, list_id):
            return missing
        body = req.json()
        url = body.get("url") if isinstance(body, dict) else None
        if not url:
            return problem("Invalid Resource", 400, "url is required.")
        try:
            answer = httpx.get(url, timeout=self.app.settings.webhook_timeout_seconds)
            reachable = answer.status_code == 200
        except httpx.HTTPError:
            reachable = False
        if not reachable:
            return problem(
                "Invalid Resource",
                400,
                "The resource submitted could not be validated. For field-specific details, "
                "see the 'errors' array.",
                errors=[
                    {
                        "field": "url",
                        "message": "We couldn't verify the URL is working. Please double "
                        "check and try again.",
                    }
                ],
            )
        store = self.app.store
        number = store.max_num(V, list_id, ["webhook"]) + 1
        hook_id = hashlib.md5(f"{list_id}:{number}".encode()).hexdigest()[:10]
        events = {
            "subscribe": False,
            "unsubscribe": False,
            "profile": False,
            "cleaned": False,
            "upemail": False,
            "campaign": False,
            **(body.get("events") or {}),
        }
        sources = {"user": False, "admin": False, "api": False, **(body.get("sources") or {})}
        doc = {
            "id": hook_id,
            "url": url,
            "events": events,
            "sources": sources,
            "list_id": list_id,
            "_links": [],
        }
        store.put(Rec(V, list_id, "webhook", hook_id, dumps(doc), num=number))
        return json_response(doc)

    @route("DELETE", r"/3.0/lists/(?P<list_id>\w+)/webhooks/(?P<hook_id>\w+)")
    def webhooks_delete(self, req: Request, list_id: str, hook_id: str) -> Response:
        if missing := self._list(req, list_id):
            return missing
        if not self.app.store.delete(V, list_id, "webhook", hook_id):
            return self.not_found(req)
        return empty(204)

    # --- batch operations ------------------------------------------------------------------

    @route("POST", r"/3.0/batches")
    def batches_post(self, req: Request) -> Response:
        """Start a batch: {operations:[{method, path, params?, body? (a JSON string),
        operation_id?}]} -> the batch, pending. 429 past the pending-batch limit."""
        body = req.json()
        if not isinstance(body, dict) or "operations" not in body:
            return problem(
                "Invalid Resource",
                400,
                "The resource submitted could not be validated. For field-specific details, "
                "see the 'errors' array.",
                errors=[{"field": "operations", "message": "This value is required"}],
            )
        errors = check_operations(body["operations"])
        if errors:
            return problem(
                "Invalid Resource",
                400,
                "The resource submitted could not be validated. For field-specific details, "
                "see the 'errors' array.",
                errors=errors[:50],
            )
        limit = self.app.settings.mailchimp_batches_pending_max
        if limit and pending_count(self.app, req.account.code) >= limit:
            return problem(
                "Too Many Requests",
                429,
                f"You have more than {limit} pending batches. Please wait for some to finish "
                "before starting more.",
            )
        doc = batch_submit(self.app, req, body["operations"])
        req.after_commit.append(self.batches.wake)
        return json_response(doc)

    @route("GET", r"/3.0/batches")
    def batches_list(self, req: Request) -> Response:
        try:
            count = min(int(req.q("count") or 10), 1000)
            offset = int(req.q("offset") or 0)
        except ValueError:
            return problem("Invalid Resource", 400, "count and offset must be integers.")
        total, rows = public_batches(self.app, req.account.code, count, offset)
        return raw_json('{"batches":[' + ",".join(rows) + f'],"total_items":{total},"_links":[]}}')

    @route("GET", r"/3.0/batches/(?P<batch_id>\w+)")
    def batches_get(self, req: Request, batch_id: str) -> Response:
        text = self.app.store.get(V, req.account.code, "batch", batch_id)
        return raw_json(text) if text else self.not_found(req)

    @route("DELETE", r"/3.0/batches/(?P<batch_id>\w+)")
    def batches_delete(self, req: Request, batch_id: str) -> Response:
        """Stop a batch; as Mailchimp says, its results are then gone too."""
        store = self.app.store
        code = req.account.code
        if not store.delete(V, code, "batch", batch_id):
            return self.not_found(req)
        store.delete(V, code, "batch_job", batch_id)
        store.delete(V, code, "batch_result", batch_id)
        req.after_commit.append(self.batches.wake)
        return empty(204)

    def nested_batch(self) -> Response:
        """An operation of a batch may not start another batch."""
        return problem("Invalid Resource", 400, "Batch operations cannot call /batches.")

    # --- back-office changes (control API) ------------------------------------------------

    def unsubscribe(
        self,
        req: Request,
        email: str,
        reason: str = "manual",
        source: str = "user",
        copies: int = 1,
    ) -> dict[str, Any] | None:
        """A member unsubscribes (source "user") or is unsubscribed ("admin"); fire webhooks."""
        account = req.account
        list_id = account.code
        store = self.app.store
        digest = subscriber_hash(email)
        found = store.rows(V, list_id, "member", "id = ?", (digest,), "data, type")
        if not found:
            return None
        doc = json.loads(found[0][0])
        now = utcnow()
        old = doc["status"]
        doc["status"] = "unsubscribed"
        doc["unsubscribe_reason"] = reason
        doc["last_changed"] = iso_seconds(now)
        store.put(member_rec(list_id, doc, found[0][1] == "compliance"))
        self._log_status(list_id, doc, old, "unsubscribed", source)
        form = [
            ("type", "unsubscribe"),
            ("fired_at", now.strftime("%Y-%m-%d %H:%M:%S")),
            ("data[action]", "unsub"),
            ("data[reason]", reason),
            ("data[id]", doc["unique_email_id"]),
            ("data[list_id]", list_id),
            ("data[email]", doc["email_address"]),
            ("data[email_type]", doc["email_type"]),
            ("data[merges][EMAIL]", doc["email_address"]),
            ("data[merges][FNAME]", doc["merge_fields"].get("FNAME", "")),
            ("data[merges][LNAME]", doc["merge_fields"].get("LNAME", "")),
            ("data[merges][INTERESTS]", ""),
            ("data[ip_opt]", doc.get("ip_opt", "")),
            ("data[campaign_id]", ""),
        ]
        body = urlencode(form).encode()
        for (text,) in store.rows(V, list_id, "webhook", columns="data"):
            hook = json.loads(text)
            if not hook["events"].get("unsubscribe") or not hook["sources"].get(source):
                continue
            delivery = Delivery(
                vendor=V,
                account=list_id,
                event="unsubscribe",
                hook_id=hook["id"],
                method="POST",
                url=hook["url"],
                body=body,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "User-Agent": "MailChimp",
                },
                # Mailchimp retries for about 75 minutes.
                max_attempts=20,
                extra={"email": doc["email_address"]},
            )
            req.after_commit.append(lambda d=delivery: self.app.deliverer.enqueue(d, copies))
        return doc


def _batch_error(email: str, message: str, code: str, field: str = "") -> dict[str, str]:
    return {
        "email_address": email,
        "error": message,
        "error_code": code,
        "field": field,
        "field_message": message if field else "",
    }


def _normal_hash(digest: str) -> str:
    """Mailchimp also accepts the email itself in place of its hash."""
    return subscriber_hash(digest) if "@" in digest else digest.lower()

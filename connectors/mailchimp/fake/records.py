"""Members, audiences and errors in the JSON Mailchimp serves (seed and writes)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any

from connectors.sandbox.core import (
    PROBLEM_JSON,
    Account,
    Response,
    dumps,
    iso_seconds,
    json_response,
    parse_time,
    sortable,
)
from connectors.sandbox.state import Rec

V = "mailchimp"
STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending", "transactional")
ERRORS_DOC = "https://mailchimp.com/developer/marketing/docs/errors/"


def subscriber_hash(email: str) -> str:
    return hashlib.md5(email.strip().lower().encode(), usedforsecurity=False).hexdigest()


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
        "unique_email_id": hashlib.md5(
            f"u:{email.lower()}".encode(), usedforsecurity=False
        ).hexdigest()[:10],
        "contact_id": hashlib.md5(f"c:{email.lower()}".encode(), usedforsecurity=False).hexdigest(),
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
        "tags": [tag_doc(name) for name in tags or []],
        "list_id": list_id,
        "_links": [
            {"rel": "self", "href": f"/3.0/lists/{list_id}/members/{digest}", "method": "GET"}
        ],
    }
    if status == "unsubscribed":
        doc["unsubscribe_reason"] = reason or "N/A (Unsubscribed by an admin)"
    return doc


def tag_doc(name: str) -> dict[str, Any]:
    return {
        "id": int(hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()[:6], 16),
        "name": name,
    }


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


def batch_error(email: str, message: str, code: str, field: str = "") -> dict[str, str]:
    return {
        "email_address": email,
        "error": message,
        "error_code": code,
        "field": field,
        "field_message": message if field else "",
    }


def normal_hash(digest: str) -> str:
    """Mailchimp also accepts the email itself in place of its hash."""
    return subscriber_hash(digest) if "@" in digest else digest.lower()

"""Duplicates per natural key: several records in one account that share the key a safe create
would look them up by. A chaos test asks this after a run with lost writes and expects none.

    brightpearl  orders (sales orders and credits apart) by externalRef and by reference
                 (customerRef); contacts by primary email, lowercased
    bigcommerce  shipments of one order with the same items and tracking number
    mailchimp    members by subscriber hash (md5 of the lowercased email); the store keys
                 members by it, so a group means the fake itself went wrong
    salesforce   records of one object sharing a value of a field clients upsert by
    ometria      repeated_events: one custom_event id pushed more than once (Ometria merges
                 orders and contacts by id; the docs say nothing of a repeated event id)

Every group lists its ids and, in `new_ids`, those a request created (`store.note_created`;
Ometria: the pushes) since the reset, or since `since`. With `created_after_seed` or `since`,
only groups with a new id are listed: the seed's own duplicates (contacts 201 and 202 share an
email on purpose) are then left out unless a request added one more.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from connectors.mailchimp.fake import subscriber_hash
from connectors.salesforce.fake import EXTERNAL_ID_KIND
from connectors.sandbox.core import Account, parse_time, sortable
from connectors.sandbox.throttle import VENDORS

if TYPE_CHECKING:
    from connectors.sandbox.server import App

ORDER_TYPES = {"1": "SO", "2": "PO", "3": "SC", "4": "PC"}


def find_duplicates(
    app: App,
    vendor: str | None = None,
    *,
    account: str | None = None,
    since: str | None = None,
    created_after_seed: bool = False,
) -> dict[str, Any]:
    """{"count": groups, "groups": [{vendor, account, collection, key_name, key, ids, new_ids}]}.

    `account`: a brand key (its account at each vendor) or an account code; default all.
    `since`: an ISO time; only groups with a record created at or after it.
    `created_after_seed`: only groups with a record created since the reset (by any request).
    """
    if vendor is not None and vendor not in VENDORS:
        raise ValueError(f"vendor must be one of {', '.join(VENDORS)}")
    after = sortable(parse_time(since)) if since else None
    accounts = [
        a
        for a in app.accounts.all()
        if (vendor is None or a.vendor == vendor)
        and (account is None or account in (a.brand, a.code))
    ]
    groups: list[dict[str, Any]] = []
    with app.store.transaction():
        for acc in sorted(accounts, key=lambda a: (VENDORS.index(a.vendor), a.brand)):
            for group in FINDERS[acc.vendor](app, acc, after):
                if (after is not None or created_after_seed) and not group["new_ids"]:
                    continue
                groups.append({"vendor": acc.vendor, "account": acc.code, **group})
    return {"count": len(groups), "groups": groups}


def _groups(
    collection: str,
    key_name: str,
    pairs: Iterable[tuple[str, Any]],
    created: dict[str, str],
    after: str | None,
    id_type: Callable[[str], Any] = str,
) -> list[dict[str, Any]]:
    """Groups of (key, id) pairs sharing a key; `created` says which ids a request made."""
    by_key: dict[Any, list[str]] = defaultdict(list)
    for key, rec_id in pairs:
        if key not in (None, ""):
            by_key[key].append(str(rec_id))
    out = []
    for key, ids in by_key.items():
        if len(ids) < 2:
            continue
        ids = sorted(set(ids), key=lambda i: (len(i), i))
        new = [i for i in ids if i in created and (after is None or created[i] >= after)]
        out.append(
            {
                "collection": collection,
                "key_name": key_name,
                "key": key,
                "ids": [id_type(i) for i in ids],
                "new_ids": [id_type(i) for i in new],
            }
        )
    return sorted(out, key=lambda g: str(g["key"]))


def _brightpearl(app: App, account: Account, after: str | None) -> list[dict[str, Any]]:
    store = app.store
    # Search rows carry externalRef at [12] and customerRef (the order's reference) at [7].
    rows = store.rows(
        "brightpearl",
        account.code,
        "order",
        columns="id, type, json_extract(row, '$[12]'), json_extract(row, '$[7]')",
    )
    created = store.created("brightpearl", account.code, "order")
    groups = []
    for type_id, type_code in ORDER_TYPES.items():
        typed = [r for r in rows if r[1] == type_id]
        for key_name, index in (("externalRef", 2), ("reference", 3)):
            pairs = ((r[index], r[0]) for r in typed)
            found = _groups("orders", key_name, pairs, created, after, int)
            groups += [{**g, "order_type": type_code} for g in found]
    contacts = store.rows(
        "brightpearl", account.code, "contact", "lookup IS NOT NULL", columns="lookup, id"
    )
    created = store.created("brightpearl", account.code, "contact")
    groups += _groups("contacts", "email", contacts, created, after, int)
    # An order paid twice: two RECEIPTs recorded against one order.
    receipts = store.rows(
        "brightpearl", account.code, "customer_payment", "status = 'RECEIPT'", columns="parent, id"
    )
    created = store.created("brightpearl", account.code, "customer_payment")
    return groups + _groups("customer_payments", "orderId", receipts, created, after, int)


def _bigcommerce(app: App, account: Account, after: str | None) -> list[dict[str, Any]]:
    def key(doc: dict[str, Any]) -> str:
        items = ",".join(
            f"{i['order_product_id']}x{i['quantity']}"
            for i in sorted(doc["items"], key=lambda i: (i["order_product_id"], i["quantity"]))
        )
        return f"{doc['order_id']}|{doc.get('tracking_number') or ''}|{items}"

    rows = app.store.rows("bigcommerce", account.code, "shipment", columns="id, data")
    pairs = ((key(json.loads(data)), rec_id) for rec_id, data in rows)
    created = app.store.created("bigcommerce", account.code, "shipment")
    return _groups("shipments", "order_id|tracking_number|items", pairs, created, after, int)


def _mailchimp(app: App, account: Account, after: str | None) -> list[dict[str, Any]]:
    rows = app.store.rows("mailchimp", account.code, "member", columns="lookup, id")
    pairs = ((subscriber_hash(email), rec_id) for email, rec_id in rows if email)
    created = app.store.created("mailchimp", account.code, "member")
    return _groups("members", "subscriber_hash", pairs, created, after)


def _salesforce(app: App, account: Account, after: str | None) -> list[dict[str, Any]]:
    store = app.store
    declared = [
        json.loads(data)
        for (data,) in store.rows("sandbox", account.code, EXTERNAL_ID_KIND, columns="data")
    ]
    groups = []
    for field in sorted(declared, key=lambda f: (f["object"], f["field"])):
        obj, name = field["object"], field["field"]
        pairs = store.conn().execute(
            "SELECT value, id FROM keys WHERE vendor='salesforce' AND account=? AND kind=? "
            "AND field=?",
            (account.code, obj, name),
        )
        created = store.created("salesforce", account.code, obj)
        groups += _groups(obj, name, pairs, created, after)
    return groups


def _ometria(app: App, account: Account, after: str | None) -> list[dict[str, Any]]:
    """One group per custom_event id pushed more than once; its ids are the pushes'
    request_ids (the record is one; the pushes are what repeated)."""
    rows = app.store.conn().execute(
        "SELECT id, at, data FROM log WHERE vendor='ometria' AND account=? AND kind='push' "
        "AND id LIKE 'custom_event/%' ORDER BY seq",
        (account.code,),
    )
    pushes: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key, at, data in rows:
        pushes[key.partition("/")[2]].append((json.loads(data)["request_id"], at))
    # The push log's times are whole seconds: a push in the same second as `since` counts as
    # new (better one extra group in a report than a missed duplicate).
    floor = after[:19] if after else None
    groups = []
    for event_id, sent in sorted(pushes.items()):
        if len(sent) < 2:
            continue
        new = [r for r, at in sent if floor is None or sortable(parse_time(at))[:19] >= floor]
        groups.append(
            {
                "collection": "repeated_events",
                "key_name": "id",
                "key": event_id,
                "ids": [r for r, _ in sent],
                "new_ids": new,
                "pushes": len(sent),
            }
        )
    return groups


FINDERS: dict[str, Callable[[App, Account, str | None], list[dict[str, Any]]]] = {
    "brightpearl": _brightpearl,
    "ometria": _ometria,
    "mailchimp": _mailchimp,
    "bigcommerce": _bigcommerce,
    "salesforce": _salesforce,
}

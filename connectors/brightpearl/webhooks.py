"""Brightpearl's webhooks: ids only, authenticated by the secret in the address.

Registered with `POST /integration-service/webhook` (subscribeTo, httpMethod, uriTemplate,
bodyTemplate, contentType, idSetAccepted, qualityOfService). Brightpearl signs nothing: the
body is exactly the template the console registered (BRIGHTPEARL_BODY), with the account
code, the event and an id set such as `1-5,99,202` filled in; the records are read from
Brightpearl afterwards. With qualityOfService 1 delivery is at least once, and a 4xx answer
is not retried (api-docs.brightpearl.com/integration/webhook/post.html).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from connectors.brightpearl.events import EVENT_LIST, undocumented_events
from connectors.brightpearl.idsets import known_ids, parse_idset
from connectors.errors import ConfigurationError
from connectors.webhooks import (
    IdItem,
    Inbound,
    InboundEvent,
    Registration,
    VendorWebhooks,
    WebhookRefused,
    canonical,
    is_stale,
    json_object,
)

if TYPE_CHECKING:
    from connectors.brightpearl.client import Brightpearl
    from connectors.models import Connection

# Ids only, as Brightpearl sends them; raised-on makes each change its own event, so a
# redelivery is recognised as a repeat and a new change to the same order is not.
BRIGHTPEARL_BODY = (
    '{"accountCode":"${account-code}","resourceType":"${resource-type}","id":"${resource-id}",'
    '"lifecycleEvent":"${lifecycle-event}","fullEvent":"${full-event}","raisedOn":"${raised-on}"}'
)
# What one lookup of `known` may carry: an id set of at most this many characters in the
# search's query string (a guess: Brightpearl documents no limit, and common servers refuse
# request lines over 8 KB), and at most 500 ids for a goods-out note GET (its documented
# maximum).
LOOKUP_CHARS = 2_000
# Event resource type -> what its ids are looked up as. Sales credits are orders to
# order-search. Goods-out note search filters goodsOutNoteId as a plain INTEGER, not an id set
# (api-docs.brightpearl.com/warehouse/goods-out-note/search.html): notes are looked up by
# their GET, 500 a call.
LOOKUP_KINDS = {
    "order": "order",
    "sales-credit": "order",
    "sales-order": "order",
    "contact": "contact",
    "product": "product",
    "goods-out-note": "goods-out-note",
}


class BrightpearlWebhooks(VendorWebhooks):
    system = "brightpearl"
    label = "Brightpearl"
    checks_ids = True

    def parse(self, connection: Connection, inbound: Inbound) -> list[InboundEvent]:
        body = json_object(inbound, self.label)
        event = body.get("fullEvent") or ".".join(
            str(body[k]) for k in ("resourceType", "lifecycleEvent") if body.get(k)
        )
        if not event or "id" not in body:
            raise WebhookRefused(
                "The body needs “id” and “fullEvent” (or “resourceType” and “lifecycleEvent”)."
            )
        account = str((connection.settings or {}).get("account", ""))
        if body.get("accountCode") and account and str(body["accountCode"]) != account:
            # Another account's event: its ids would be read from this brand's account.
            raise WebhookRefused(
                f"This address takes the events of Brightpearl account {account}, "
                f"not of “{body['accountCode']}”."
            )
        if not isinstance(body["id"], str | int) or isinstance(body["id"], bool):
            raise WebhookRefused("“id” is not a Brightpearl id set: it must be text.")
        try:
            # Ranges stay ranges: "1-10000" is stored as [1, 10000], not 10,000 ids.
            ids = parse_idset(str(body["id"]))
        except ValueError as exc:
            raise WebhookRefused(f"“id” is not a Brightpearl id set: {exc}") from None
        # The whole body: it holds raisedOn, so only a redelivery repeats it.
        return [
            InboundEvent(event=str(event), resource_ids=ids, body=body, dedupe_key=canonical(body))
        ]

    def matches(self, event: str, declared: tuple[str, ...]) -> bool:
        # "order" covers order.modified.order-status; "order.modified" does too.
        return any(event == d or event.startswith(d + ".") for d in declared)

    def known(
        self, connector: Brightpearl, events: Sequence[tuple[str, list[IdItem]]]
    ) -> list[set[str] | None]:
        """Which ids of each event Brightpearl has: one search filtered by the id set (order,
        contact and product search take an id set), or one goods-out note GET, for all the
        events' small id sets of a kind together; see known_ids."""
        answer: list[set[str] | None] = [None] * len(events)
        by_kind: dict[str, list[int]] = {}
        for index, (event, _) in enumerate(events):
            kind = LOOKUP_KINDS.get(event.split(".")[0])
            if kind:
                by_kind.setdefault(kind, []).append(index)
        for kind, indexes in by_kind.items():
            max_ids = connector.goods_note_batch_size if kind == "goods-out-note" else 10**9
            found = known_ids(
                [events[i][1] for i in indexes],
                lambda items, kind=kind: connector.existing_ids(kind, items),
                max_ids=max_ids,
                max_chars=LOOKUP_CHARS,
            )
            for i, ids in zip(indexes, found, strict=True):
                answer[i] = ids
        return answer

    def register(
        self, connector: Brightpearl, *, url: str, events: list[str], ours: str, live: set[str]
    ) -> Registration:
        # Before any call: Brightpearl may accept a name it does not know and never call it,
        # so a flow would wait for webhooks that never come. Refuse loudly, naming it.
        unknown = undocumented_events(events)
        if unknown:
            names = ", ".join(f"“{e}”" for e in unknown)
            raise ConfigurationError(
                f"Brightpearl has no webhook event called {names}, so nothing was registered. "
                f"Change the flow's webhook events to names from Brightpearl's list "
                f"({EVENT_LIST}).",
                vendor="brightpearl",
                code="unknown_event",
            )
        done = Registration(events=list(events))
        for hook in connector.webhooks():
            uri = str(hook.get("uriTemplate", ""))
            unwanted = uri == url and hook.get("subscribeTo") not in events
            if is_stale(uri, ours=ours, live=live) or unwanted:
                connector.delete_webhook(hook["id"])
                done.removed.append(str(hook.get("subscribeTo")))
        for event in events:
            connector.register_webhook(event, url, BRIGHTPEARL_BODY)
        return done

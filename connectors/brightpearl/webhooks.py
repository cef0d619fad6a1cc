"""Brightpearl's webhooks: ids only, authenticated by the secret in the address.

Registered with `POST /integration-service/webhook` (subscribeTo, httpMethod, uriTemplate,
bodyTemplate, contentType, idSetAccepted, qualityOfService). Brightpearl signs nothing: the
body is exactly the template the console registered (BRIGHTPEARL_BODY), with the account
code, the event and an id set such as `1-5,99,202` filled in; the records are read from
Brightpearl afterwards. With qualityOfService 1 delivery is at least once, and a 4xx answer
is not retried (api-docs.brightpearl.com/integration/webhook/post.html).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.webhooks import (
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
# A range wider than this is not an id set Brightpearl would send (it pages at 200).
_WIDEST_RANGE = 10_000


def parse_idset(value: str) -> list[int]:
    """'1-3,7' → [1, 2, 3, 7]. Raises ValueError with the reason."""
    ids: list[int] = []
    for part in str(value).split(","):
        part = part.strip()
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        if not lo.isdigit() or (sep and not hi.isdigit()):
            raise ValueError(f"“{part}” is not an id or a range of ids.")
        start, end = int(lo), int(hi) if sep else int(lo)
        if end < start or end - start >= _WIDEST_RANGE:
            raise ValueError(f"“{part}” is not a sensible range of ids.")
        ids.extend(range(start, end + 1))
    if not ids:
        raise ValueError("The id set is empty.")
    return ids


class BrightpearlWebhooks(VendorWebhooks):
    system = "brightpearl"
    label = "Brightpearl"

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
        try:
            ids = parse_idset(body["id"])
        except ValueError as exc:
            raise WebhookRefused(f"“id” is not a Brightpearl id set: {exc}") from None
        # The whole body: it holds raisedOn, so only a redelivery repeats it.
        return [
            InboundEvent(event=str(event), resource_ids=ids, body=body, dedupe_key=canonical(body))
        ]

    def matches(self, event: str, declared: tuple[str, ...]) -> bool:
        # "order" covers order.modified.order-status; "order.modified" does too.
        return any(event == d or event.startswith(d + ".") for d in declared)

    def register(
        self, connector: Brightpearl, *, url: str, events: list[str], ours: str, live: set[str]
    ) -> Registration:
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

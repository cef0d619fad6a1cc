"""The Brightpearl events a webhook may subscribe to: only names Brightpearl documents.

`subscribeTo` takes "an event specifier" from "the help site['s] list of available events"
(api-docs.brightpearl.com/integration/webhook/post.html). Brightpearl does not refuse a name
that is not on the list: it may store the webhook and never call it. So the console checks
every name against this list before it registers anything, and an unknown one stops the
registration with the name in the error (`undocumented_events`).

Each name is kept with the page that shows it. A name is added here only with its page.
"""

from __future__ import annotations

# https://help.brightpearl.com/hc/en-us/articles/212644883-Subscribable-resource-events
EVENT_LIST = "https://help.brightpearl.com/hc/en-us/articles/212644883-Subscribable-resource-events"
# https://help.brightpearl.com/hc/en-us/articles/212644863-Webhooks ("Specifiers")
WEBHOOKS_PAGE = "https://help.brightpearl.com/hc/en-us/articles/212644863-Webhooks"
# The official Webhook GET and POST examples subscribe to a whole resource type, and to
# product.deleted (api-docs.brightpearl.com/integration/webhook/get.html, .../post.html).
WEBHOOK_EXAMPLES = "https://api-docs.brightpearl.com/integration/webhook/get.html"

DOCUMENTED_EVENTS: dict[str, str] = {
    # Dropship
    "drop-ship-note.created": EVENT_LIST,
    "drop-ship-note.destroyed": EVENT_LIST,
    "drop-ship-note.modified.shipped": EVENT_LIST,
    # Goods-in
    "goods-in-note.created": EVENT_LIST,
    "quarantine-release.created": EVENT_LIST,
    # Goods-out
    "goods-out-note.created": EVENT_LIST,
    "goods-out-note.destroyed": EVENT_LIST,
    "goods-out-note.modified": EVENT_LIST,
    "goods-out-note.modified.printed": EVENT_LIST,
    "goods-out-note.modified.picked": EVENT_LIST,
    "goods-out-note.modified.packed": EVENT_LIST,
    "goods-out-note.modified.un-printed": EVENT_LIST,
    "goods-out-note.modified.un-picked": EVENT_LIST,
    "goods-out-note.modified.un-packed": EVENT_LIST,
    "goods-out-note.modified.shipped": EVENT_LIST,
    # Order. sales-order.created fires only for orders made with the Sales Order POST.
    # order.modified.order-status: the stored copy of the list we could read stops after
    # sales-order.created; an exact search for the name finds this page first, and a
    # Brightpearl partner's copy of the list (Hotlink's Magento connector) has it under Order.
    "order.modified.fully-shipped": EVENT_LIST,
    "order.modified.order-status": EVENT_LIST,
    "sales-order.created": EVENT_LIST,
    # Product
    "product.modified.on-hand-modified": WEBHOOKS_PAGE,
    # Whole resource types and one more, as the official examples register them.
    "goods-out-note": WEBHOOK_EXAMPLES,
    "product": WEBHOOK_EXAMPLES,
    "product.deleted": WEBHOOK_EXAMPLES,
}


def undocumented_events(events: list[str] | tuple[str, ...]) -> list[str]:
    """The names Brightpearl does not document, in the order given (empty: all known)."""
    return [e for e in events if e not in DOCUMENTED_EVENTS]

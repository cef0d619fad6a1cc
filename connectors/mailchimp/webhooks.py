"""Mailchimp's webhooks: form-encoded callbacks, after a GET that checks the address.

"While Mailchimp sends HTTP POST for actual data, the webhook validator only sends HTTP GET
requests" and the address must answer it with 200 (About Webhooks). Mailchimp signs
nothing and suggests a secret in the URL: the console's address carries one.

A callback is `type=unsubscribe&fired_at=2009-03-26 21:40:57&data[email]=…&data[list_id]=…`
(vendors/examples/mailchimp_webhook_unsubscribe_sample.txt; Mailchimp's legacy sample lists
the fields of subscribe, unsubscribe, profile, upemail, cleaned and campaign). Registered
with `POST /lists/{list_id}/webhooks` and {url, events{…}, sources{user, admin, api}}.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from connectors.webhooks import (
    UNSTORABLE,
    Inbound,
    InboundEvent,
    Registration,
    VendorWebhooks,
    WebhookRefused,
    canonical,
    is_stale,
    storable,
)

if TYPE_CHECKING:
    from connectors.mailchimp.client import Mailchimp
    from connectors.models import Connection

# Every event a list webhook can send; `events` in a registration is one flag per name.
EVENTS = ("subscribe", "unsubscribe", "profile", "cleaned", "upemail", "campaign")
# Whose changes are sent. `api` is off: the console writes members through the API (new
# members, merge fields, tags), and with it on every such write would come straight back as
# a webhook, an echo that costs a run and, for consent, could bounce between the systems.
# The price: an unsubscribe another app makes through the API is not announced; the
# scheduled sweep of unsubscribed members still finds it.
SOURCES = {"user": True, "admin": True, "api": False}
FORM = "application/x-www-form-urlencoded"
_KEY = re.compile(r"\[([^\]]*)\]")
# Mailchimp's deepest key is data[merges][GROUPINGS][0][groups]: five levels.
MAX_KEY_DEPTH = 8


def read_form(text: str) -> dict[str, Any]:
    """Mailchimp's PHP-style keys nested: data[merges][EMAIL]=x → {"data": {"merges":
    {"EMAIL": "x"}}}. A key sent twice keeps its last value (the sample sends data[reason]
    twice). Raises ValueError for a key nested deeper than MAX_KEY_DEPTH (a deep one would
    crash whatever walks the result)."""
    out: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        head, _, rest = key.partition("[")
        path = [head] + (_KEY.findall("[" + rest) if rest else [])
        if len(path) > MAX_KEY_DEPTH:
            raise ValueError(f"A form key is nested more than {MAX_KEY_DEPTH} levels deep.")
        node = out
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[path[-1]] = value
    return out


class MailchimpWebhooks(VendorWebhooks):
    system = "mailchimp"
    label = "Mailchimp"

    def handshake(self, connection: Connection, inbound: Inbound) -> bool:
        return inbound.method in ("GET", "HEAD")

    def parse(self, connection: Connection, inbound: Inbound) -> list[InboundEvent]:
        if inbound.content_type and inbound.content_type != FORM:
            raise WebhookRefused(f"Mailchimp sends its webhooks form-encoded ({FORM}).")
        try:
            body = read_form(inbound.body.decode("utf-8"))
        except UnicodeDecodeError:
            raise WebhookRefused("The body is not UTF-8 text.") from None
        except ValueError as exc:
            raise WebhookRefused(str(exc)) from None
        if not storable(body):
            raise WebhookRefused(UNSTORABLE)
        kind, data = body.get("type"), body.get("data")
        if not isinstance(kind, str) or kind not in EVENTS or not isinstance(data, dict):
            raise WebhookRefused(
                "The body needs a “type” (one of " + ", ".join(EVENTS) + ") and its “data[…]”."
            )
        wanted = str((connection.settings or {}).get("list_id", ""))
        got = str(data.get("list_id") or "")
        if not got:
            raise WebhookRefused("The body names no audience (“data[list_id]”).")
        if not wanted or got != wanted:
            # Another audience's member: consent from it must not change this brand's.
            raise WebhookRefused(
                f"This address takes the events of Mailchimp audience {wanted or '(none set)'}, "
                f"not of “{got}”."
            )
        ids = _ids(kind, data)
        if not ids:
            raise WebhookRefused(f"The “{kind}” event names no member or campaign.")
        # No id or hash in Mailchimp's callback: the whole form, fired_at included, is one
        # event, and only a redelivery repeats it.
        return [InboundEvent(event=kind, resource_ids=ids, body=body, dedupe_key=canonical(body))]

    def register(
        self, connector: Mailchimp, *, url: str, events: list[str], ours: str, live: set[str]
    ) -> Registration:
        """One hook per list and address, with one flag per event. A hook whose events or
        sources are not the wanted ones is removed and made again (Mailchimp then checks the
        address again, with a GET, before it accepts the hook: the console must be
        reachable from Mailchimp)."""
        unknown = sorted(set(events) - set(EVENTS))
        if unknown:
            raise ValueError(f"Mailchimp sends no webhook called {', '.join(unknown)}.")
        done = Registration(events=list(events))
        path = f"{connector.list_path}/webhooks"
        kept = False
        for hook in (connector.http.json("GET", path) or {}).get("webhooks", []):
            address = str(hook.get("url", ""))
            sends = {k for k, v in (hook.get("events") or {}).items() if v}
            sources = {k: bool((hook.get("sources") or {}).get(k)) for k in SOURCES}
            fits = bool(events) and sends == set(events) and sources == SOURCES
            if address == url and fits and not kept:
                kept = True
            elif address == url or is_stale(address, ours=ours, live=live):
                connector.http.request("DELETE", f"{path}/{hook['id']}")
                done.removed.append(",".join(sorted(sends)) or "no events")
        if events and not kept:
            connector.http.json(
                "POST",
                path,
                json_body={
                    "url": url,
                    "events": {name: name in events for name in EVENTS},
                    "sources": SOURCES,
                },
                idempotent=False,
            )
        return done


def _ids(kind: str, data: dict[str, Any]) -> list[str]:
    """What the event is about: the member's email (lower-cased, as Mailchimp hashes it), the
    new address for a changed one, or the campaign."""
    if kind == "campaign":
        value = data.get("id")
    elif kind == "upemail":
        value = data.get("new_email")
    else:
        value = data.get("email")
    value = str(value or "").strip()
    if not value:
        return []
    return [value.lower() if "@" in value else value]

"""The vendor registry: adding a vendor is one package (connectors/<vendor>/) and a line here
(two if it sends webhooks)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from connectors.base import Connector
from connectors.bigcommerce.client import BigCommerce
from connectors.bigcommerce.webhooks import BigCommerceWebhooks
from connectors.brightpearl.client import Brightpearl
from connectors.brightpearl.webhooks import BrightpearlWebhooks
from connectors.errors import ThrottledError
from connectors.mailchimp.client import Mailchimp
from connectors.mailchimp.webhooks import MailchimpWebhooks
from connectors.ometria.client import Ometria
from connectors.salesforce.client import Salesforce
from connectors.salesforce.webhooks import SalesforceWebhooks
from connectors.webhooks import VendorWebhooks

if TYPE_CHECKING:
    from connectors.models import Connection

REGISTRY: dict[str, type[Connector]] = {
    cls.system: cls for cls in (Brightpearl, Ometria, Mailchimp, BigCommerce, Salesforce)
}
# How each vendor that calls the console back is verified, read and registered. Ometria has
# no entry: it sends nothing the console needs (its rejections are read from /v2/push/_errors).
WEBHOOKS: dict[str, VendorWebhooks] = {
    hooks.system: hooks
    for hooks in (
        BrightpearlWebhooks(),
        BigCommerceWebhooks(),
        MailchimpWebhooks(),
        SalesforceWebhooks(),
    )
}


def vendor_class(system: str) -> type[Connector]:
    return REGISTRY[system]


def connector_for(connection: Connection, **options) -> Connector:
    """The connector for a connection (options: transport, priority, max_attempts…)."""
    return REGISTRY[connection.system](connection, **options)


# A page asks a vendor for at most this long: a person is waiting.
LIVE_TIMEOUT = 3.0


def _no_wait(system: str) -> Callable[[], None]:
    def refuse() -> None:
        raise ThrottledError(
            "The allowance of requests is used up for now; a page does not wait for it.",
            vendor=system,
        )

    return refuse


def connector_live(connection: Connection, *, timeout: float = LIVE_TIMEOUT) -> Connector:
    """A connector for a page that someone is waiting on: one attempt, a few seconds, and
    ThrottledError at once (never a wait) when the brand's allowance is spent."""
    connector = connector_for(
        connection, priority=True, max_attempts=1, max_backoff=0.0, timeout=timeout
    )
    connector.budget.on_wait = _no_wait(connection.system)
    return connector


def webhooks_for(system: str) -> VendorWebhooks | None:
    """The vendor's webhooks, or None for a vendor that sends the console none."""
    return WEBHOOKS.get(system)

"""The vendor registry: adding a vendor is one package (connectors/<vendor>/) and a line here
(two if it sends webhooks)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.base import Connector
from connectors.bigcommerce.client import BigCommerce
from connectors.bigcommerce.webhooks import BigCommerceWebhooks
from connectors.brightpearl.client import Brightpearl
from connectors.brightpearl.webhooks import BrightpearlWebhooks
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


def webhooks_for(system: str) -> VendorWebhooks | None:
    """The vendor's webhooks, or None for a vendor that sends the console none."""
    return WEBHOOKS.get(system)

"""The vendor registry: adding a vendor is one module and one line here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.vendors.base import Connector
from connectors.vendors.bigcommerce import BigCommerce
from connectors.vendors.brightpearl import Brightpearl
from connectors.vendors.mailchimp import Mailchimp
from connectors.vendors.ometria import Ometria
from connectors.vendors.salesforce import Salesforce

if TYPE_CHECKING:
    from connectors.models import Connection

REGISTRY: dict[str, type[Connector]] = {
    cls.system: cls for cls in (Brightpearl, Ometria, Mailchimp, BigCommerce, Salesforce)
}


def vendor_class(system: str) -> type[Connector]:
    return REGISTRY[system]


def connector_for(connection: Connection, **options) -> Connector:
    """The connector for a connection (options: transport, priority, max_attempts…)."""
    return REGISTRY[connection.system](connection, **options)

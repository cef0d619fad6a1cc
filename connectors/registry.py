"""The vendor registry: adding a vendor is one package (connectors/<vendor>/) and one line here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.base import Connector
from connectors.bigcommerce.client import BigCommerce
from connectors.brightpearl.client import Brightpearl
from connectors.mailchimp.client import Mailchimp
from connectors.ometria.client import Ometria
from connectors.salesforce.client import Salesforce

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

"""The vendor registry: adding a vendor is one module and one line here."""

from connectors.vendors.base import Connector
from connectors.vendors.bigcommerce import BigCommerce
from connectors.vendors.brightpearl import Brightpearl
from connectors.vendors.mailchimp import Mailchimp
from connectors.vendors.ometria import Ometria
from connectors.vendors.salesforce import Salesforce

REGISTRY: dict[str, type[Connector]] = {
    cls.system: cls for cls in (Brightpearl, Ometria, Mailchimp, BigCommerce, Salesforce)
}


def vendor_class(system: str) -> type[Connector]:
    return REGISTRY[system]

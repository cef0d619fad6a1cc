"""BigCommerce, the storefront."""

from connectors.vendors.base import Connector
from connectors.vendors.fields import Field


class BigCommerce(Connector):
    system = "bigcommerce"
    label = "BigCommerce"
    default_base_url = "https://api.bigcommerce.com"
    credential_fields = (Field("access_token", "Access token", "Sent as X-Auth-Token."),)
    setting_fields = (Field("store_hash", "Store hash", "The code in /stores/{store_hash}/."),)

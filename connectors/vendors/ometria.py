"""Ometria, the marketing platform."""

from connectors.vendors.base import Connector
from connectors.vendors.fields import Field


class Ometria(Connector):
    system = "ometria"
    label = "Ometria"
    default_base_url = "https://api.ometria.com"
    credential_fields = (Field("api_key", "API key", "Sent as X-Ometria-Auth."),)

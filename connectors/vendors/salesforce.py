"""Salesforce, the CRM."""

from connectors.vendors.base import Connector
from connectors.vendors.fields import Field


class Salesforce(Connector):
    system = "salesforce"
    label = "Salesforce"
    default_base_url = "https://login.salesforce.com"
    credential_fields = (
        Field("client_id", "Client id", "The connected app's consumer key."),
        Field("client_secret", "Client secret", "The connected app's consumer secret."),
    )
    setting_fields = (Field("api_version", "API version", "For example v61.0.", required=False),)

"""Brightpearl, the ERP and source of truth."""

from connectors.vendors.base import Connector
from connectors.vendors.fields import Field


class Brightpearl(Connector):
    system = "brightpearl"
    label = "Brightpearl"
    default_base_url = "https://euw1.brightpearlconnect.com"
    credential_fields = (
        Field("app_ref", "App reference", "The private app's reference (brightpearl-app-ref)."),
        Field("account_token", "Account token", "The private app's token."),
    )
    setting_fields = (Field("account", "Account code", "The account id in every API path."),)

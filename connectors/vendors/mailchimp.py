"""Mailchimp, the email platform and master of consent."""

from connectors.vendors.base import Connector
from connectors.vendors.fields import Field


class Mailchimp(Connector):
    system = "mailchimp"
    label = "Mailchimp"
    default_base_url = "https://us1.api.mailchimp.com"
    credential_fields = (
        Field("api_key", "API key", "Ends in the data centre, for example …-us14."),
    )
    setting_fields = (Field("list_id", "Audience (list) id"),)

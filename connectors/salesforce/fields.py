"""What a Salesforce connection asks for: its My Domain address, the kind of sign-in the brand's
org allows, then only the fields that kind needs, each explained in plain English.

Both kinds are server-to-server OAuth 2.0 flows with no person signing in:
- client credentials (help.salesforce.com, "OAuth 2.0 Client Credentials Flow for
  Server-to-Server Integration", id=sf.remoteaccess_oauth_client_credentials_flow.htm): the
  app's consumer key and secret, answered for the app's "Run As" user. Salesforce serves this
  flow only on the org's own My Domain address; login.salesforce.com refuses it.
- JWT bearer (help.salesforce.com, id=sf.remoteaccess_oauth_jwt_flow.htm): a JWT signed RS256
  with the private key of the certificate uploaded to the app, claims iss (consumer key),
  sub (username), aud (login.salesforce.com, test.salesforce.com for a sandbox) and exp.
"""

from __future__ import annotations

from connectors.fields import Field
from connectors.salesforce.order_fields import ORDER_SETTING_FIELDS

CLIENT_CREDENTIALS_HELP = (
    "https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_client_credentials_flow.htm"
)
JWT_HELP = "https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm"
MY_DOMAIN_HELP = "https://help.salesforce.com/s/articleView?id=sf.domain_name_overview.htm"

# The custom field (on Account and Contact) an upsert matches on, unless the org names another.
DEFAULT_EXTERNAL_ID_FIELD = "Brightpearl_Contact_Id__c"
# Product2 is upserted by the SKU, and an upsert matches only on an External ID field (or a
# standard field with the idLookup property): Product2.ProductCode is neither, so the SKU goes
# in a custom field too, unless the org names another.
DEFAULT_PRODUCT_KEY_FIELD = "Brightpearl_SKU__c"
# The Product2 field the available stock goes to, unless the org names another.
DEFAULT_STOCK_FIELD = "AvailableStock__c"

AUTH_KINDS = (
    (
        "client_credentials",
        "Client credentials: the app's consumer key and secret, run as the integration user "
        "chosen in the app (recommended)",
    ),
    (
        "jwt_bearer",
        "JWT bearer: the consumer key, a username and the private key of the certificate "
        "uploaded to the app",
    ),
)

BASE_URL_HELP = (
    "The org's My Domain address, such as https://acme.my.salesforce.com (a sandbox: "
    "https://acme--uat.sandbox.my.salesforce.com). Salesforce shows it in Setup → My Domain. "
    "Why not https://login.salesforce.com: Salesforce gives client-credentials sign-ins only "
    "on the org's own My Domain address, and refuses them on the shared login page "
    f"({MY_DOMAIN_HELP})."
)

SETTING_FIELDS = (
    Field(
        "auth",
        "Kind of sign-in",
        "How the org lets the console in: both need an app in Salesforce (Setup → App Manager "
        "or External Client App Manager) with OAuth on. Salesforce explains each: "
        f"{CLIENT_CREDENTIALS_HELP} (client credentials), {JWT_HELP} (JWT bearer).",
        required=False,
        choices=AUTH_KINDS,
    ),
    Field(
        "jwt_audience",
        "JWT audience",
        "JWT bearer only. Leave it blank: https://login.salesforce.com for a production org, "
        "https://test.salesforce.com for a sandbox (read from the address). Set it only if the "
        "org signs in through an Experience Cloud site.",
        required=False,
        kinds=("jwt_bearer",),
    ),
    Field(
        "external_id_field",
        "Brightpearl id field",
        "The API name of the custom field on Account and on Contact that holds the Brightpearl "
        "contact id, marked External ID and Unique in Salesforce. Leave it blank for "
        f"{DEFAULT_EXTERNAL_ID_FIELD}.",
        required=False,
    ),
    Field("api_version", "API version", "For example v61.0.", required=False),
    Field(
        "product_key_field",
        "Product SKU field",
        "The API name of the custom text field on Product2 that holds the Brightpearl SKU, "
        "marked External ID and Unique in Salesforce: products are upserted by it. Product Code "
        "gets the SKU too, but Salesforce cannot upsert by Product Code (it is not an External "
        f"ID field). Leave it blank for {DEFAULT_PRODUCT_KEY_FIELD}.",
        required=False,
    ),
    Field(
        "stock_field",
        "Stock field",
        "The API name of the number field on Product2 that gets the stock available in "
        f"Brightpearl. Leave it blank for {DEFAULT_STOCK_FIELD}.",
        required=False,
    ),
    Field(
        "stock_warehouses",
        "Warehouses for stock",
        "The Brightpearl warehouse ids whose available stock is added up for Salesforce, "
        "separated by commas, such as 2, 5. Leave it blank to add up every warehouse.",
        required=False,
    ),
    *ORDER_SETTING_FIELDS,
)

CREDENTIAL_FIELDS = (
    Field(
        "client_id",
        "Consumer key",
        "The app's consumer key (its client id): in Salesforce, the app's page → Manage "
        "Consumer Details.",
    ),
    Field(
        "client_secret",
        "Consumer secret",
        "The app's consumer secret, beside the consumer key. The app must have “Enable Client "
        "Credentials Flow” on and a Run As user chosen.",
        kinds=("client_credentials",),
    ),
    Field(
        "username",
        "Username",
        "JWT bearer only: the Salesforce username the console acts as (an integration user "
        "pre-authorised for the app by its profile or a permission set).",
        kinds=("jwt_bearer",),
    ),
    Field(
        "private_key",
        "Private key",
        "JWT bearer only: the PEM private key (-----BEGIN PRIVATE KEY-----…) of the certificate "
        "uploaded to the app under “Use digital signatures”. It signs each sign-in and never "
        "leaves the console.",
        kinds=("jwt_bearer",),
    ),
)

"""The Salesforce connection's settings for orders and credits (issue 15), asked for beside
its sign-in fields (connectors/salesforce/fields.py adds them to its SETTING_FIELDS).

Every name is an API name in the brand's org; each has a default the set-up notes name, so a
brand that created the fields as documented leaves them blank.
"""

from __future__ import annotations

from connectors.fields import Field

ORDER_ID_FIELD = "Brightpearl_Order_Id__c"
ROW_ID_FIELD = "Brightpearl_Row_Id__c"
TRACKING_FIELD = "Brightpearl_Tracking__c"
CREDITED_FIELD = "Brightpearl_Credited__c"
CREDITS_FIELD = "Brightpearl_Credits__c"
RATE_FIELD = "Brightpearl_Exchange_Rate__c"

ORDER_SETTING_FIELDS = (
    Field(
        "pricebook_id",
        "Price book",
        "Orders: the 18-character id of the brand's Salesforce price book (Pricebook2), "
        "whose entries price every order product. Without it the orders flow does not run.",
        required=False,
    ),
    Field(
        "order_id_field",
        "Brightpearl order id field",
        "Orders: the API name of the custom field on Order holding the Brightpearl order id, "
        f"marked External ID and Unique. Leave it blank for {ORDER_ID_FIELD}; order products "
        f"use {ROW_ID_FIELD} on OrderItem the same way.",
        required=False,
    ),
    Field(
        "tracking_field",
        "Tracking field",
        "Orders: the API name of the text field on Order that gets the tracking references of "
        f"the order's shipped goods-out notes. Leave it blank for {TRACKING_FIELD}.",
        required=False,
    ),
    Field(
        "convert_currency",
        "Convert amounts to",
        "Orders and credits: leave it blank to send each order in its own currency (with its "
        "CurrencyIsoCode). A three-letter code (such as GBP) converts every amount into that "
        "currency at Brightpearl's exchange rate of the day the order was placed; the rate "
        f"used is written to {RATE_FIELD} and kept on the record's page.",
        required=False,
    ),
)

"""Salesforce sends the console no webhooks: its changes are polled.

Salesforce has no plain "call this URL when a record changes" subscription. Its ways to push
changes all need more than an HTTPS endpoint (the Change Data Capture developer guide,
"Subscribe to change events"; the SOAP API guide, "Outbound Messaging"):
- Change Data Capture and Platform Events reach a subscriber over CometD or the gRPC
  Pub/Sub API, a long-lived client rather than a webhook, and need objects chosen in Setup;
- Outbound Messages are SOAP `notifications()` calls from a workflow or flow set up per
  object in the org, to be acknowledged in SOAP;
- anything else (Apex callouts) is code installed in the org, a managed package.

So the console reads Salesforce on a schedule (SOQL on SystemModstamp, with a look-back
window), and /hooks/salesforce/<secret>/ answers 404 with that reason.
"""

from __future__ import annotations

from connectors.webhooks import VendorWebhooks


class SalesforceWebhooks(VendorWebhooks):
    system = "salesforce"
    label = "Salesforce"
    registers = False
    closed = (
        "Salesforce does not send webhooks to this console: the console reads Salesforce's "
        "changes on a schedule instead."
    )

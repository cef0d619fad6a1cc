"""Mailchimp: Marketing API 3.0 (https://{dc}.api.mailchimp.com/3.0), the master of consent.

As the real API does, setting `status` on an existing member changes it (a PUT or a batch with
update_existing). The console must never do that from Brightpearl data, so every status change
is logged with its source ("api" for API calls), and the control API shows the log
(collection `status_changes`). Errors are application/problem+json. README.md beside this
package says which vendor page each shape follows.

    base.py          router, API-key auth, problem+json answers, the batch runner
    members.py       audiences, members (one, or a batch subscribe), tags
    webhooks.py      audience webhooks; an unsubscribe (control API) fires them
    batch_routes.py  POST/GET/DELETE /3.0/batches
    batches.py       the batch queue and runner, and the results archive
    records.py       member and audience documents, errors
    ecommerce.py     e-commerce stores, customers, products and orders
    merge_fields.py  an audience's merge fields
"""

from __future__ import annotations

from connectors.mailchimp.fake.batch_routes import BatchRoutes
from connectors.mailchimp.fake.ecommerce import EcommerceRoutes
from connectors.mailchimp.fake.members import MemberRoutes
from connectors.mailchimp.fake.merge_fields import MergeFieldRoutes
from connectors.mailchimp.fake.records import member_doc, member_rec, subscriber_hash
from connectors.mailchimp.fake.webhooks import WebhookRoutes
from connectors.ometria.fake import valid_email

__all__ = ["Mailchimp", "member_doc", "member_rec", "subscriber_hash", "valid_email"]


class Mailchimp(MemberRoutes, WebhookRoutes, BatchRoutes, EcommerceRoutes, MergeFieldRoutes):
    """The Mailchimp fake: every resource's routes on one shared router (see base.py)."""
